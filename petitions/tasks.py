"""Background tasks (Procrastinate: jobs in PostgreSQL, run by
`manage.py procrastinate worker`)."""

import logging

from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


class EmailNotSent(Exception):
    """The mail server refused or failed; carries the error class, never an address."""


# Waits 60 s, 2 min, 4 min ... between attempts (exponential_wait ** attempt,
# plus a fixed minute).
@app.task(
    queue="emails",
    retry=RetryStrategy(
        max_attempts=MAX_ATTEMPTS - 1,
        wait=60,
        exponential_wait=2,
        retry_exceptions={EmailNotSent},
    ),
)
def send_signature_email(*, signature_id: int, kind: str) -> str:
    """Send one e-mail about a signature; Procrastinate retries it with back-off.

    Only the signature id travels through the queue; the address is read when
    the e-mail is sent, so a withdrawal in the meantime stops it. Logs carry
    ids and error classes, never addresses.
    """
    from .emails import build_signature_email
    from .models import Signature

    signature = (
        Signature.objects.select_related("petition").filter(pk=signature_id).first()
    )
    if signature is None or not signature.email:
        return "skipped: no longer exists"
    if signature.status not in Signature.ACTIVE_STATUSES:
        return f"skipped: {signature.status}"
    message = build_signature_email(signature, kind)
    try:
        message.send()
    except Exception as error:
        logger.warning(
            "Could not send %s e-mail for signature %s (%s)",
            kind,
            signature_id,
            type(error).__name__,
        )
        # The original error's text may name the address: not chained.
        raise EmailNotSent(type(error).__name__) from None
    return "sent"
