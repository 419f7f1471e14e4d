"""Milestones: each goal recorded once; notes for opted-in confirmed signers only."""

import datetime
import re

import pytest
from django.core.management import call_command
from django.db import IntegrityError

from petitions import milestones, paper
from petitions.models import Milestone, PaperBatch, Petition, Signature

from .factories import ConfirmedSignatureFactory, PetitionFactory, recount

pytestmark = pytest.mark.django_db


@pytest.fixture
def petition():
    return PetitionFactory(slug="justice", goal=4, title="Justice now")


def _signers(petition, number, **kwargs):
    ConfirmedSignatureFactory.create_batch(number, petition=petition, **kwargs)
    recount(petition)


def test_goals_reached_are_the_goal_and_its_doublings(petition):
    assert milestones.goals_reached(petition, 3) == []
    assert milestones.goals_reached(petition, 4) == [4]
    assert milestones.goals_reached(petition, 17) == [4, 8, 16]
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
