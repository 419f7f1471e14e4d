"""The retention rules the privacy notice promises, run by the worker.

`retention_run` applies every rule once and records what it did in a
RetentionRun (numbers only), which the organisers' dashboard shows. The
hourly job (organising.tasks.purge_expired_data), `manage.py
purge_expired_data` and the tests all call it. Each rule reuses the service
that owns its rows, so counts stay exact: deleted rows were never counted,
anonymised ones keep their status, country and dates.

- unconfirmed signatures: deleted SIGNATURE_PENDING_RETENTION_DAYS after
  signing, when their confirmation link has expired;
- signatures of closed petitions: anonymised SIGNATURE_RETENTION_MONTHS
  after the petition closed, with the names on its paper batches;
- invalidated signatures: anonymised once the invalidation can no longer be
  undone (BULK_INVALIDATION_UNDO_DAYS);
- newsletter addresses never confirmed, or unsubscribed: deleted the same
  number of days after (newsletters.services.subscribers_purge);
- rate-limit counters past every window.
"""

import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.utils import timezone

from newsletters.services import subscribers_purge
from petitions import ratelimit
from petitions import services as petition_services

from .models import RetentionRun
from .paper import paper_batch_names_delete


def retention_cutoffs(now: datetime.datetime) -> dict[str, datetime.datetime]:
    """Rows older than these (strictly) are past their rule's window."""
    return {
        "unconfirmed": now
        - datetime.timedelta(days=settings.SIGNATURE_PENDING_RETENTION_DAYS),
        "closed": now - relativedelta(months=settings.SIGNATURE_RETENTION_MONTHS),
        "invalidated": now
        - datetime.timedelta(days=settings.BULK_INVALIDATION_UNDO_DAYS),
    }


def retention_run(*, now=None, dry_run: bool = False) -> RetentionRun:
    """Apply every retention rule once; return the run's record.

    The record is saved before the work starts and finished after it, so a
    run that stopped half-way shows as unfinished. With `dry_run`, nothing
    is changed or recorded: the unsaved record holds what would be done
    (counters excepted).
    """
    clock, now = now, now or timezone.now()
    cutoffs = retention_cutoffs(now)
    run = RetentionRun(started_at=now)
    if not dry_run:
        run.save()
    run.unconfirmed_deleted = petition_services.signatures_unconfirmed_delete(
        created_before=cutoffs["unconfirmed"], dry_run=dry_run
    )
    run.closed_anonymised = petition_services.signatures_anonymise(
        closed_before=cutoffs["closed"], dry_run=dry_run, now=now
    )
    run.paper_batches_anonymised = paper_batch_names_delete(
        closed_before=cutoffs["closed"], dry_run=dry_run
    )
    run.invalidated_anonymised = petition_services.signatures_invalidated_anonymise(
        invalidated_before=cutoffs["invalidated"], dry_run=dry_run, now=now
    )
    run.subscribers_deleted = subscribers_purge(now=now, dry_run=dry_run)
    if dry_run:
        return run
    run.counters_deleted = ratelimit.purge_expired(
        older_than_seconds=ratelimit.counters_kept_seconds()
    )
    # A run given its time (a fixed clock) finishes on that clock too.
    run.finished_at = timezone.now() if clock is None else now
    run.save()
    return run
