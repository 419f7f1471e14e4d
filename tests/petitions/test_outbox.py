"""The signature row as its own e-mail outbox (petitions.outbox)."""

import datetime
import io
import smtplib
import threading

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import OperationalError, connection
from django.utils import timezone

from petitions import outbox, services
from petitions.models import Signature
from tests.petitions.factories import PetitionFactory

from .conftest import queued_emails, send_due_emails

pytestmark = pytest.mark.django_db


def _row(signature_id=None) -> Signature:
    if signature_id is None:
        return Signature.objects.get()
    return Signature.objects.get(pk=signature_id)


def _expire_leases() -> None:
    """As if every lease (or back-off) had run out."""
    Signature.objects.filter(email_lease_until__isnull=False).update(
        email_lease_until=timezone.now() - datetime.timedelta(seconds=1)
    )


def _message_ids() -> list[str]:
    return [message.extra_headers["Message-ID"] for message in mail.outbox]


class _Refusing:
    """A mail server that refuses every message with `error`; counts tries."""

    error: Exception
    attempts = 0

    def __init__(self, *args, **kwargs):
        pass

    def open(self):
        pass

    def close(self):
        pass

    def send_messages(self, messages):
        _Refusing.attempts += 1
        raise _Refusing.error


@pytest.fixture
def refusing_mail_server(settings):
    _Refusing.attempts = 0
    settings.EMAIL_BACKEND = "tests.petitions.test_outbox._Refusing"
    return _Refusing


def test_a_signature_is_stored_with_its_email_due_and_the_outbox_sends_it(sign):
    sign()
    signature = _row()
    assert signature.email_due_at == signature.created_at
    assert outbox.signature_emails_due() == 1
    assert send_due_emails() == 1
    signature = _row()
    assert signature.email_due_at is None and signature.email_sent_at is not None
    assert (signature.email_attempts, signature.email_last_error) == (1, "")
    (message,) = mail.outbox
    assert message.to == ["ana@example.org"]
    assert "Please confirm your signature" in message.subject
    assert _message_ids()[0].startswith(f"<signature-{signature.pk}.confirm.0.")
    # Sent is final: running again sends nothing.
    assert send_due_emails() == 0
    assert len(mail.outbox) == 1


def test_the_message_id_is_stable_and_names_no_address(sign):
    sign()
    signature = _row()
    first = outbox.build_signature_email(signature, "confirm")
    again = outbox.build_signature_email(_row(), "confirm")
    assert first.extra_headers["Message-ID"] == again.extra_headers["Message-ID"]
    assert "ana" not in first.extra_headers["Message-ID"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_claiming_at_once_never_send_one_email_twice():
    petition = PetitionFactory()
    for index in range(60):
        services.signature_create(
            petition=petition,
            full_name="Ana Quispe",
            email=f"ana{index}@example.org",
            country="PE",
        )
    barrier = threading.Barrier(2)
    errors = []

    def worker():
        try:
            barrier.wait(timeout=30)
            while outbox.signature_emails_send(size=7).claimed:
                pass
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    ids = _message_ids()
    assert len(ids) == 60 and len(set(ids)) == 60
    assert not Signature.objects.filter(email_sent_at__isnull=True).exists()


def test_a_lease_left_by_a_killed_worker_is_claimed_again_with_the_same_message_id(
    sign, monkeypatch
):
    sign()
    sign(email="bea@example.org")

    class Killed(BaseException):
        """The worker dies after the server took a message, before marking it."""

    def die(row):
        raise Killed

    with monkeypatch.context() as patched:
        patched.setattr(outbox, "_mark_sent", die)
        with pytest.raises(Killed):
            outbox.signature_emails_send()
    first_try = _message_ids()
    assert len(first_try) == 1
    # Still leased: another worker leaves the rows alone until the lease ends.
    assert outbox.signature_emails_send().claimed == 0
    _expire_leases()
    assert send_due_emails() == 2
    ids = _message_ids()
    assert len(ids) == 3 and ids.count(first_try[0]) == 2
    assert not Signature.objects.filter(email_due_at__isnull=False).exists()


def test_withdrawing_before_the_email_is_sent_stops_it(sign):
    sign()
    services.signature_withdraw(signature_id=_row().pk)
    assert queued_emails() == []
    assert send_due_emails() == 0
    assert mail.outbox == []


def test_an_email_claimed_before_a_withdrawal_is_not_sent(sign):
    sign()
    rows = outbox._claim(size=10, lease_seconds=60)
    services.signature_withdraw(signature_id=rows[0].signature_id)
    _expire_leases()
    assert send_due_emails() == 0
    assert mail.outbox == []


def test_a_failed_send_backs_off_then_gives_up(sign, refusing_mail_server, caplog):
    refusing_mail_server.error = smtplib.SMTPServerDisconnected(
        "mail server went away: ana@example.org"
    )
    sign()
    before = timezone.now()
    assert outbox.signature_emails_send().retrying == 1
    signature = _row()
    assert signature.email_attempts == 1
    assert signature.email_last_error == "SMTPServerDisconnected"
    wait = (signature.email_lease_until - before).total_seconds()
    assert 0 < wait <= outbox.RETRY_BASE_SECONDS + 1
    # Not due yet: nothing is tried.
    assert outbox.signature_emails_send().claimed == 0
    _expire_leases()
    before = timezone.now()
    outbox.signature_emails_send()
    wait = (_row().email_lease_until - before).total_seconds()
    assert outbox.RETRY_BASE_SECONDS < wait <= outbox.RETRY_BASE_SECONDS**2 + 1

    for _ in range(outbox.MAX_ATTEMPTS):
        _expire_leases()
        outbox.signature_emails_send()
    signature = _row()
    assert refusing_mail_server.attempts == outbox.MAX_ATTEMPTS
    assert signature.email_due_at is None and signature.email_sent_at is None
    assert signature.email_last_error == "gave up: SMTPServerDisconnected"
    gave_up = [record for record in caplog.records if record.levelname == "ERROR"]
    assert len(gave_up) == 1
    assert f"signature {signature.pk}" in gave_up[0].getMessage()
    assert "SMTPServerDisconnected" in caplog.text
    assert "ana@example.org" not in caplog.text


def test_a_permanent_refusal_gives_up_at_once(sign, refusing_mail_server, caplog):
    refusing_mail_server.error = smtplib.SMTPRecipientsRefused(
        {"ana@example.org": (550, b"no such user: ana@example.org")}
    )
    sign()
    assert outbox.signature_emails_send().gave_up == 1
    signature = _row()
    assert signature.email_due_at is None
    assert signature.email_last_error == "gave up: SMTPRecipientsRefused 550"
    assert "ana@example.org" not in caplog.text


def test_signing_again_after_confirming_makes_the_already_signed_email_due(sign):
    sign()
    send_due_emails()
    signature = services.signature_confirm(signature_id=_row().pk)
    assert sign() == services.SignOutcome.REPEAT_CONFIRMED
    signature = _row()
    assert (signature.email_kind, signature.repeat_emails_sent) == (
        "already_signed",
        1,
    )
    assert signature.email_due_at is not None
    assert send_due_emails() == 1
    assert "already" in mail.outbox[1].subject
    # A new e-mail, so a new Message-ID: the mailbox must not fold it away.
    assert _message_ids()[1].startswith(f"<signature-{signature.pk}.already_signed.1.")


def test_signing_again_while_a_worker_holds_the_first_email_still_sends_the_new(
    sign,
):
    sign()
    (held,) = outbox._claim(size=10, lease_seconds=60)
    assert sign() == services.SignOutcome.REPEAT_PENDING
    # The slow worker's mark of the first e-mail no longer applies.
    assert not outbox._mark_sent(held)
    assert send_due_emails() == 1
    assert _message_ids()[0].startswith(f"<signature-{held.signature_id}.confirm.1.")


def test_the_command_survives_a_database_that_went_away(monkeypatch, caplog, sign):
    sign()
    real = outbox.signature_emails_send
    calls = []

    def flaky(**options):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(**options)

    monkeypatch.setattr(
        "petitions.management.commands.send_signature_emails.signature_emails_send",
        flaky,
    )
    monkeypatch.setattr(
        "petitions.management.commands.send_signature_emails.RECONNECT_SECONDS", 0
    )
    output = io.StringIO()
    call_command("send_signature_emails", "--once", stdout=output)
    assert output.getvalue().strip() == "1 sent"
    assert "database unavailable (OperationalError)" in caplog.text
    assert len(mail.outbox) == 1
