"""Carry the e-mails still queued in django-tasks-db over to Procrastinate.

The project used django-tasks-db until the queue moved to Procrastinate. On a
database that has its table, the confirmation e-mails not yet sent (READY, or
RUNNING on a worker that may be gone) become Procrastinate jobs, so none is
lost in the switch; then the old table and its migration records go. On a
fresh database there is nothing to do.
"""

from django.db import migrations

MOVE_QUEUED_EMAILS = """
DO $$
BEGIN
    IF to_regclass('django_tasks_database_dbtaskresult') IS NOT NULL THEN
        INSERT INTO procrastinate_jobs (queue_name, task_name, args)
        SELECT 'emails', 'petitions.tasks.send_signature_email',
               jsonb_build_object(
                   'signature_id', (args_kwargs -> 'kwargs' -> 'signature_id'),
                   'kind', (args_kwargs -> 'kwargs' -> 'kind'))
          FROM django_tasks_database_dbtaskresult
         WHERE task_path = 'petitions.tasks.send_signature_email'
           AND status IN ('READY', 'RUNNING')
         ORDER BY enqueued_at;
        DROP TABLE django_tasks_database_dbtaskresult;
        DELETE FROM django_migrations WHERE app = 'django_tasks_database';
    END IF;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("procrastinate", "0041_post_retry_failed_job")]

    operations = [
        migrations.RunSQL(MOVE_QUEUED_EMAILS, reverse_sql=migrations.RunSQL.noop)
    ]
