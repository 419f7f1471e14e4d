import datetime

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.utils import timezone
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob
from procrastinate.periodic import PeriodicDeferrer

from organising.tasks import (
    check_signature_anomalies,
    detect_milestones,
    purge_expired_data,
    run_bulk_invalidation,
    send_milestone_notes,
)
from petitions.models import Signature
from tests.petitions.factories import SignatureFactory

pytestmark = pytest.mark.django_db


def test_a_periodic_job_is_deferred_once_however_many_workers_run():
    tick = int(timezone.now().timestamp()) // 3600 * 3600 + 17 * 60
    schedule = app.periodic_registry.periodic_tasks[(purge_expired_data.name, "")]
    for _worker in range(3):
        deferrer = PeriodicDeferrer(registry=app.periodic_registry)
        async_to_sync(deferrer.defer_jobs)([(schedule, tick)])
    jobs = ProcrastinateJob.objects.filter(task_name=purge_expired_data.name)
    assert [job.args for job in jobs] == [{"timestamp": tick}]


def test_purge_expired_data_runs_the_command(settings):
    old = timezone.now() - datetime.timedelta(
        days=settings.SIGNATURE_PENDING_RETENTION_DAYS + 1
    )
    stale = SignatureFactory(status=Signature.Status.PENDING)
    Signature.objects.filter(pk=stale.pk).update(created_at=old)
    kept = SignatureFactory(status=Signature.Status.PENDING)
    assert purge_expired_data(timestamp=0).startswith("Deleted 1 unconfirmed")
    assert list(Signature.objects.values_list("pk", flat=True)) == [kept.pk]


# -- jobs queued before the back office left petitions ------------------------

MOVED_TASKS = {
    "purge_expired_data": purge_expired_data,
    "check_signature_anomalies": check_signature_anomalies,
    "run_bulk_invalidation": run_bulk_invalidation,
    "detect_milestones": detect_milestones,
    "send_milestone_notes": send_milestone_notes,
}


@pytest.mark.parametrize("name", MOVED_TASKS)
def test_the_worker_finds_each_moved_task_by_its_old_name(name):
    assert app.tasks[f"petitions.tasks.{name}"] is MOVED_TASKS[name]
    assert MOVED_TASKS[name].name == f"organising.tasks.{name}"


def test_a_job_queued_under_the_old_name_is_run_by_the_moved_task(settings, run_jobs):
    stale = SignatureFactory(status=Signature.Status.PENDING)
    Signature.objects.filter(pk=stale.pk).update(
        created_at=timezone.now()
        - datetime.timedelta(days=settings.SIGNATURE_PENDING_RETENTION_DAYS + 1)
    )
    # The row a worker of the previous release would find in the queue.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, args) "
            "VALUES ('housekeeping', 'petitions.tasks.purge_expired_data', "
            "'{\"timestamp\": 0}')"
        )
    run_jobs()
    job = ProcrastinateJob.objects.get(task_name="petitions.tasks.purge_expired_data")
    assert job.status == "succeeded"
    assert not Signature.objects.filter(pk=stale.pk).exists()
