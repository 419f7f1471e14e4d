"""Queueing a job must not NOTIFY: nothing listens (the workers poll), and a
notifying commit takes PostgreSQL's global notify lock, which serialised
the sign POST's commits (core/migrations/0002)."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

# pg_trigger.tgtype: bit 2 is INSERT; tgenabled 'D' is disabled.
ENABLED_NOTIFYING_INSERT_TRIGGERS = """
    SELECT t.tgname FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
    WHERE t.tgrelid = 'procrastinate_jobs'::regclass AND NOT t.tgisinternal
      AND t.tgtype & 4 = 4 AND t.tgenabled <> 'D' AND p.prosrc ILIKE %s
"""


def test_no_trigger_notifies_when_a_job_is_queued():
    with connection.cursor() as cursor:
        cursor.execute(ENABLED_NOTIFYING_INSERT_TRIGGERS, ["%pg_notify%"])
        assert cursor.fetchall() == []


def test_the_check_would_see_procrastinates_trigger_if_enabled():
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE procrastinate_jobs ENABLE TRIGGER "
            "procrastinate_jobs_notify_queue_job_inserted_v1"
        )
        cursor.execute(ENABLED_NOTIFYING_INSERT_TRIGGERS, ["%pg_notify%"])
        assert [name for (name,) in cursor.fetchall()] == [
            "procrastinate_jobs_notify_queue_job_inserted_v1"
        ]
