"""Background jobs of the petitions app (Procrastinate, run by the worker).

Procrastinate finds this module by name (tasks.py) when Django starts.
"""

import logging

from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from .emails import build_signature_email
from .models import Signature
from .outbox import MAX_ATTEMPTS, RETRY_BASE_SECONDS

logger = logging.getLogger(__name__)


class EmailNotSent(Exception):
    """A send failed; carries the error's class only, since the worker logs the
    exception and SMTP errors can quote the recipient's address."""


@app.task(
    queue="emails",
    # Procrastinate's max_attempts counts retries, after the first run.
    retry=RetryStrategy(
        max_attempts=MAX_ATTEMPTS - 1, exponential_wait=RETRY_BASE_SECONDS
    ),
    pass_context=False,
)
def send_signature_email(*, signature_id: int, kind: str) -> str:
    """Send one e-mail about a signature: kept only for the jobs queued before
    the signature row became its own outbox (petitions.outbox, migration
    petitions 0014), so that those still run after the upgrade. Nothing
    defers it any more; it can go once no such job is left.

    Only the signature id travels through the queue; the address is read when
    the e-mail is sent, so a withdrawal in the meantime stops it. Logs carry
    ids and error classes, never addresses. After MAX_ATTEMPTS failures the job
    ends as `failed` and the worker logs it at ERROR level.
    """
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
        raise EmailNotSent(type(error).__name__) from None
    return "sent"
