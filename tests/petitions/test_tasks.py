import datetime
import smtplib

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings as django_settings
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob

from core.tasks import remove_old_jobs, retry_stalled_jobs
from petitions import services
from petitions.models import Signature
from petitions.tasks import (
    MAX_ATTEMPTS,
    RETRY_BASE_SECONDS,
    EmailNotSent,
    send_signature_email,
)

from .conftest import queued_emails

pytestmark = pytest.mark.django_db

EMAIL_TASK = "petitions.tasks.send_signature_email"


class BrokenBackend:
    """A mail server that is always away; counts the attempts to reach it."""

    attempts = 0

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        BrokenBackend.attempts += 1
        raise smtplib.SMTPServerDisconnected("mail server went away: ana@example.org")


@pytest.fixture
def broken_mail_server(settings):
    BrokenBackend.attempts = 0
    settings.EMAIL_BACKEND = "tests.petitions.test_tasks.BrokenBackend"
    return BrokenBackend


def email_job() -> ProcrastinateJob:
    return ProcrastinateJob.objects.get(task_name=EMAIL_TASK)


# -- the task itself, called in-process ---------------------------------------


def test_confirmation_email_has_text_and_html_with_withdraw_link(sign):
    sign(wants_updates=True)
    signature = Signature.objects.get()
    assert send_signature_email(signature_id=signature.pk, kind="confirm") == "sent"
    message = mail.outbox[0]
    assert "Please confirm your signature" in message.subject
    assert "Dear Ana," in message.body and "/petitions/confirm/?t=" in message.body
    assert "/petitions/withdraw/?t=" in message.body
    assert "/petitions/unsubscribe/?t=" in message.body
    html = message.alternatives[0][0]
    assert "Confirm my signature" in html and "/petitions/withdraw/?t=" in html
    assert message.extra_headers["List-Unsubscribe"].startswith("<http")


def test_email_without_updates_opt_in_has_no_unsubscribe_link(sign):
    sign(wants_updates=False)
    signature = Signature.objects.get()
    send_signature_email(signature_id=signature.pk, kind="confirm")
    assert "/petitions/unsubscribe/" not in mail.outbox[0].body


def test_already_signed_email(sign):
    sign()
    signature = Signature.objects.get()
    services.signature_confirm(signature_id=signature.pk)
    send_signature_email(signature_id=signature.pk, kind="already_signed")
    assert "already" in mail.outbox[0].subject
    assert "/petitions/confirm/" not in mail.outbox[0].body


def test_no_email_goes_to_a_withdrawn_signature(sign):
    sign()
    signature = Signature.objects.get()
    services.signature_withdraw(signature_id=signature.pk)
    assert send_signature_email(signature_id=signature.pk, kind="confirm").startswith(
        "skipped"
    )
    assert mail.outbox == []


def test_a_failed_send_raises_an_error_that_names_no_address(
    sign, broken_mail_server, caplog
):
    sign()
    signature = Signature.objects.get()
    with pytest.raises(EmailNotSent) as raised:
        send_signature_email(signature_id=signature.pk, kind="confirm")
    assert str(raised.value) == "SMTPServerDisconnected"
    # `from None`: the worker's traceback must not show the SMTP error's text.
    assert raised.value.__suppress_context__
    assert "ana@example.org" not in caplog.text
    assert "SMTPServerDisconnected" in caplog.text


# -- the e-mail is the row's own state: it exists if and only if the row does --


def test_signing_makes_one_email_due_on_the_row_and_defers_no_job(sign):
    sign()
    signature = Signature.objects.get()
    assert queued_emails() == [(signature.pk, "confirm")]
    assert (signature.email_kind, signature.email_sent_at) == ("confirm", None)
    assert signature.email_due_at == signature.created_at
    assert not ProcrastinateJob.objects.filter(task_name=EMAIL_TASK).exists()


def test_the_email_is_rolled_back_with_the_signature(sign):
    with pytest.raises(RuntimeError), transaction.atomic():
        sign()
        assert Signature.objects.count() == 1
        assert len(queued_emails()) == 1
        raise RuntimeError("the request failed after the insert")
    assert Signature.objects.count() == 0
    assert queued_emails() == []


# -- jobs queued before the outbox still run (the legacy task) ---------------


def _queued_before_the_upgrade(signature) -> None:
    """A confirmation job as the sign POST deferred it before the outbox."""
    Signature.objects.filter(pk=signature.pk).update(email_due_at=None)
    send_signature_email.defer(signature_id=signature.pk, kind="confirm")


@pytest.fixture
def sign_before_the_upgrade(sign):
    def _sign(**values):
        sign(**values)
        _queued_before_the_upgrade(Signature.objects.latest("pk"))

    return _sign


def test_the_worker_sends_a_queued_email(sign_before_the_upgrade, run_jobs):
    sign_before_the_upgrade()
    run_jobs()
    assert len(mail.outbox) == 1
    assert email_job().status == "succeeded"
    # run_jobs leaves the periodic schedules out: no housekeeping job appeared.
    assert ProcrastinateJob.objects.count() == 1


def test_a_failed_send_is_retried_with_back_off_then_given_up(
    sign_before_the_upgrade, run_jobs, broken_mail_server, caplog
):
    sign_before_the_upgrade()
    run_jobs()
    job = email_job()
    assert (job.status, job.attempts) == ("todo", 1)
    wait = (job.scheduled_at - timezone.now()).total_seconds()
    assert 0 < wait <= RETRY_BASE_SECONDS
    run_jobs()  # not due yet: nothing happens
    assert broken_mail_server.attempts == 1

    run_jobs(include_scheduled=True)
    job = email_job()
    wait = (job.scheduled_at - timezone.now()).total_seconds()
    assert RETRY_BASE_SECONDS < wait <= RETRY_BASE_SECONDS**2

    for _ in range(MAX_ATTEMPTS):
        run_jobs(include_scheduled=True)
    job = email_job()
    assert job.status == "failed"
    assert broken_mail_server.attempts == MAX_ATTEMPTS
    assert mail.outbox == []
    gave_up = [record for record in caplog.records if record.levelname == "ERROR"]
    assert len(gave_up) == 1
    assert f"signature_id={job.args['signature_id']}" in gave_up[0].getMessage()
    assert "EmailNotSent: SMTPServerDisconnected" in caplog.text
    assert "ana@example.org" not in caplog.text


def _claim_as_a_worker_that_then_dies() -> int:
    """Take the next job the way a worker does, and return the worker's id."""
    worker_id = async_to_sync(app.job_manager.register_worker)()
    job = async_to_sync(app.job_manager.fetch_job)(queues=None, worker_id=worker_id)
    assert job is not None
    return worker_id


def _silence(worker_id: int, seconds: float) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE procrastinate_workers SET last_heartbeat = %s WHERE id = %s",
            [timezone.now() - datetime.timedelta(seconds=seconds), worker_id],
        )


def test_a_job_held_by_a_dead_worker_runs_again(sign_before_the_upgrade, run_jobs):
    sign_before_the_upgrade()
    worker_id = _claim_as_a_worker_that_then_dies()
    assert email_job().status == "doing"

    # A worker that beat 5 s ago is alive: its job is left alone.
    _silence(worker_id, 5)
    retry_stalled_jobs.defer(timestamp=0)
    run_jobs()
    assert email_job().status == "doing"
    assert mail.outbox == []

    # Silent for longer than the threshold: taken for dead, its job retried.
    _silence(worker_id, 60)
    retry_stalled_jobs.defer(timestamp=1)
    run_jobs()
    assert email_job().status == "succeeded"
    assert len(mail.outbox) == 1


def test_a_dead_worker_is_found_within_a_minute():
    # Beats every 5 s; taken for dead after 20 s of silence; checked every 15 s;
    # the retried job is picked up on the next poll (5 s by default) at worst.
    worker = django_settings.PROCRASTINATE_WORKER_DEFAULTS
    assert worker["stalled_worker_timeout"] >= 3 * worker["update_heartbeat_interval"]
    schedule = app.periodic_registry.periodic_tasks[(retry_stalled_jobs.name, "")]
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC).timestamp()
    schedule.croniter.set_current(start_time=start)
    ticks = [schedule.croniter.get_next(float) - start for _ in range(4)]
    assert ticks == [15, 30, 45, 60]
    assert worker["stalled_worker_timeout"] + 15 + 5 < 60


# -- periodic jobs --------------------------------------------------------------


def test_housekeeping_is_scheduled_from_the_worker():
    schedules = {
        task_name: periodic.cron
        for (task_name, _), periodic in app.periodic_registry.periodic_tasks.items()
    }
    assert schedules == {
        "core.tasks.retry_stalled_jobs": "* * * * * */15",
        "core.tasks.remove_old_jobs": "40 * * * *",
        "organising.tasks.purge_expired_data": "17 * * * *",
        "newsletters.tasks.newsletter_tick": "* * * * *",
        "organising.tasks.check_signature_anomalies": "5 * * * *",
        "organising.tasks.detect_milestones": "*/5 * * * *",
        "core.tasks.backup_first": "*/5 * * * *",
        "core.tasks.backup_full": "0 3 * * 0",
        "core.tasks.backup_differential": "0 3 * * 1-6",
    }


def _finished_ago(job_id: int, interval: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE procrastinate_events SET at = now() - %s::interval "
            "WHERE job_id = %s",
            [interval, job_id],
        )


def test_old_finished_jobs_are_removed(sign_before_the_upgrade, run_jobs):
    sign_before_the_upgrade()
    sign_before_the_upgrade(email="bea@example.org")
    for timestamp in (0, 1):  # one at a time: the check has a queueing lock
        retry_stalled_jobs.defer(timestamp=timestamp)
        run_jobs()
    old_email, recent_email = ProcrastinateJob.objects.filter(
        task_name=EMAIL_TASK
    ).order_by("id")
    old_check, recent_check = ProcrastinateJob.objects.filter(
        task_name=retry_stalled_jobs.name
    ).order_by("id")
    _finished_ago(old_email.pk, "8 days")
    _finished_ago(recent_email.pk, "6 days")
    _finished_ago(old_check.pk, "2 hours")
    remove_old_jobs.defer(timestamp=0)
    run_jobs()
    kept = ProcrastinateJob.objects.exclude(task_name=remove_old_jobs.name)
    assert set(kept.values_list("pk", flat=True)) == {recent_email.pk, recent_check.pk}
