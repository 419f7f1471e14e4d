"""Procrastinate's tables stay as Procrastinate ships them (core/migrations/0003):
no trigger of its jobs table is left disabled by our migrations."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

DISABLED_TRIGGERS = """
    SELECT t.tgname FROM pg_trigger t
    WHERE t.tgrelid = 'procrastinate_jobs'::regclass AND NOT t.tgisinternal
      AND t.tgenabled = 'D'
"""


def test_no_trigger_of_the_job_table_is_disabled():
    with connection.cursor() as cursor:
        cursor.execute(DISABLED_TRIGGERS)
        assert cursor.fetchall() == []


def test_the_check_would_see_a_disabled_trigger():
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE procrastinate_jobs DISABLE TRIGGER "
            "procrastinate_jobs_notify_queue_job_inserted_v1"
        )
        cursor.execute(DISABLED_TRIGGERS)
        assert [name for (name,) in cursor.fetchall()] == [
            "procrastinate_jobs_notify_queue_job_inserted_v1"
        ]
