"""Procrastinate's jobs table as Procrastinate ships it again.

0002 disabled the NOTIFY-on-insert trigger because the sign POST's own
statement queued a job, and a notifying commit takes PostgreSQL's global
notify lock. The signature row is now its own e-mail outbox: no job is
queued on the sign POST, so nothing pays for leaving the library's schema
changed, and the next Procrastinate upgrade finds the table as it left it.
"""

from django.db import migrations

TRIGGER = "procrastinate_jobs_notify_queue_job_inserted_v1"


class Migration(migrations.Migration):
    dependencies = [("core", "0002_procrastinate_jobs_without_notify")]

    operations = [
        migrations.RunSQL(
            f"ALTER TABLE procrastinate_jobs ENABLE TRIGGER {TRIGGER}",
            f"ALTER TABLE procrastinate_jobs DISABLE TRIGGER {TRIGGER}",
        )
    ]
