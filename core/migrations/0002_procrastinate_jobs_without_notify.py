"""Procrastinate's jobs table without its NOTIFY-on-insert trigger.

Our workers poll (PROCRASTINATE_WORKER_DEFAULTS: listen_notify False, see
settings.py: a LISTEN connection does not survive a database restart), so
nobody listens. The trigger still ran pg_notify for every job, and
PostgreSQL serialises the commits of notifying transactions on one global
lock: with it, the sign POST's statement (which queues the confirmation
e-mail) ran ~40% slower under 12 concurrent signers (pgbench, 950 against
1,550 statements/s). Oban and others advise dropping such triggers once
nothing listens. Disabled, not dropped: Procrastinate's own migrations keep
owning it, and tests/core/test_procrastinate_schema.py fails if an upgrade
brings a notifying trigger back.
"""

from django.db import migrations

TRIGGER = "procrastinate_jobs_notify_queue_job_inserted_v1"


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_move_queued_emails_to_procrastinate"),
        ("procrastinate", "0041_post_retry_failed_job"),
    ]

    operations = [
        migrations.RunSQL(
            f"ALTER TABLE procrastinate_jobs DISABLE TRIGGER {TRIGGER}",
            f"ALTER TABLE procrastinate_jobs ENABLE TRIGGER {TRIGGER}",
        )
    ]
