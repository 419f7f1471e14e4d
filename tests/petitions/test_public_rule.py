"""Which petitions are public, and when one accepts signatures: one rule each."""

import datetime

import pytest
from django.utils import timezone

from petitions import selectors, services
from petitions.models import Petition

from .factories import PetitionFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("state", list(Petition.State))
def test_the_sql_lookups_agree_with_the_public_queryset(state):
    petition = PetitionFactory(state=state)
    public = Petition.objects.public().filter(pk=petition.pk).exists()
    assert public == (state != Petition.State.DRAFT)
    assert (selectors.petition_public_by_slug(slug=petition.slug) is not None) == public
    assert (
        selectors.petition_public_with_count(slug=petition.slug) is not None
    ) == public


def test_the_refusal_message_follows_the_signing_phase():
    now = timezone.now()
    hour = datetime.timedelta(hours=1)
    cases = [
        (Petition(state="draft"), Petition.Phase.DRAFT, "not open for signatures."),
        (
            Petition(state="open", opens_at=now + hour),
            Petition.Phase.NOT_YET_OPEN,
            "not open for signatures yet.",
        ),
        (Petition(state="open", closes_at=now - hour), Petition.Phase.CLOSED, "closed"),
        (Petition(state="closed"), Petition.Phase.CLOSED, "closed"),
    ]
    for petition, phase, message in cases:
        assert petition.signing_phase(now) == phase
        assert not petition.is_accepting_signatures(now)
        assert message in services.petition_refusal_message(petition, now)
    assert Petition(state="open", opens_at=now - hour).is_accepting_signatures(now)


@pytest.mark.parametrize(
    ("state", "opens_in", "closes_in"),
    [
        ("open", None, None),
        ("open", -1, 1),
        ("open", 1, None),
        ("open", None, -1),
        ("closed", None, None),
        ("closed", -1, 1),
        ("draft", None, None),
    ],
)
def test_the_sign_statement_accepts_exactly_when_the_petition_does(
    state, opens_in, closes_in
):
    now = timezone.now()
    hour = datetime.timedelta(hours=1)
    petition = PetitionFactory(
        state=state,
        opens_at=None if opens_in is None else now + opens_in * hour,
        closes_at=None if closes_in is None else now + closes_in * hour,
    )
    signing = {
        "petition_slug": petition.slug,
        "full_name": "Rosa Quispe",
        "email": "rosa@example.org",
        "country": "PE",
        "now": now,
    }
    if petition.is_accepting_signatures(now):
        assert services.signature_create(**signing) == services.SignOutcome.CREATED
    else:
        with pytest.raises(services.PetitionNotOpen):
            services.signature_create(**signing)
        assert not petition.signatures.exists()
