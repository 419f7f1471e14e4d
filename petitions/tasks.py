"""Background jobs of the petitions app (Procrastinate, run by the worker).

Procrastinate finds this module by name (tasks.py) when Django starts.
"""

import io
import logging

from django.core.management import call_command
from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from core.workers import drop_broken_connection

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


@app.periodic(cron="17 * * * *")
@app.task(queue="housekeeping", queueing_lock="purge_expired_data")
def purge_expired_data(timestamp: int) -> str:
    """Hourly, what the privacy notice says we do not keep (the command's job)."""
    output = io.StringIO()
    call_command("purge_expired_data", stdout=output)
    return output.getvalue().strip()


# ------------------------------------------------------------------------------
# Organisers' tools (petitions.fraud, petitions.milestones)
# ------------------------------------------------------------------------------
@app.periodic(cron="5 * * * *")
@app.task(queue="housekeeping", queueing_lock="check_signature_anomalies")
def check_signature_anomalies(timestamp: int) -> int:
    """Hourly, e-mail organisers about sources past the fraud threshold.

    The check looks at the current and the previous hour and alerts on each
    value once, so a run that is late or repeated neither misses nor repeats.
    """
    from .fraud import signature_anomalies_check

    return len(signature_anomalies_check())


@app.task(queue="organisers", retry=RetryStrategy(max_attempts=5, wait=30))
def run_bulk_invalidation(*, bulk_id: int) -> str:
    """Run an invalidation by criteria the admin queued (petitions.fraud).

    One transaction: a job killed half-way leaves nothing done, and the retry
    (or retry_stalled_jobs) runs it from the start; a done one is left alone.
    """
    from .fraud import bulk_invalidation_run

    # A retry after a database restart needs a fresh connection.
    drop_broken_connection()
    bulk = bulk_invalidation_run(bulk_id=bulk_id)
    if bulk is None:
        return "skipped: no longer exists"
    return f"{bulk.count} invalidated"


@app.periodic(cron="*/5 * * * *")
@app.task(queue="housekeeping", queueing_lock="detect_milestones")
def detect_milestones(timestamp: int) -> dict:
    """Every five minutes: record the goals petitions have newly reached, and
    queue the note of every milestone still to announce (a new one, or one
    whose sending was cut short)."""
    from .milestones import milestones_detect, milestones_start_notes

    found = milestones_detect()
    return {"found": len(found), "sending": milestones_start_notes()}


@app.task(
    queue="newsletter",
    retry=RetryStrategy(max_attempts=10, wait=30),
)
def send_milestone_notes(*, milestone_id: int) -> dict:
    """Send a milestone's note to its recipients (petitions.milestones)."""
    from .milestones import milestone_notes_send

    # Long and retried like the newsletter's batches: same connection care.
    drop_broken_connection()
    try:
        result = milestone_notes_send(milestone_id=milestone_id)
    finally:
        drop_broken_connection()
    return {"sent": result.sent, "failed": result.failed, "in_doubt": result.in_doubt}
