"""What operators watch, read from PostgreSQL at the moment they ask.

The metrics endpoint (organising.views.metrics) and the admin's "System
status" page both call system_readings(): one place per reading, so the
alert and the sentence an organiser reads never disagree.

Computed from the database at scrape time rather than counted in each
process: gunicorn runs several workers on several hosts, and a per-process
counter would need shared memory and would forget on every restart. Each
query goes through a partial index or a small table, never a COUNT(*) over
all signatures.

No reading names a person: only counts, ages and states.
"""

import datetime
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core import backups
from newsletters.models import Delivery, Issue, SendThrottle
from petitions.models import ProcessHeartbeat, Signature, SignatureCount
from petitions.outbox import OUTBOX_PROCESS_KIND

from .models import RetentionRun

# Signatures created this recently are counted by status (the BRIN index on
# created_at finds them): the sign outcomes of the last few minutes.
RECENT_MINUTES = 15


@dataclass
class Readings:
    now: datetime.datetime
    confirmed_total: int = 0
    recent_by_status: dict[str, int] = field(default_factory=dict)
    emails_due: int = 0
    oldest_email_due_at: datetime.datetime | None = None
    newsletter_issues_sending: int = 0
    newsletter_deliveries_queued: int = 0
    newsletter_deliveries_sending: int = 0
    newsletter_throttle_updated_at: datetime.datetime | None = None
    worker_last_heartbeat: datetime.datetime | None = None
    workers: int = 0
    outbox_last_heartbeat: datetime.datetime | None = None
    outbox_processes: int = 0
    replica_lag_seconds: float | None = None
    backup_finished_at: datetime.datetime | None = None
    wal_archived_at: datetime.datetime | None = None
    wal_archive_failed_at: datetime.datetime | None = None
    retention_finished_at: datetime.datetime | None = None
    retention_cleared: dict[str, int] = field(default_factory=dict)

    def age(self, moment: datetime.datetime | None) -> float | None:
        return None if moment is None else max((self.now - moment).total_seconds(), 0)


def _signature_readings(readings: Readings) -> None:
    readings.confirmed_total = sum(
        SignatureCount.objects.values_list("count", flat=True)
    )
    since = readings.now - datetime.timedelta(minutes=RECENT_MINUTES)
    by_status = dict.fromkeys(Signature.Status.values, 0)
    rows = (
        Signature.objects.filter(created_at__gte=since)
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    by_status.update(dict(rows))
    readings.recent_by_status = by_status
    # Only the rows whose e-mail is still to send (the signature_email_due
    # partial index's rows).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), min(email_due_at) FROM petitions_signature"
            " WHERE email_due_at IS NOT NULL"
        )
        readings.emails_due, readings.oldest_email_due_at = cursor.fetchone()


def _newsletter_readings(readings: Readings) -> None:
    sending = Issue.objects.filter(status=Issue.Status.SENDING)
    readings.newsletter_issues_sending = sending.count()
    # Both through the deliveries' partial claim indexes (queued, sending).
    readings.newsletter_deliveries_queued = Delivery.objects.filter(
        state=Delivery.State.QUEUED, issue__in=sending
    ).count()
    readings.newsletter_deliveries_sending = Delivery.objects.filter(
        state=Delivery.State.SENDING
    ).count()
    # Every message sent takes a token from the shared bucket: its last
    # update is when delivery last moved.
    readings.newsletter_throttle_updated_at = (
        SendThrottle.objects.order_by("-updated_at")
        .values_list("updated_at", flat=True)
        .first()
    )


def _process_readings(readings: Readings) -> None:
    with connection.cursor() as cursor:
        # Procrastinate's own worker table: each worker updates its row's
        # heartbeat (PROCRASTINATE update_heartbeat_interval).
        cursor.execute(
            "SELECT count(*), max(last_heartbeat) FROM procrastinate_workers"
        )
        readings.workers, readings.worker_last_heartbeat = cursor.fetchone()
    outbox = ProcessHeartbeat.objects.filter(kind=OUTBOX_PROCESS_KIND)
    readings.outbox_processes = outbox.count()
    readings.outbox_last_heartbeat = (
        outbox.order_by("-seen_at").values_list("seen_at", flat=True).first()
    )


def _replica_readings(readings: Readings) -> None:
    with connection.cursor() as cursor:
        # On the primary, one row per streaming replica; none, no reading.
        cursor.execute(
            "SELECT max(EXTRACT(EPOCH FROM replay_lag)), count(*)"
            " FROM pg_stat_replication"
        )
        lag, replicas = cursor.fetchone()
    if replicas:
        # A replica that has replayed everything reports no lag at all.
        readings.replica_lag_seconds = float(lag or 0)


# The kinds of rows a retention run clears, as RetentionRun names them.
RETENTION_KINDS = (
    "unconfirmed_deleted",
    "closed_anonymised",
    "paper_batches_anonymised",
    "invalidated_anonymised",
    "subscribers_deleted",
    "counters_deleted",
)


def _backup_readings(readings: Readings) -> None:
    # Where this host can read the pgBackRest repository (the database host,
    # or make run); elsewhere the reading is absent and the alert on its
    # absence says so.
    try:
        readings.backup_finished_at = backups.backup_latest_finished_at()
    except backups.BackupError:
        readings.backup_finished_at = None
    # WAL archiving, as PostgreSQL itself reports it: readable from any host.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT last_archived_time, last_failed_time FROM pg_stat_archiver"
        )
        readings.wal_archived_at, readings.wal_archive_failed_at = cursor.fetchone()


def _retention_readings(readings: Readings) -> None:
    run = (
        RetentionRun.objects.filter(finished_at__isnull=False)
        .order_by("-started_at")
        .first()
    )
    if run is not None:
        readings.retention_finished_at = run.finished_at
        readings.retention_cleared = {
            kind: getattr(run, kind) for kind in RETENTION_KINDS
        }


def system_readings(*, now=None) -> Readings:
    """Every reading the operators' metrics and the status page show."""
    readings = Readings(now=now or timezone.now())
    _signature_readings(readings)
    _newsletter_readings(readings)
    _process_readings(readings)
    _replica_readings(readings)
    _backup_readings(readings)
    _retention_readings(readings)
    return readings


@dataclass
class StatusLine:
    """One sentence of the status page, and whether it calls for attention
    (the same thresholds as deploy/prometheus/alerts.yml)."""

    text: str
    attention: bool = False


# The alert rules' thresholds, said again for the page's warnings; a test
# reads deploy/prometheus/alerts.yml and checks they agree.
EMAIL_WAIT_ALERT_SECONDS = 300
REPLICA_LAG_ALERT_SECONDS = 10
WORKER_SILENT_ALERT_SECONDS = 60
OUTBOX_SILENT_ALERT_SECONDS = 60
NEWSLETTER_STUCK_ALERT_SECONDS = 600
BACKUP_AGE_ALERT_SECONDS = 25 * 3600
RETENTION_AGE_ALERT_SECONDS = 3 * 3600


def _seconds(value: float) -> str:
    whole = round(value)
    return ngettext("%(n)d second", "%(n)d seconds", whole) % {"n": whole}


def status_lines(readings: Readings) -> list[StatusLine]:
    """The readings in words, for organisers."""
    lines = [
        StatusLine(
            _("%(n)d signatures confirmed in all.") % {"n": readings.confirmed_total}
        ),
        StatusLine(
            _(
                "In the last %(minutes)d minutes: %(pending)d signatures waiting "
                "for confirmation, %(confirmed)d confirmed."
            )
            % {
                "minutes": RECENT_MINUTES,
                "pending": readings.recent_by_status.get("pending", 0),
                "confirmed": readings.recent_by_status.get("confirmed", 0),
            }
        ),
    ]
    wait = readings.age(readings.oldest_email_due_at)
    if wait is None:
        lines.append(StatusLine(_("No confirmation e-mail is waiting to be sent.")))
    else:
        lines.append(
            StatusLine(
                _(
                    "%(n)d e-mails to signers are waiting; the oldest has "
                    "waited %(wait)s."
                )
                % {"n": readings.emails_due, "wait": _seconds(wait)},
                attention=wait > EMAIL_WAIT_ALERT_SECONDS,
            )
        )
    lines.append(_process_line(_("Outbox"), readings.outbox_last_heartbeat, readings))
    lines.append(_process_line(_("Worker"), readings.worker_last_heartbeat, readings))
    if readings.newsletter_issues_sending:
        moved = readings.age(readings.newsletter_throttle_updated_at)
        lines.append(
            StatusLine(
                _(
                    "A newsletter is going out: %(queued)d messages still queued, "
                    "%(sending)d being sent; the last one left %(moved)s ago."
                )
                % {
                    "queued": readings.newsletter_deliveries_queued,
                    "sending": readings.newsletter_deliveries_sending,
                    "moved": _seconds(moved) if moved is not None else _("never"),
                },
                attention=moved is None or moved > NEWSLETTER_STUCK_ALERT_SECONDS,
            )
        )
    else:
        lines.append(StatusLine(_("No newsletter is being delivered.")))
    if readings.replica_lag_seconds is None:
        lines.append(StatusLine(_("No replica is connected to the database.")))
    else:
        lines.append(
            StatusLine(
                _("The database replica is %(lag)s behind.")
                % {"lag": _seconds(readings.replica_lag_seconds)},
                attention=readings.replica_lag_seconds > REPLICA_LAG_ALERT_SECONDS,
            )
        )
    backup_age = readings.age(readings.backup_finished_at)
    if backup_age is None:
        lines.append(
            StatusLine(
                _("No backup can be seen from this host (see docs/operations.md)."),
                attention=True,
            )
        )
    else:
        lines.append(
            StatusLine(
                _("The last backup finished %(age)s ago.")
                % {"age": _seconds(backup_age)},
                attention=backup_age > BACKUP_AGE_ALERT_SECONDS,
            )
        )
    retention_age = readings.age(readings.retention_finished_at)
    if retention_age is None:
        lines.append(
            StatusLine(_("The retention rules have never run."), attention=True)
        )
    else:
        lines.append(
            StatusLine(
                _("The retention rules last ran %(age)s ago and cleared %(n)d rows.")
                % {
                    "age": _seconds(retention_age),
                    "n": sum(readings.retention_cleared.values()),
                },
                attention=retention_age > RETENTION_AGE_ALERT_SECONDS,
            )
        )
    return lines


def _process_line(name: str, seen_at, readings: Readings) -> StatusLine:
    age = readings.age(seen_at)
    if age is None:
        return StatusLine(_("%(name)s: never seen.") % {"name": name}, attention=True)
    return StatusLine(
        _("%(name)s last seen %(age)s ago.") % {"name": name, "age": _seconds(age)},
        attention=age > WORKER_SILENT_ALERT_SECONDS,
    )
