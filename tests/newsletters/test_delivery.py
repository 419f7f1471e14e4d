"""Sending an issue: exactly-once per subscriber, the lease rule, retries, throttle."""

import datetime
import smtplib
import uuid

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from procrastinate.contrib.django.models import ProcrastinateJob

from core.encryption import email_index
from newsletters import delivery, emails, services
from newsletters.models import Delivery, Issue, Subscriber
from newsletters.tasks import newsletter_tick

from .factories import EntryFactory, IssueFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


class RefusingBackend(EmailBackend):
    """Refuses addresses by their local part: hard@ (550), soft@ (451),
    cut@ (the connection drops mid-message); sends the rest."""

    def send_messages(self, messages):
        for message in messages:
            local = message.to[0].split("@")[0]
            if local.startswith("hard"):
                raise smtplib.SMTPRecipientsRefused({message.to[0]: (550, b"no")})
            if local.startswith("soft"):
                raise smtplib.SMTPRecipientsRefused({message.to[0]: (451, b"later")})
            if local.startswith("cut"):
                raise smtplib.SMTPServerDisconnected("gone")
        return super().send_messages(messages)


class UnreachableBackend(EmailBackend):
    def open(self):
        raise ConnectionRefusedError("no server")


class WorkerKilled(BaseException):
    """What SIGKILL looks like from inside: nothing in send_batch runs after it."""


# Message-IDs the backends below have already interrupted once.
_interrupted: set[str] = set()


@pytest.fixture(autouse=True)
def _forget_interruptions():
    _interrupted.clear()


class _AcceptedThenInterrupted(EmailBackend):
    """The server takes the message for an address starting with `prefix`,
    then the sender is interrupted before it hears so; once per Message-ID,
    so the next attempt goes through."""

    prefix = ""

    def interruption(self) -> BaseException:
        raise NotImplementedError

    def send_messages(self, messages):
        sent = super().send_messages(messages)
        for message in messages:
            message_id = message.extra_headers["Message-ID"]
            if message.to[0].startswith(self.prefix) and message_id not in _interrupted:
                _interrupted.add(message_id)
                raise self.interruption()
        return sent


class AcceptedThenCutBackend(_AcceptedThenInterrupted):
    """The worst case of a broken connection: the connection drops."""

    prefix = "cut"

    def interruption(self):
        return smtplib.SMTPServerDisconnected("gone")


class AcceptedThenKilledBackend(_AcceptedThenInterrupted):
    """The worker dies."""

    prefix = "killed"

    def interruption(self):
        return WorkerKilled()


LONG_AGO = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


def send_all(issue, **options):
    return delivery.send_issue(issue_id=issue.pk, rate=0, **options)


@pytest.fixture
def issue():
    return IssueFactory()


def recipients():
    return sorted(message.to[0] for message in mail.outbox)


def states():
    return dict(Delivery.objects.values_list("subscriber__email", "state").order_by())


def mailbox():
    """Per recipient, the Message-IDs received, one entry per transmission."""
    received = {}
    for message in mail.outbox:
        received.setdefault(message.to[0], []).append(message.message()["Message-ID"])
    return received


def expected_id(issue, email):
    subscriber = Subscriber.objects.get(email_normalised=email_index(email))
    return emails.issue_message_id(issue_id=issue.pk, subscriber_id=subscriber.pk)


def expire_leases():
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE newsletters_delivery SET lease_until = now() - interval '1 second' "
            "WHERE state = 'sending'"
        )


def make_due():
    Delivery.objects.filter(state="queued").update(next_attempt_at=LONG_AGO)


# --- queuing ------------------------------------------------------------------
def test_queuing_makes_one_delivery_per_receiving_subscriber(issue):
    a, b = SubscriberFactory(), SubscriberFactory()
    SubscriberFactory(status="unsubscribed")
    SubscriberFactory(status="pending", confirmed_at=None)
    SubscriberFactory(status="bounced")
    assert services.issue_queue(issue=issue) == 2
    assert set(Delivery.objects.values_list("subscriber_id", flat=True)) == {
        a.pk,
        b.pk,
    }
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENDING and issue.recipients == 2


def test_queuing_defers_a_few_batch_tasks_in_the_same_transaction(issue, settings):
    settings.NEWSLETTER_PARALLEL_BATCHES = 3
    for _ in range(10):
        SubscriberFactory()
    services.issue_queue(issue=issue)
    jobs = ProcrastinateJob.objects.filter(
        task_name="newsletters.tasks.send_issue_batches"
    )
    assert jobs.count() == 3
    assert {job.args["issue_id"] for job in jobs} == {issue.pk}
    # Starting them again while they wait adds none.
    assert services.issue_batches_start(issue_id=issue.pk) == 0


def test_an_issue_cannot_be_queued_twice(issue):
    SubscriberFactory()
    services.issue_queue(issue=issue)
    with pytest.raises(ValidationError):
        services.issue_queue(issue=issue)
    assert Delivery.objects.count() == 1


def test_an_issue_with_an_unpublished_entry_is_refused():
    issue = IssueFactory(entries=[EntryFactory(draft=True)])
    with pytest.raises(ValidationError):
        services.issue_queue(issue=issue)
    assert not Delivery.objects.exists()


def test_an_issue_without_entries_is_refused():
    issue = IssueFactory(entries=[])
    with pytest.raises(ValidationError):
        services.issue_queue(issue=issue)


# --- sending ------------------------------------------------------------------
def test_every_subscriber_gets_exactly_one_copy_in_batches(issue, settings):
    settings.NEWSLETTER_BATCH_SIZE = 3
    subscribers = [SubscriberFactory() for _ in range(10)]
    services.issue_queue(issue=issue)
    result = send_all(issue)
    assert result.sent == 10
    assert recipients() == sorted(s.email for s in subscribers)
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT and issue.finished_at
    # Running the batches again sends nothing more.
    Issue.objects.filter(pk=issue.pk).update(status="sending")
    assert send_all(issue).sent == 0
    assert len(mail.outbox) == 10


def test_each_subscriber_gets_their_language_english_where_no_spanish_text():
    translated = EntryFactory(
        title="Court ruling", title_es="Fallo judicial", body_es="Texto"
    )
    untranslated = EntryFactory(title="Only English", body="English only text")
    SubscriberFactory(email="en@example.org", language="en")
    SubscriberFactory(email="es@example.org", language="es")
    issue = IssueFactory(entries=[translated, untranslated])
    services.issue_queue(issue=issue)
    send_all(issue)
    by_address = {message.to[0]: message for message in mail.outbox}
    spanish = by_address["es@example.org"]
    assert spanish.subject == "Fallo judicial"
    assert "Fallo judicial" in spanish.body and "English only text" in spanish.body
    assert "/es/news/" in spanish.body
    english = by_address["en@example.org"]
    assert english.subject == "Court ruling" and "Fallo" not in english.body


def test_the_message_has_one_click_unsubscribe_headers_and_no_tracking(issue):
    subscriber = SubscriberFactory()
    services.issue_queue(issue=issue)
    send_all(issue)
    message = mail.outbox[0]
    link = message.extra_headers["List-Unsubscribe"]
    assert link.startswith("<http") and "/news/unsubscribe/?t=" in link
    assert (
        message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    )
    assert link.strip("<>") in message.body
    html = message.alternatives[0][0]
    assert "<img" not in html
    assert link.strip("<>") in html
    from newsletters.tokens import read_token

    assert read_token(link.strip("<>").split("t=")[1], "unsubscribe") == subscriber.pk


def test_links_are_not_rewritten():
    entry = EntryFactory(body="See [the report](https://www.amnesty.org/en/peru/).")
    SubscriberFactory()
    issue = IssueFactory(entries=[entry])
    services.issue_queue(issue=issue)
    send_all(issue)
    assert (
        'href="https://www.amnesty.org/en/peru/"' in mail.outbox[0].alternatives[0][0]
    )


def test_someone_who_unsubscribes_after_queuing_gets_nothing(issue):
    stays, leaves = SubscriberFactory(), SubscriberFactory()
    services.issue_queue(issue=issue)
    services.subscriber_unsubscribe(subscriber_id=leaves.pk)
    send_all(issue)
    assert recipients() == [stays.email]
    assert states()[leaves.email] == Delivery.State.CANCELLED


# --- failures -----------------------------------------------------------------
def test_a_hard_refusal_bounces_the_address_and_the_rest_still_go(issue, settings):
    settings.EMAIL_BACKEND = "tests.newsletters.test_delivery.RefusingBackend"
    SubscriberFactory(email="a@example.org")
    SubscriberFactory(email="hard@example.org")
    SubscriberFactory(email="z@example.org")
    services.issue_queue(issue=issue)
    send_all(issue)
    assert recipients() == ["a@example.org", "z@example.org"]
    assert states()["hard@example.org"] == Delivery.State.BOUNCED
    assert (
        Subscriber.objects.get(email_normalised=email_index("hard@example.org")).status
        == "bounced"
    )


def test_a_temporary_refusal_is_retried_later_with_back_off(issue, settings):
    settings.EMAIL_BACKEND = "tests.newsletters.test_delivery.RefusingBackend"
    SubscriberFactory(email="soft@example.org")
    services.issue_queue(issue=issue)
    result = send_all(issue)
    assert result.retrying == 1
    row = Delivery.objects.get()
    assert row.state == Delivery.State.QUEUED and row.attempts == 1
    assert "451" in row.last_error and "soft@" not in row.last_error
    assert row.next_attempt_at > row.updated_at
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENDING
    # A task is waiting for when it is due.
    later = ProcrastinateJob.objects.filter(
        task_name="newsletters.tasks.send_issue_batches", scheduled_at__isnull=False
    )
    assert later.exists()


def test_retries_give_up_after_the_last_attempt(issue, settings):
    settings.EMAIL_BACKEND = "tests.newsletters.test_delivery.RefusingBackend"
    SubscriberFactory(email="soft@example.org")
    services.issue_queue(issue=issue)
    Delivery.objects.update(attempts=delivery.MAX_ATTEMPTS - 1)
    send_all(issue)
    assert Delivery.objects.get().state == Delivery.State.FAILED
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT


def test_backoff_grows_and_is_capped():
    assert [delivery.backoff(n).total_seconds() for n in (1, 2, 3)] == [60, 120, 240]
    assert delivery.backoff(20).total_seconds() == 3600


def test_an_unreachable_server_gives_every_row_back_for_later(issue, settings):
    settings.EMAIL_BACKEND = "tests.newsletters.test_delivery.UnreachableBackend"
    SubscriberFactory()
    SubscriberFactory()
    services.issue_queue(issue=issue)
    result = send_all(issue)
    assert result.released == 2 and result.sent == 0
    assert set(Delivery.objects.values_list("state", flat=True)) == {"queued"}


def test_a_connection_cut_mid_message_is_sent_again_with_the_same_message_id(
    issue, settings
):
    settings.EMAIL_BACKEND = "tests.newsletters.test_delivery.AcceptedThenCutBackend"
    SubscriberFactory(email="a@example.org")
    SubscriberFactory(email="cut@example.org")
    SubscriberFactory(email="z@example.org")
    services.issue_queue(issue=issue)
    result = send_all(issue)
    assert result.in_doubt == 1
    row = Delivery.objects.get(
        subscriber__email_normalised=email_index("cut@example.org")
    )
    assert row.state == Delivery.State.QUEUED and row.retransmitted == 1
    assert row.last_error == delivery.IN_DOUBT
    # After a back-off, as for a temporary refusal: the server seemed unwell.
    assert row.next_attempt_at > row.updated_at
    assert services.issue_retransmitted_count(issue=issue) == 1
    # The rows after it were given back, and a later batch sends them all.
    assert (
        Delivery.objects.get(
            subscriber__email_normalised=email_index("z@example.org")
        ).state
        == "queued"
    )
    make_due()
    send_all(issue)
    cut = expected_id(issue, "cut@example.org")
    assert mailbox() == {
        "a@example.org": [expected_id(issue, "a@example.org")],
        # Transmitted twice, one message: both carry the same Message-ID.
        "cut@example.org": [cut, cut],
        "z@example.org": [expected_id(issue, "z@example.org")],
    }
    assert set(Delivery.objects.values_list("state", flat=True)) == {"sent"}
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT


def test_a_connection_cut_at_every_attempt_gives_up_after_the_last(issue, settings):
    settings.EMAIL_BACKEND = "tests.newsletters.test_delivery.RefusingBackend"
    SubscriberFactory(email="cut@example.org")
    services.issue_queue(issue=issue)
    for _ in range(delivery.MAX_ATTEMPTS + 2):
        make_due()
        send_all(issue)
    row = Delivery.objects.get()
    assert row.state == Delivery.State.FAILED
    assert row.last_error == delivery.GAVE_UP_IN_DOUBT
    assert row.attempts == delivery.MAX_ATTEMPTS
    assert row.retransmitted == delivery.MAX_ATTEMPTS - 1
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT


# --- a worker that dies (the lease rule) --------------------------------------
def crash_after(issue, *, sent: int, size: int = 5):
    """What a worker killed mid-batch leaves: a claim of `size` rows, the
    first `sent` of them marked sent, the rest still `sending`, lease expired."""
    claim_id, rows = delivery.claim(
        delivery.ISSUES, parent_id=issue.pk, size=size, lease_seconds=60
    )
    for row in rows[:sent]:
        delivery._mark(
            delivery.ISSUES,
            row.delivery_id,
            claim_id,
            "state = 'sent', sent_at = now()",
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE newsletters_delivery SET lease_until = now() - interval '1 second' "
            "WHERE claim = %s",
            [claim_id],
        )
    return claim_id, rows


def test_after_a_crash_the_row_in_flight_goes_again_and_the_rest_once(issue):
    subscribers = [SubscriberFactory() for _ in range(8)]
    services.issue_queue(issue=issue)
    _claim, rows = crash_after(issue, sent=2, size=5)
    in_doubt, requeued = delivery.reconcile_expired()
    assert (in_doubt, requeued) == (1, 2)
    doubtful = Delivery.objects.get(pk=rows[2].delivery_id)
    assert doubtful.state == Delivery.State.QUEUED and doubtful.retransmitted == 1
    assert doubtful.last_error == delivery.IN_DOUBT
    send_all(issue)
    # The 2 marked sent are never sent again; everyone else (the one in doubt
    # included) once, each with their own stable Message-ID.
    settled = {Subscriber.objects.get(pk=row.recipient_id) for row in rows[:2]}
    expected = {
        s.email: [emails.issue_message_id(issue_id=issue.pk, subscriber_id=s.pk)]
        for s in subscribers
        if s not in settled
    }
    assert mailbox() == expected
    assert Delivery.objects.filter(state="sent").count() == 8
    assert Delivery.objects.filter(retransmitted__gt=0).count() == 1
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT


def test_a_worker_killed_after_the_server_took_a_message_sends_it_again_as_the_same(
    issue, settings
):
    settings.EMAIL_BACKEND = "tests.newsletters.test_delivery.AcceptedThenKilledBackend"
    settings.NEWSLETTER_BATCH_SIZE = 10
    for email in ("a@example.org", "b@example.org", "killed@example.org"):
        SubscriberFactory(email=email)
    SubscriberFactory(email="y@example.org")
    SubscriberFactory(email="z@example.org")
    services.issue_queue(issue=issue)
    with pytest.raises(WorkerKilled):
        send_all(issue)
    # What the dead worker left: two rows sent, the rest of its claim sending.
    assert sorted(mailbox()) == ["a@example.org", "b@example.org", "killed@example.org"]
    assert Delivery.objects.filter(state="sending").count() == 3
    expire_leases()
    assert delivery.reconcile_expired() == (1, 2)
    send_all(issue)
    received = mailbox()
    killed = expected_id(issue, "killed@example.org")
    assert received.pop("killed@example.org") == [killed, killed]
    assert received == {
        email: [expected_id(issue, email)]
        for email in (
            "a@example.org",
            "b@example.org",
            "y@example.org",
            "z@example.org",
        )
    }
    assert set(Delivery.objects.values_list("state", flat=True)) == {"sent"}


def test_a_row_in_doubt_at_its_last_attempt_fails_instead(issue):
    SubscriberFactory()
    SubscriberFactory()
    services.issue_queue(issue=issue)
    Delivery.objects.update(attempts=delivery.MAX_ATTEMPTS - 1)
    _claim, rows = crash_after(issue, sent=0, size=2)
    assert delivery.reconcile_expired() == (1, 1)
    doubtful = Delivery.objects.get(pk=rows[0].delivery_id)
    assert doubtful.state == Delivery.State.FAILED
    assert doubtful.last_error == delivery.GAVE_UP_IN_DOUBT
    assert doubtful.retransmitted == 0
    # The row after it was never handed to SMTP: it still goes.
    assert Delivery.objects.get(pk=rows[1].delivery_id).state == "queued"


def test_a_sent_row_is_never_sent_again(issue):
    SubscriberFactory()
    services.issue_queue(issue=issue)
    send_all(issue)
    assert len(mail.outbox) == 1
    # Whatever the lease rule and the batches do next, a sent row stays sent.
    expire_leases()
    assert delivery.reconcile_expired() == (0, 0)
    Delivery.objects.update(next_attempt_at=LONG_AGO)
    Issue.objects.filter(pk=issue.pk).update(status="sending")
    assert send_all(issue).claimed == 0
    assert len(mail.outbox) == 1


def test_a_live_lease_is_left_alone(issue):
    SubscriberFactory()
    services.issue_queue(issue=issue)
    delivery.claim(delivery.ISSUES, parent_id=issue.pk, size=5, lease_seconds=60)
    assert delivery.reconcile_expired() == (0, 0)
    assert Delivery.objects.get().state == Delivery.State.SENDING


def test_a_slow_worker_whose_claim_was_reconciled_stops(issue):
    SubscriberFactory()
    SubscriberFactory()
    services.issue_queue(issue=issue)
    claim_id, rows = crash_after(issue, sent=0, size=2)
    delivery.reconcile_expired()
    with pytest.raises(delivery.LeaseLost):
        delivery._mark(delivery.ISSUES, rows[0].delivery_id, claim_id, "state = 'sent'")
    with pytest.raises(delivery.LeaseLost):
        delivery._renew(delivery.ISSUES, claim_id, 60, remaining=1)


def test_two_claims_never_share_a_row(issue):
    for _ in range(6):
        SubscriberFactory()
    services.issue_queue(issue=issue)
    _a, first = delivery.claim(
        delivery.ISSUES, parent_id=issue.pk, size=4, lease_seconds=60
    )
    _b, second = delivery.claim(
        delivery.ISSUES, parent_id=issue.pk, size=4, lease_seconds=60
    )
    assert len(first) == 4 and len(second) == 2
    assert not {r.delivery_id for r in first} & {r.delivery_id for r in second}


def test_the_minute_tick_reconciles_and_restarts_a_send(issue):
    SubscriberFactory()
    SubscriberFactory()
    services.issue_queue(issue=issue)
    ProcrastinateJob.objects.all()._raw_delete(ProcrastinateJob.objects.db)
    crash_after(issue, sent=0, size=1)
    result = newsletter_tick(timestamp=0)
    assert result["in_doubt"] == 1 and result["restarted"] >= 1
    assert ProcrastinateJob.objects.filter(
        task_name="newsletters.tasks.send_issue_batches"
    ).exists()


def test_the_unique_constraint_forbids_a_second_delivery():
    from django.db import IntegrityError

    subscriber = SubscriberFactory()
    issue = IssueFactory()
    Delivery.objects.create(issue=issue, subscriber=subscriber)
    with pytest.raises(IntegrityError):
        Delivery.objects.create(issue=issue, subscriber=subscriber)


def test_a_sending_row_must_have_a_lease():
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        Delivery.objects.create(
            issue=IssueFactory(), subscriber=SubscriberFactory(), state="sending"
        )


# --- the throttle -------------------------------------------------------------
def test_the_throttle_grants_at_most_the_bucket_then_refills():
    name = f"test-{uuid.uuid4().hex[:8]}"
    granted = delivery.throttle_take(want=1000, rate=50, name=name)
    # A new bucket starts empty and fills at the rate: a first call waits for
    # at least one permit and never gets more than one second's worth.
    assert 1 <= granted <= 50
    total = granted + delivery.throttle_take(want=1000, rate=50, name=name)
    assert total <= 100


def test_an_unlimited_rate_never_waits():
    assert delivery.throttle_take(want=500, rate=0) == 500


# --- scheduling ---------------------------------------------------------------
def test_scheduling_follows_the_latest_entry_and_the_tick_sends_it(issue):

    from django.utils import timezone

    later = EntryFactory(scheduled=True)
    issue.entries.add(later)
    SubscriberFactory()
    scheduled = services.issue_schedule(issue=issue)
    assert scheduled.status == Issue.Status.SCHEDULED
    assert scheduled.send_at == later.pub_date
    assert services.issues_send_due() == []
    assert services.issues_send_due(
        now=later.pub_date + datetime.timedelta(seconds=1)
    ) == [issue.pk]
    assert Delivery.objects.count() == 1
    assert timezone.now() < later.pub_date


def test_a_scheduled_issue_whose_entry_was_unpublished_goes_back_to_draft(issue):

    later = EntryFactory(scheduled=True)
    issue.entries.add(later)
    services.issue_schedule(issue=issue)
    later.is_published = False
    later.save()
    services.issues_send_due(now=later.pub_date + datetime.timedelta(seconds=1))
    issue.refresh_from_db()
    assert issue.status == Issue.Status.DRAFT
    assert not Delivery.objects.exists()


def test_unscheduling(issue):
    services.issue_schedule(issue=issue)
    assert services.issue_unschedule(issue=issue)
    issue.refresh_from_db()
    assert issue.status == Issue.Status.DRAFT and issue.send_at is None


def test_progress_counts_every_state(issue):
    SubscriberFactory()
    SubscriberFactory()
    services.issue_queue(issue=issue)
    assert services.issue_progress(issue=issue)["queued"] == 2
    send_all(issue)
    progress = services.issue_progress(issue=issue)
    assert progress["sent"] == 2 and progress["queued"] == 0
    assert set(progress) == set(Delivery.State.values)


def test_a_test_send_goes_to_one_address_in_every_language(issue):
    assert services.issue_send_test(issue=issue, to="editor@example.org") == 2
    assert [m.to for m in mail.outbox] == [["editor@example.org"]] * 2
    assert all(m.subject.startswith("[Test]") for m in mail.outbox)
    assert not Delivery.objects.exists()
    # A fresh Message-ID each time, so a second test is not filed as a repeat.
    services.issue_send_test(issue=issue, to="editor@example.org")
    assert len({m.message()["Message-ID"] for m in mail.outbox}) == 4


def test_the_batch_task_sends_and_reports_counts_only(issue):
    from newsletters.tasks import send_issue_batches

    SubscriberFactory(email="a@example.org")
    services.issue_queue(issue=issue)
    result = send_issue_batches(issue_id=issue.pk)
    assert result == {"sent": 1, "failed": 0, "in_doubt": 0}
    assert recipients() == ["a@example.org"]
