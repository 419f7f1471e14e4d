"""Milestones: each goal recorded once; notes for opted-in confirmed signers only."""

import datetime
import re
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.db import IntegrityError
from django.utils import timezone
from procrastinate.contrib.django.models import ProcrastinateJob

from newsletters import delivery
from newsletters import services as newsletter_services
from newsletters.models import SendThrottle, Subscriber
from organising import milestones, paper
from organising.models import Milestone, MilestoneNote, PaperBatch
from organising.tasks import detect_milestones, send_milestone_notes
from petitions.models import Petition, Signature
from tests.newsletters.factories import IssueFactory, SubscriberFactory
from tests.newsletters.test_delivery import WorkerKilled, mailbox
from tests.petitions.factories import ConfirmedSignatureFactory, PetitionFactory

from .factories import recount

pytestmark = pytest.mark.django_db


@pytest.fixture
def petition():
    return PetitionFactory(slug="justice", goal=4, title="Justice now")


def _signers(petition, number, **kwargs):
    ConfirmedSignatureFactory.create_batch(number, petition=petition, **kwargs)
    recount(petition)


def test_goals_reached_are_the_goal_and_its_doublings(petition):
    assert petition.goals_reached(3) == []
    assert petition.goals_reached(4) == [4]
    assert petition.goals_reached(17) == [4, 8, 16]
    # The same goals the petition page shows as the next one.
    assert petition.goal_for(17) == 32


def test_a_goal_is_recorded_once_however_often_detection_runs(petition):
    _signers(petition, 4)
    assert [m.goal for m in milestones.milestones_detect()] == [4]
    assert milestones.milestones_detect() == []
    _signers(petition, 4)
    assert [m.goal for m in milestones.milestones_detect()] == [8]
    assert Milestone.objects.count() == 2


def test_the_database_refuses_a_second_record_of_a_goal(petition):
    Milestone.objects.create(petition=petition, goal=4)
    with pytest.raises(IntegrityError):
        Milestone.objects.create(petition=petition, goal=4)


def test_several_goals_at_once_announce_only_the_highest(petition):
    _signers(petition, 17)
    found = milestones.milestones_detect()
    assert [(m.goal, m.announce) for m in found] == [
        (4, False),
        (8, False),
        (16, True),
    ]
    assert list(milestones.milestones_to_announce()) == [found[-1]]


def test_paper_batches_count_toward_the_goal(petition):
    _signers(petition, 1)
    paper.paper_batch_save(
        batch=PaperBatch(
            petition=petition,
            count=3,
            collected_on=datetime.date(2026, 11, 1),
            collected_by="Cusco",
        )
    )
    assert [m.goal for m in milestones.milestones_detect()] == [4]


def test_drafts_reach_no_milestone():
    draft = PetitionFactory(goal=1, state=Petition.State.DRAFT)
    _signers(draft, 2)
    assert milestones.milestones_detect() == []


def test_recipients_are_confirmed_signers_who_asked_for_updates(petition):
    yes = ConfirmedSignatureFactory(petition=petition, wants_updates=True)
    ConfirmedSignatureFactory(petition=petition, wants_updates=False)
    ConfirmedSignatureFactory(
        petition=petition, wants_updates=True, status=Signature.Status.PENDING
    )
    ConfirmedSignatureFactory(wants_updates=True)  # another petition
    milestone = Milestone.objects.create(petition=petition, goal=4)
    assert list(milestones.milestone_recipients(milestone=milestone)) == [yes]


# Thousands separators differ by language (1,000 / 1000 / 1 000).
@pytest.mark.parametrize(
    ("language", "subject", "words"),
    [
        ("en", r"We reached 1.?000 signatures: Justice now", r"next goal is 2.?000"),
        ("es", r"Llegamos a 1.?000 firmas: Justice now", r"próxima meta es 2.?000"),
    ],
)
def test_the_note_is_short_and_in_the_signers_language(
    petition, language, subject, words
):
    signature = ConfirmedSignatureFactory(
        petition=petition,
        wants_updates=True,
        consent_language=language,
        full_name="Rosa Mamani",
    )
    milestone = Milestone.objects.create(petition=petition, goal=1000)
    message = milestones.build_milestone_email(signature=signature, milestone=milestone)
    assert re.fullmatch(subject, message.subject)
    assert re.search(words, message.body)
    assert message.to == [signature.email]
    assert "/petitions/unsubscribe/?t=" in message.body
    assert message.extra_headers["List-Unsubscribe"].startswith("<http")
    assert "Rosa" in message.body and "Mamani" not in message.body
    assert len(message.body) < 1200


def test_marking_announced_takes_it_off_the_list(petition):
    milestone = Milestone.objects.create(petition=petition, goal=4)
    milestones.milestone_mark_announced(milestone=milestone)
    assert not milestones.milestones_to_announce().exists()


def test_the_command_records_and_reports(petition, capsys):
    _signers(petition, 4, wants_updates=True)
    call_command("detect_milestones")
    assert "justice reached 4: 4 to notify" in capsys.readouterr().out
    assert Milestone.objects.get().goal == 4


def test_the_note_names_who_runs_the_campaign(petition, settings):
    settings.CAMPAIGN_ORGANISATION = "Colectivo Memoria"
    settings.CAMPAIGN_POSTAL_ADDRESS = "Jr. Ejemplo 123, Lima"
    settings.DATA_CONTROLLER = "Colectivo Memoria (data)"
    settings.CONTACT_EMAIL = "privacy@memoria.example"
    signature = ConfirmedSignatureFactory(petition=petition, wants_updates=True)
    milestone = Milestone.objects.create(petition=petition, goal=4)
    message = milestones.build_milestone_email(signature=signature, milestone=milestone)
    html = message.alternatives[0][0]
    for part in (message.body, html):
        assert "A campaign run by Colectivo Memoria" in part
        assert "Jr. Ejemplo 123, Lima" in part
        assert "Your details are held by Colectivo Memoria (data)" in part
        assert "privacy@memoria.example" in part


# -- sending, from the worker -------------------------------------------------


class FlakyBackend(BaseEmailBackend):
    """Accepts messages into mail.outbox until the n-th, where the connection
    breaks mid-message (so nobody knows whether it was delivered)."""

    break_at = None
    handed = 0

    def send_messages(self, messages):
        FlakyBackend.handed += 1
        if FlakyBackend.handed == FlakyBackend.break_at:
            raise smtplib.SMTPServerDisconnected("lost: signer@example.org")
        mail.outbox.extend(messages)
        return len(messages)


@pytest.fixture
def flaky_mail_server(settings):
    FlakyBackend.handed, FlakyBackend.break_at = 0, None
    settings.EMAIL_BACKEND = "tests.organising.test_milestones.FlakyBackend"
    return FlakyBackend


def _notes(milestone):
    return dict(
        MilestoneNote.objects.filter(milestone=milestone).values_list(
            "signature_id", "state"
        )
    )


def test_the_worker_detects_and_sends_each_note_once_in_the_signers_language(
    petition, run_jobs
):
    english = ConfirmedSignatureFactory.create_batch(
        2, petition=petition, wants_updates=True
    )
    spanish = ConfirmedSignatureFactory(
        petition=petition, wants_updates=True, consent_language="es"
    )
    ConfirmedSignatureFactory(petition=petition, wants_updates=False)
    bounced = ConfirmedSignatureFactory(petition=petition, wants_updates=True)
    SubscriberFactory(
        email=bounced.email, source="signer", status=Subscriber.Status.BOUNCED
    )
    recount(petition)
    detect_milestones.defer(timestamp=0)
    run_jobs()
    milestone = Milestone.objects.get()
    assert milestone.goal == 4 and milestone.announced_at is not None
    sent_to = sorted(message.to[0] for message in mail.outbox)
    assert sent_to == sorted(s.email for s in [*english, spanish])
    subjects = {message.to[0]: message.subject for message in mail.outbox}
    assert subjects[spanish.email].startswith("Llegamos a 4 firmas")
    assert subjects[english[0].email].startswith("We reached 4 signatures")
    assert set(_notes(milestone).values()) == {"sent"}
    jobs = ProcrastinateJob.objects.filter(task_name=send_milestone_notes.name)
    assert [job.status for job in jobs] == ["succeeded"]

    # Later runs find nothing new to send.
    detect_milestones.defer(timestamp=300)
    run_jobs()
    assert len(mail.outbox) == 3
    assert MilestoneNote.objects.count() == 3


def _send(milestone, rate=0):
    return milestones.milestone_notes_send(milestone_id=milestone.pk, rate=rate)


def _queued(petition, number, **kwargs):
    signers = ConfirmedSignatureFactory.create_batch(
        number, petition=petition, wants_updates=True, **kwargs
    )
    milestone = Milestone.objects.create(petition=petition, goal=4)
    milestones.milestone_notes_queue(milestone=milestone)
    return signers, milestone


def _make_due():
    MilestoneNote.objects.filter(state="queued").update(
        next_attempt_at=timezone.now() - datetime.timedelta(hours=1)
    )


def _message_id(milestone, signature):
    return milestones.note_message_id(
        milestone_id=milestone.pk, signature_id=signature.pk
    )


def test_a_send_cut_short_sends_the_interrupted_note_again_and_nobody_twice(
    petition, flaky_mail_server
):
    # The newsletter's rule: the note in doubt is transmitted again, under the
    # same Message-ID (it used to be marked failed and never resent).
    signers, milestone = _queued(petition, 4)
    flaky_mail_server.break_at = 2
    result = _send(milestone)
    assert (result.sent, result.in_doubt) == (1, 1)
    assert [m.to[0] for m in mail.outbox] == [signers[0].email]
    assert _notes(milestone) == {
        signers[0].pk: "sent",
        signers[1].pk: "queued",
        signers[2].pk: "queued",
        signers[3].pk: "queued",
    }
    doubtful = MilestoneNote.objects.get(signature=signers[1])
    assert doubtful.last_error == delivery.IN_DOUBT
    assert doubtful.retransmitted == 1
    assert milestones.milestones_to_announce().exists()

    _make_due()
    result = _send(milestone)
    assert (result.sent, result.in_doubt) == (3, 0)
    assert [m.to[0] for m in mail.outbox] == [s.email for s in signers]
    assert not milestones.milestones_to_announce().exists()


def test_a_worker_killed_mid_batch_retransmits_only_the_note_in_doubt(
    petition, settings
):
    settings.EMAIL_BACKEND = "tests.newsletters.test_delivery.AcceptedThenKilledBackend"
    first, second = ConfirmedSignatureFactory.create_batch(
        2, petition=petition, wants_updates=True
    )
    killed = ConfirmedSignatureFactory(
        petition=petition, wants_updates=True, email="killed@example.org"
    )
    later = ConfirmedSignatureFactory.create_batch(
        2, petition=petition, wants_updates=True
    )
    milestone = Milestone.objects.create(petition=petition, goal=4)
    milestones.milestone_notes_queue(milestone=milestone)
    # The server takes the third note, then the worker dies before it can
    # write down that it did: its claim stays `sending` until the lease ends.
    with pytest.raises(WorkerKilled):
        _send(milestone)
    assert sorted(mailbox()) == sorted([first.email, second.email, killed.email])
    assert MilestoneNote.objects.filter(state="sending").count() == 3
    MilestoneNote.objects.filter(state="sending").update(
        lease_until=timezone.now() - datetime.timedelta(seconds=1)
    )
    # The detection tick applies the lease rule before queuing the sends.
    assert milestones.milestones_start_notes() == 1
    assert MilestoneNote.objects.get(signature=killed).retransmitted == 1
    _send(milestone)
    received = mailbox()
    assert received.pop(killed.email) == [_message_id(milestone, killed)] * 2
    assert received == {
        s.email: [_message_id(milestone, s)] for s in [first, second, *later]
    }
    assert set(_notes(milestone).values()) == {"sent"}
    assert not milestones.milestones_to_announce().exists()


def test_notes_and_issues_take_permits_from_one_throttle(petition):
    _signers, milestone = _queued(petition, 2)
    issue = IssueFactory()
    SubscriberFactory.create_batch(2)
    newsletter_services.issue_queue(issue=issue)
    assert not SendThrottle.objects.exists()
    assert _send(milestone, rate=500).sent == 2
    assert list(SendThrottle.objects.values_list("name", flat=True)) == [
        delivery.THROTTLE_NAME
    ]
    bucket = SendThrottle.objects.get()
    assert delivery.send_issue(issue_id=issue.pk, rate=500).sent == 2
    assert list(SendThrottle.objects.values_list("pk", flat=True)) == [bucket.pk]
    assert SendThrottle.objects.get().updated_at > bucket.updated_at


def test_a_note_is_not_sent_to_an_address_suppressed_after_queuing(petition):
    signers, milestone = _queued(petition, 3)
    SubscriberFactory(
        email=signers[1].email, source="signer", status=Subscriber.Status.COMPLAINED
    )
    result = _send(milestone)
    assert (result.sent, result.cancelled) == (2, 1)
    assert signers[1].email not in mailbox()
    assert _notes(milestone)[signers[1].pk] == "cancelled"
    assert not milestones.milestones_to_announce().exists()


def test_a_hard_refusal_bounces_the_note_and_suppresses_the_address(petition, settings):
    settings.EMAIL_BACKEND = "tests.newsletters.test_delivery.RefusingBackend"
    signers, milestone = _queued(petition, 1, email="hard@example.org")
    SubscriberFactory(email="hard@example.org", source="signer")
    assert _send(milestone).bounced == 1
    assert _notes(milestone) == {signers[0].pk: "bounced"}
    assert Subscriber.objects.get().status == Subscriber.Status.BOUNCED


def test_detection_running_twice_queues_each_note_once(petition):
    signers = ConfirmedSignatureFactory.create_batch(
        4, petition=petition, wants_updates=True
    )
    recount(petition)
    for _tick in range(2):
        milestones.milestones_detect()
        milestones.milestones_start_notes()
    milestone = Milestone.objects.get()
    jobs = ProcrastinateJob.objects.filter(task_name=send_milestone_notes.name)
    assert jobs.count() == 1
    milestones.milestone_notes_queue(milestone=milestone)
    assert _notes(milestone) == dict.fromkeys((s.pk for s in signers), "queued")
    _send(milestone)
    _send(milestone)
    assert sorted(mailbox()) == sorted(s.email for s in signers)
    assert MilestoneNote.objects.count() == 4


def test_signers_who_join_while_a_milestone_is_open_get_the_note_too(petition):
    signers, milestone = _queued(petition, 1)
    newcomer = ConfirmedSignatureFactory(petition=petition, wants_updates=True)
    assert _send(milestone).sent == 2
    assert _notes(milestone) == {signers[0].pk: "sent", newcomer.pk: "sent"}


def test_notes_are_queued_once_per_milestone_still_to_announce(petition):
    first = Milestone.objects.create(petition=petition, goal=4)
    Milestone.objects.create(petition=petition, goal=8, announce=False)
    done = Milestone.objects.create(petition=petition, goal=16)
    milestones.milestone_mark_announced(milestone=done)
    assert milestones.milestones_start_notes() == 1
    assert milestones.milestones_start_notes() == 0  # already waiting
    jobs = ProcrastinateJob.objects.filter(task_name=send_milestone_notes.name)
    assert [job.args for job in jobs] == [{"milestone_id": first.pk}]


def test_a_mail_server_out_of_reach_gives_every_note_back_for_later(petition, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9
    settings.EMAIL_TIMEOUT = 2
    _signers, milestone = _queued(petition, 1)
    result = _send(milestone)
    assert (result.sent, result.released) == (0, 1)
    note = MilestoneNote.objects.get()
    assert note.state == "queued" and note.attempts == 1
    assert note.next_attempt_at > timezone.now()
    assert milestones.milestones_to_announce().exists()


def test_the_admin_lists_each_milestone_with_its_notes_progress(
    petition, admin_client, flaky_mail_server
):
    _signers, milestone = _queued(petition, 3)
    ConfirmedSignatureFactory(petition=petition, wants_updates=True)
    flaky_mail_server.break_at = 2
    _send(milestone)
    progress = milestones.milestones_with_note_progress().get(pk=milestone.pk)
    assert (
        progress.notes_sent,
        progress.notes_waiting,
        progress.notes_not_sent,
        progress.notes_retransmitted,
    ) == (1, 3, 0, 1)
    response = admin_client.get("/admin/organising/milestone/")
    assert response.status_code == 200
    assert "Sent again after an interruption" in response.text
    row = response.context["cl"].result_list.get(pk=milestone.pk)
    assert (row.notes_sent, row.notes_waiting) == (1, 3)
