"""Housekeeping of the job queue itself, and the scheduled backups, run by the
Procrastinate worker.

Every worker defers these on schedule; PostgreSQL (procrastinate_periodic_defers,
unique per task and time) lets one defer through per period however many
workers run, and the queueing locks keep a backlog from piling up.
"""

import logging

from django.conf import settings
from procrastinate import builtin_tasks
from procrastinate.contrib.django import app

from core import backups

logger = logging.getLogger(__name__)

FINISHED_JOBS_KEPT_HOURS = 7 * 24
HOUSEKEEPING_JOBS_KEPT_HOURS = 1


def stalled_after_seconds() -> float:
    """Silence after which a worker is taken for dead; the worker's own threshold."""
    return settings.PROCRASTINATE_WORKER_DEFAULTS["stalled_worker_timeout"]


# Every 15 s (the sixth cron field is seconds), ahead of other jobs: with a
# 20 s heartbeat threshold, a job held by a dead worker is queued again
# within 35 s, and a confirmation e-mail is never left undelivered.
@app.periodic(cron="* * * * * */15")
@app.task(
    queue="housekeeping",
    queueing_lock="retry_stalled_jobs",
    priority=10,
    pass_context=True,
)
async def retry_stalled_jobs(context, timestamp: int) -> int:
    """Put back in the queue the jobs of workers that stopped heart-beating.

    A job that was half done runs again from the start: an e-mail may go out
    twice after a crash, never zero times.
    """
    job_manager = context.app.job_manager
    stalled = await job_manager.get_stalled_jobs(
        seconds_since_heartbeat=stalled_after_seconds()
    )
    for job in stalled:
        logger.warning(
            "Retrying job %s (%s): its worker stopped heart-beating",
            job.id,
            job.task_name,
        )
        await job_manager.retry_job(job)
    return len(stalled)


@app.periodic(cron="40 * * * *")
@app.task(queue="housekeeping", queueing_lock="remove_old_jobs", pass_context=True)
async def remove_old_jobs(context, timestamp: int) -> None:
    """Hourly, forget jobs finished (sent, failed or cancelled) over a week ago,
    and the queue's own housekeeping jobs (four a minute) after an hour."""
    for queue, hours in (
        ("housekeeping", HOUSEKEEPING_JOBS_KEPT_HOURS),
        (None, FINISHED_JOBS_KEPT_HOURS),
    ):
        await builtin_tasks.remove_old_jobs(
            context,
            max_hours=hours,
            queue=queue,
            remove_failed=True,
            remove_cancelled=True,
            remove_aborted=True,
        )


# Backups (core/backups.py). The first full backup follows a new cluster or
# repository within minutes without holding up the site's start; then a full
# one each Sunday and a differential one on the other nights, all at 03:00 in
# the server's time, when fewest sign. pgBackRest's own lock keeps two from
# overlapping; the queueing locks keep a backlog from piling up behind one.
@app.periodic(cron="*/5 * * * *")
@app.task(queue="backups", queueing_lock="backup_first")
def backup_first(timestamp: int) -> None:
    if settings.BACKUP_SCHEDULE:
        backups.backup_create_first()


@app.periodic(cron="0 3 * * 0")
@app.task(queue="backups", queueing_lock="backup_full")
def backup_full(timestamp: int) -> None:
    if settings.BACKUP_SCHEDULE:
        backups.backup_create(kind="full")


@app.periodic(cron="0 3 * * 1-6")
@app.task(queue="backups", queueing_lock="backup_differential")
def backup_differential(timestamp: int) -> None:
    if settings.BACKUP_SCHEDULE:
        backups.backup_create(kind="diff")
