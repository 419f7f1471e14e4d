"""Background tasks (django-tasks, the API of Django 6's django.tasks)."""

import datetime
import logging

from django.utils import timezone
from django_tasks import task

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


@task()
def send_signature_email(*, signature_id: int, kind: str, attempt: int = 1) -> str:
    """Send one e-mail about a signature, retrying with back-off on failure.

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
        if attempt >= MAX_ATTEMPTS:
            logger.error(
                "Gave up on %s e-mail for signature %s after %s attempts (%s)",
                kind,
                signature_id,
                attempt,
                type(error).__name__,
            )
            return "failed"
        delay = datetime.timedelta(seconds=min(30 * 2 ** (attempt - 1), 3600))
        send_signature_email.using(run_after=timezone.now() + delay).enqueue(
            signature_id=signature_id, kind=kind, attempt=attempt + 1
        )
        logger.warning(
            "Could not send %s e-mail for signature %s (%s); retry %s in %ss",
            kind,
            signature_id,
            type(error).__name__,
            attempt + 1,
            int(delay.total_seconds()),
        )
        return "retrying"
    return "sent"
