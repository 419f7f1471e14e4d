"""The operators' Prometheus metrics, in the text exposition format.

A fresh registry per scrape, filled from system_readings(): prometheus-client
writes the format, the database holds the numbers (organising.system_status
says why). Ages are in seconds; a reading that does not exist (no replica,
no outbox row yet) is left out rather than given a made-up value.
"""

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from .system_status import RECENT_MINUTES, Readings, system_readings

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _gauge(name: str, documentation: str, value, labels=None) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=list(labels or {}))
    if value is not None:
        family.add_metric(list((labels or {}).values()), value)
    return family


def metric_families(readings: Readings) -> list[GaugeMetricFamily]:
    age = readings.age
    recent = GaugeMetricFamily(
        "campaign_signatures_recent",
        f"Signatures created in the last {RECENT_MINUTES} minutes, by status now",
        labels=["status"],
    )
    for status, count in sorted(readings.recent_by_status.items()):
        recent.add_metric([status], count)
    families = [
        _gauge(
            "campaign_signatures_confirmed",
            "Confirmed signatures counted, all petitions",
            readings.confirmed_total,
        ),
        recent,
        _gauge(
            "campaign_signature_emails_due",
            "Signature e-mails waiting to be sent",
            readings.emails_due,
        ),
        _gauge(
            "campaign_signature_email_oldest_due_seconds",
            "Age of the oldest signature e-mail not yet sent (0 when none waits)",
            age(readings.oldest_email_due_at) or 0,
        ),
        _gauge(
            "campaign_newsletter_issues_sending",
            "Newsletter issues being delivered",
            readings.newsletter_issues_sending,
        ),
        _gauge(
            "campaign_newsletter_deliveries_queued",
            "Newsletter deliveries queued for issues being delivered",
            readings.newsletter_deliveries_queued,
        ),
        _gauge(
            "campaign_newsletter_deliveries_sending",
            "Newsletter deliveries held by a sender now",
            readings.newsletter_deliveries_sending,
        ),
        _gauge(
            "campaign_newsletter_last_progress_seconds",
            "Seconds since a newsletter message was last sent",
            age(readings.newsletter_throttle_updated_at),
        ),
        _gauge(
            "campaign_workers", "Procrastinate workers registered", readings.workers
        ),
        _gauge(
            "campaign_worker_heartbeat_age_seconds",
            "Seconds since a Procrastinate worker last sent its heartbeat",
            age(readings.worker_last_heartbeat),
        ),
        _gauge(
            "campaign_outbox_processes",
            "Signature outbox processes with a heartbeat row",
            readings.outbox_processes,
        ),
        _gauge(
            "campaign_outbox_heartbeat_age_seconds",
            "Seconds since a signature outbox process last sent its heartbeat",
            age(readings.outbox_last_heartbeat),
        ),
        _gauge(
            "campaign_replica_lag_seconds",
            "Replay lag of the slowest streaming replica (absent without one)",
            readings.replica_lag_seconds,
        ),
        _gauge(
            "campaign_backup_age_seconds",
            "Seconds since the newest pgBackRest backup finished (absent where "
            "the repository cannot be read)",
            age(readings.backup_finished_at),
        ),
        _gauge(
            "campaign_wal_archived_age_seconds",
            "Seconds since PostgreSQL last archived a WAL segment",
            age(readings.wal_archived_at),
        ),
        _gauge(
            "campaign_retention_run_age_seconds",
            "Seconds since the retention rules last finished a run",
            age(readings.retention_finished_at),
        ),
    ]
    retention = GaugeMetricFamily(
        "campaign_retention_rows_cleared",
        "Rows the last retention run cleared, by kind",
        labels=["kind"],
    )
    for kind, count in sorted(readings.retention_cleared.items()):
        retention.add_metric([kind], count)
    families.append(retention)
    return families


class _ReadingsCollector:
    def __init__(self, readings: Readings):
        self.readings = readings

    def collect(self):
        yield from metric_families(self.readings)


def metrics_text(*, now=None) -> bytes:
    """The exposition of one scrape."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_ReadingsCollector(system_readings(now=now)))
    return generate_latest(registry)
