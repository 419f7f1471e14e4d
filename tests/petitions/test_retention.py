"""Deleting signers' personal data after a petition has closed, counts intact."""

import datetime
import io
import tomllib
import zoneinfo
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from organising.exports import export_csv
from petitions.models import Petition, Signature
from petitions.services import (
    PERSONAL_DATA_BLANKED,
    petition_counts_by_country,
    petition_signature_count,
    petitions_closed_before,
    signatures_anonymise,
)
from tests.organising.factories import recount
from tests.petitions.factories import ConfirmedSignatureFactory, PetitionFactory

pytestmark = pytest.mark.django_db

LONDON = zoneinfo.ZoneInfo("Europe/London")
CUTOFF = datetime.datetime(2026, 6, 1, tzinfo=LONDON)


def _at(*args):
    return datetime.datetime(*args, tzinfo=LONDON)


def _signatures(petition):
    ConfirmedSignatureFactory(
        petition=petition,
        country="PE",
        postcode="15001",
        created_at=_at(2026, 1, 5, 10),
        show_publicly=True,
        wants_updates=True,
    )
    ConfirmedSignatureFactory(
        petition=petition, country="GB", created_at=_at(2026, 1, 6, 10)
    )
    ConfirmedSignatureFactory(
        petition=petition, country="PE", created_at=_at(2026, 1, 6, 11)
    )
    ConfirmedSignatureFactory(
        petition=petition,
        status=Signature.Status.INVALIDATED,
        invalidated_at=_at(2026, 1, 7),
    )
    ConfirmedSignatureFactory(petition=petition, status=Signature.Status.PENDING)
    recount(petition)


@pytest.fixture
def closed_long_ago():
    petition = PetitionFactory(
        slug="closed-long-ago",
        state=Petition.State.CLOSED,
        opens_at=_at(2026, 1, 1),
        closes_at=_at(2026, 2, 1),
    )
    _signatures(petition)
    return petition


@pytest.fixture
def closed_recently():
    petition = PetitionFactory(
        slug="closed-recently",
        state=Petition.State.CLOSED,
        opens_at=_at(2026, 1, 1),
        closes_at=_at(2026, 7, 1),
    )
    _signatures(petition)
    return petition


@pytest.fixture
def still_open():
    petition = PetitionFactory(slug="still-open")
    _signatures(petition)
    return petition


def _personal_data(petition):
    return list(
        Signature.objects.filter(petition=petition)
        .order_by("pk")
        .values_list(*PERSONAL_DATA_BLANKED)
    )


def _exports(petition):
    files = []
    for kind in ("by-day", "by-country"):
        _record, chunks = export_csv(petition=petition, kind=kind, requested_by="t")
        files.append(b"".join(chunks))
    return files


def test_dry_run_counts_and_changes_nothing(closed_long_ago, closed_recently):
    before = _personal_data(closed_long_ago)
    out = io.StringIO()
    call_command(
        "anonymise_signatures", "--closed-before", "2026-06-01", "--dry-run", stdout=out
    )
    assert "Would anonymise 5 signatures" in out.getvalue()
    assert "closed-long-ago" in out.getvalue()
    assert "closed-recently" not in out.getvalue()
    assert _personal_data(closed_long_ago) == before
    assert not Signature.objects.filter(anonymised_at__isnull=False).exists()


def test_personal_data_of_petitions_closed_before_the_date_is_deleted(
    closed_long_ago, closed_recently, still_open
):
    untouched = _personal_data(closed_recently) + _personal_data(still_open)
    out = io.StringIO()
    call_command("anonymise_signatures", "--closed-before", "2026-06-01", stdout=out)
    assert "Anonymised 5 signatures" in out.getvalue()
    blank = tuple(PERSONAL_DATA_BLANKED.values())
    assert set(_personal_data(closed_long_ago)) == {blank}
    signatures = Signature.objects.filter(petition=closed_long_ago)
    assert not signatures.filter(anonymised_at__isnull=True).exists()
    assert not signatures.filter(show_publicly=True).exists()
    assert not signatures.filter(wants_updates=True).exists()
    assert _personal_data(closed_recently) + _personal_data(still_open) == untouched


def test_counts_by_day_and_by_country_stay_exact(closed_long_ago):
    exports_before = _exports(closed_long_ago)
    total_before = petition_signature_count(closed_long_ago)
    countries_before = petition_counts_by_country(closed_long_ago)[0]
    statuses_before = sorted(
        Signature.objects.filter(petition=closed_long_ago).values_list(
            "status", "country", "confirmed_at"
        )
    )

    assert signatures_anonymise(closed_before=CUTOFF) == 5

    assert _exports(closed_long_ago) == exports_before
    assert petition_signature_count(closed_long_ago) == total_before == 3
    assert petition_counts_by_country(closed_long_ago)[0] == countries_before
    assert (
        sorted(
            Signature.objects.filter(petition=closed_long_ago).values_list(
                "status", "country", "confirmed_at"
            )
        )
        == statuses_before
    )


def test_running_it_again_finds_nothing_more(closed_long_ago):
    assert signatures_anonymise(closed_before=CUTOFF) == 5
    assert signatures_anonymise(closed_before=CUTOFF) == 0


def test_withdrawn_signatures_are_not_counted_again(closed_long_ago):
    ConfirmedSignatureFactory(
        petition=closed_long_ago,
        status=Signature.Status.WITHDRAWN,
        full_name="",
        email="",
        email_normalised=None,
        withdrawn_at=_at(2026, 1, 20),
    )
    assert signatures_anonymise(closed_before=CUTOFF, dry_run=True) == 5


def test_a_petition_closed_by_hand_without_closing_time_counts_from_its_last_save():
    petition = PetitionFactory(state=Petition.State.CLOSED, closes_at=None)
    Petition.objects.filter(pk=petition.pk).update(updated_at=_at(2026, 3, 1))
    assert list(petitions_closed_before(CUTOFF)) == [petition]
    Petition.objects.filter(pk=petition.pk).update(updated_at=_at(2026, 6, 2))
    assert list(petitions_closed_before(CUTOFF)) == []


def test_an_open_petition_past_its_closing_time_has_closed():
    petition = PetitionFactory(
        state=Petition.State.OPEN, opens_at=_at(2026, 1, 1), closes_at=_at(2026, 2, 1)
    )
    open_without_end = PetitionFactory(state=Petition.State.OPEN, closes_at=None)
    Petition.objects.filter(pk=open_without_end.pk).update(updated_at=_at(2026, 1, 1))
    assert list(petitions_closed_before(CUTOFF)) == [petition]


def test_the_command_refuses_a_future_or_malformed_date():
    with pytest.raises(CommandError, match="future"):
        call_command("anonymise_signatures", "--closed-before", "2999-01-01")
    with pytest.raises(CommandError, match="not a date"):
        call_command("anonymise_signatures", "--closed-before", "1 June")


def test_the_privacy_notice_states_the_retention_period():
    notice = tomllib.loads(
        (Path(settings.BASE_DIR) / "content/pages/privacy.toml").read_text()
    )
    assert "Six months after a petition closes" in notice["body"]
