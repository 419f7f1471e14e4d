import datetime

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob
from procrastinate.periodic import PeriodicDeferrer

from organising.tasks import purge_expired_data
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
