"""Where signatures come from: ?source= / ?utm_source=, first-party, per petition."""

import re

import pytest
from django.test import override_settings
from django.urls import reverse

from organising.dashboard import petition_dashboard
from organising.exports import export_csv
from petitions import sources
from petitions.models import Signature
from tests.organising.factories import organiser
from tests.petitions.factories import ConfirmedSignatureFactory, PetitionFactory

pytestmark = pytest.mark.django_db

VALID = {
    "full_name": "Ana Quispe",
    "email": "ana@example.org",
    "country": "PE",
    "postcode": "",
    "consent": "on",
}


def _sign(client, petition, data=None, **headers):
    url = reverse("petitions:sign", kwargs={"slug": petition.slug})
    return client.post(url, {**VALID, **(data or {})}, headers=headers)


def test_the_page_has_an_empty_source_field_whatever_the_address(client, petition):
    plain = client.get(petition.get_absolute_url()).content.decode()
    tagged = client.get(
        petition.get_absolute_url() + "?source=newsletter-july"
    ).content.decode()
    # The cached page is the same for everyone (but for the masked CSRF
    # token): the label is never written in.
    token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert token.sub("", plain) == token.sub("", tagged)
    assert "newsletter-july" not in tagged
    assert re.search(r'<input type="hidden" name="source" id="id_source">', plain)
    assert '/static/js/source.js" defer></script>' in plain


def test_the_posted_source_is_recorded_folded(client, petition):
    assert _sign(client, petition, {"source": " Newsletter July!"}).status_code == 303
    assert Signature.objects.get().source == "newsletter-july"


def test_without_script_the_source_comes_from_the_referer(client, petition):
    referer = f"http://testserver{petition.get_absolute_url()}?utm_source=Partner.X"
    assert _sign(client, petition, Referer=referer).status_code == 303
    assert Signature.objects.get().source == "partner.x"


def test_the_posted_source_wins_over_the_referer(client, petition):
    referer = f"http://testserver{petition.get_absolute_url()}?source=old"
    _sign(client, petition, {"source": "new"}, Referer=referer)
    assert Signature.objects.get().source == "new"


def test_another_sites_referer_is_ignored(client, petition):
    _sign(client, petition, Referer="https://elsewhere.example/?source=spam")
    assert Signature.objects.get().source == ""


def test_no_source_at_all_is_an_empty_label(client, petition):
    _sign(client, petition)
    assert Signature.objects.get().source == ""


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("source=a&utm_source=b", "a"),
        ("utm_source=b", "b"),
        ("source=&utm_source=b", "b"),
        ("source=%3D%3D%3D&utm_source=b", "b"),
        ("other=1", ""),
        ("", ""),
    ],
)
def test_source_from_query_prefers_source_then_utm_source(query, expected):
    assert sources.source_from_query(query) == expected


def test_the_referrer_policy_sends_the_query_string_to_our_own_pages(settings):
    # The no-script fallback depends on it.
    assert settings.SECURE_REFERRER_POLICY == "same-origin"


@override_settings(LANGUAGE_CODE="en")
def test_the_dashboard_and_the_csv_count_confirmed_signatures_by_source(client):
    petition = PetitionFactory(slug="justice")
    ConfirmedSignatureFactory.create_batch(3, petition=petition, source="newsletter")
    ConfirmedSignatureFactory(petition=petition, source="")
    ConfirmedSignatureFactory(petition=petition, source="partner")
    ConfirmedSignatureFactory(
        petition=petition, source="newsletter", status=Signature.Status.PENDING
    )
    assert petition_dashboard(petition=petition).sources == [
        ("newsletter", 3),
        ("", 1),
        ("partner", 1),
    ]
    record, chunks = export_csv(petition=petition, kind="by-source")
    body = b"".join(chunks).decode("utf-8-sig")
    assert body == ("Source,Confirmed signatures\nnewsletter,3\n,1\npartner,1\n")
    record.refresh_from_db()
    assert (record.kind, record.row_count, record.finished) == ("by-source", 3, True)
    client.force_login(organiser())
    page = client.get("/admin/petitions/petition/dashboard/justice/").content.decode()
    assert "<code>newsletter</code>" in page
    assert "by-source.csv" in page


def test_the_source_csv_neutralises_formula_like_labels():
    # clean_source never stores one; this is the file's own guard.
    petition = PetitionFactory()
    ConfirmedSignatureFactory(petition=petition, source="=cmd")
    _record, chunks = export_csv(petition=petition, kind="by-source")
    assert "'=cmd,1" in b"".join(chunks).decode("utf-8-sig")
