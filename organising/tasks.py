"""Background jobs of the organisers' back office (Procrastinate, run by the worker).

Procrastinate finds this module by name (tasks.py) when Django starts. These
tasks were first written in petitions.tasks; jobs queued under those names
(periodic ones included) still run, by the aliases below.
"""

from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from core.db import connection_drop_if_broken

from .fraud import (
    RUN_BULK_INVALIDATION_TASK,
    bulk_invalidation_run,
    signature_anomalies_check,
)
from .milestones import (
    SEND_MILESTONE_NOTES_TASK,
    milestone_notes_send,
    milestones_detect,
    milestones_start_notes,
)
from .services import retention_run


def _formerly(name: str) -> list[str]:
    return [f"petitions.tasks.{name}"]


@app.periodic(cron="17 * * * *")
@app.task(
    queue="housekeeping",
    queueing_lock="purge_expired_data",
    aliases=_formerly("purge_expired_data"),
)
def purge_expired_data(timestamp: int) -> str:
    """Hourly, the privacy notice's retention rules (organising.services.
    retention_run, as `manage.py purge_expired_data`); each run is recorded
    for the dashboard."""
    return retention_run().summary()


@app.periodic(cron="5 * * * *")
@app.task(
    queue="housekeeping",
    queueing_lock="check_signature_anomalies",
    aliases=_formerly("check_signature_anomalies"),
)
def check_signature_anomalies(timestamp: int) -> int:
    """Hourly, e-mail organisers about sources past the fraud threshold.

    The check looks at the current and the previous hour and alerts on each
    value once, so a run that is late or repeated neither misses nor repeats.
    """
    return len(signature_anomalies_check())


@app.task(
    name=RUN_BULK_INVALIDATION_TASK,
    aliases=_formerly("run_bulk_invalidation"),
    queue="organisers",
    retry=RetryStrategy(max_attempts=5, wait=30),
)
def run_bulk_invalidation(*, bulk_id: int) -> str:
    """Run an invalidation by criteria the admin queued (organising.fraud).

    One transaction: a job killed half-way leaves nothing done, and the retry
    (or retry_stalled_jobs) runs it from the start; a done one is left alone.
    """
    # A retry after a database restart needs a fresh connection.
    connection_drop_if_broken()
    bulk = bulk_invalidation_run(bulk_id=bulk_id)
    if bulk is None:
        return "skipped: no longer exists"
    return f"{bulk.count} invalidated"


@app.periodic(cron="*/5 * * * *")
@app.task(
    queue="housekeeping",
    queueing_lock="detect_milestones",
    aliases=_formerly("detect_milestones"),
)
def detect_milestones(timestamp: int) -> dict:
    """Every five minutes: record the goals petitions have newly reached, and
    queue the note of every milestone still to announce (a new one, or one
    whose sending was cut short)."""
    found = milestones_detect()
    return {"found": len(found), "sending": milestones_start_notes()}


@app.task(
    name=SEND_MILESTONE_NOTES_TASK,
    aliases=_formerly("send_milestone_notes"),
    queue="newsletter",
    retry=RetryStrategy(max_attempts=10, wait=30),
)
def send_milestone_notes(*, milestone_id: int) -> dict:
    """Send a milestone's queued notes through the newsletter's delivery
    engine (organising.milestones). Retried if it crashes: the notes it held
    come back by the lease rule at the next detection tick."""
    # Long and retried like the newsletter's batches: same connection care.
    connection_drop_if_broken()
    try:
        result = milestone_notes_send(milestone_id=milestone_id)
    finally:
        connection_drop_if_broken()
    return {"sent": result.sent, "failed": result.failed, "in_doubt": result.in_doubt}
