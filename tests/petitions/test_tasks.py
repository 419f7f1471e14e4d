import smtplib

import pytest
from django.core import mail
from procrastinate.contrib.django.models import ProcrastinateJob

from petitions import services
from petitions.models import Signature
from petitions.tasks import EmailNotSent, send_signature_email

from .conftest import queued_emails

pytestmark = pytest.mark.django_db


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("mail server went away: ana@example.org")


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


def test_a_failing_mail_server_raises_for_a_retry_and_logs_no_address(
    sign, settings, caplog
):
    settings.EMAIL_BACKEND = "tests.petitions.test_tasks.BrokenBackend"
    sign()
    signature = Signature.objects.get()
    with pytest.raises(EmailNotSent) as raised:
        send_signature_email(signature_id=signature.pk, kind="confirm")
    assert "ana@example.org" not in str(raised.value)
    assert raised.value.__cause__ is None
    assert "ana@example.org" not in caplog.text
    assert "SMTPServerDisconnected" in caplog.text
    assert send_signature_email.retry_strategy.max_attempts >= 5


def test_no_email_goes_to_a_withdrawn_signature(sign):
    sign()
    signature = Signature.objects.get()
    services.signature_withdraw(signature_id=signature.pk)
    assert send_signature_email(signature_id=signature.pk, kind="confirm").startswith(
        "skipped"
    )
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_worker_sends_queued_email(sign):
    from django.core.management import call_command
    from django.db import connection

    # Procrastinate's tables are not Django-managed, so a database flush
    # between transactional tests leaves other tests' jobs behind.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs")
    sign()
    assert len(queued_emails()) == 1
    call_command("procrastinate", "worker", "--one-shot", verbosity=0)
    assert len(mail.outbox) == 1
    job = ProcrastinateJob.objects.get(task_name="petitions.tasks.send_signature_email")
    assert job.status == "succeeded"
