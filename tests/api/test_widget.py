"""The embeddable sign widget."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import override_settings
from django.utils import translation

from api.widget import widget_snippets
from petitions.models import Petition, Signature
from tests.petitions.conftest import queued_emails
from tests.petitions.factories import PetitionFactory

pytestmark = pytest.mark.django_db

WIDGET = "/embed/petitions/justice/"
SIGN = "/embed/petitions/justice/sign/"
VALID = {
    "full_name": "Ana Quispe",
    "email": "ana@example.org",
    "country": "PE",
    "consent": "on",
}


def frame_ancestors(response) -> str:
    policy = response["Content-Security-Policy"]
    return re.search(r"frame-ancestors ([^;]*)", policy).group(1)


def test_the_widget_shows_count_progress_and_compact_form(client, petition, sign):
    sign(email="a@example.org")
    response = client.get(WIDGET)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Justice now" in html
    assert '<progress class="signature-progress"' in html
    for name in ("full_name", "email", "country", "consent"):
        assert f'name="{name}"' in html
    for name in ("postcode", "wants_updates", "show_publicly"):
        assert f'name="{name}"' not in html
    # The main form's consent wording.
    assert "I agree that the campaign keeps my signature for this petition" in html
    assert "<script" not in html


def test_the_widget_speaks_spanish(client, petition):
    response = client.get("/es/embed/petitions/justice/")
    assert response.status_code == 200
    assert 'lang="es"' in response.content.decode()
    assert 'action="/es/embed/petitions/justice/sign/"' in response.content.decode()


def test_only_the_widget_may_be_framed(client, petition):
    widget = client.get(WIDGET)
    assert "X-Frame-Options" not in widget
    assert frame_ancestors(widget) == "*"
    for path in ("/", "/petitions/justice/", "/es/petitions/justice/"):
        page = client.get(path)
        assert page["X-Frame-Options"] == "DENY", path
        assert frame_ancestors(page) == "'none'", path


@override_settings(WIDGET_FRAME_ANCESTORS=["https://partner.example"])
def test_framing_can_be_limited_to_partners(client, petition):
    assert frame_ancestors(client.get(WIDGET)) == "https://partner.example"
    failed = client.post(SIGN, {})
    assert frame_ancestors(failed) == "https://partner.example"


def test_the_widget_sets_no_cookies(client, petition):
    assert not client.get(WIDGET).cookies
    assert not client.post(SIGN, VALID).cookies


def test_a_plain_post_records_a_pending_signature_with_the_partner(client, petition):
    response = client.post(SIGN, {**VALID, "partner": "Amnesty Perú"})
    assert response.status_code == 303
    assert response["Location"] == "/embed/petitions/justice/sent/"
    signature = Signature.objects.get()
    assert signature.status == Signature.Status.PENDING
    # Folded by validators.clean_source, like every source.
    assert signature.source == "widget-amnesty-per"
    assert signature.ip_hash
    assert queued_emails() == [(signature.pk, "confirm")]
    sent = client.get(response["Location"])
    assert sent.status_code == 200
    assert "Check your inbox" in sent.content.decode()
    assert "X-Frame-Options" not in sent


def test_the_partner_from_the_snippet_travels_through_the_form(client, petition):
    html = client.get(WIDGET + "?partner=amnesty-peru").content.decode()
    assert '<input type="hidden" name="partner" value="amnesty-peru">' in html


def test_without_a_partner_the_source_is_widget(client, petition):
    client.post(SIGN, VALID)
    assert Signature.objects.get().source == "widget"


def test_the_spanish_widget_confirms_in_spanish(client, petition):
    response = client.post("/es/embed/petitions/justice/sign/", VALID)
    assert response["Location"] == "/es/embed/petitions/justice/sent/"
    assert Signature.objects.get().consent_language == "es"


def test_same_origin_posts_from_the_frame_are_accepted(client, petition):
    response = client.post(SIGN, VALID, headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 303


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
    ],
)
def test_cross_site_posts_are_refused(client, petition, headers):
    response = client.post(SIGN, VALID, headers=headers)
    assert response.status_code == 403
    assert not Signature.objects.exists()


def test_our_own_origin_is_accepted_without_fetch_metadata(client, petition):
    response = client.post(SIGN, VALID, headers={"Origin": "http://testserver"})
    assert response.status_code == 303


def test_invalid_input_shows_the_form_again_in_the_frame(client, petition):
    response = client.post(SIGN, {"email": "nope", "country": "PE"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem" in html
    assert "Tick this box so we can count your signature." in html
    assert "X-Frame-Options" not in response
    assert not Signature.objects.exists()


def test_the_honeypot_pretends_to_succeed(client, petition):
    response = client.post(SIGN, {**VALID, "website": "spam"})
    assert response.status_code == 303
    assert not Signature.objects.exists()


def test_signing_again_looks_the_same(client, petition):
    first = client.post(SIGN, VALID)
    second = client.post(SIGN, VALID)
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    assert Signature.objects.count() == 1


def test_a_closed_petition_shows_why(client, db):
    PetitionFactory(slug="justice", state=Petition.State.CLOSED)
    assert "has closed" in client.get(WIDGET).content.decode()
    assert client.post(SIGN, VALID).status_code == 403
    assert not Signature.objects.exists()


def test_drafts_have_no_widget(client, db):
    PetitionFactory(slug="justice", state=Petition.State.DRAFT)
    assert client.get(WIDGET).status_code == 404
    assert client.post(SIGN, VALID).status_code == 404


@override_settings(SIGN_RATE_BURST=1)
def test_the_widget_shares_the_sign_forms_rate_limit(client, petition):
    assert client.post(SIGN, VALID).status_code == 303
    response = client.post(SIGN, {**VALID, "email": "b@example.org"})
    assert response.status_code == 429
    assert "Retry-After" in response
    assert Signature.objects.count() == 1


@pytest.mark.parametrize("path", [WIDGET, "/es/embed/petitions/justice/"])
def test_the_widget_weighs_under_30_kb(client, petition, path):
    response = client.get(path)
    html = response.content
    stylesheets = re.findall(rb'<link rel="stylesheet" href="/static/([^"]+)"', html)
    assert stylesheets == [b"css/widget.css"]
    assert not re.search(rb"<(script|img)\b", html)
    weight = len(html) + sum(
        len(open(finders.find(name.decode()), "rb").read()) for name in stylesheets
    )
    assert weight <= 30 * 1024, weight


@override_settings(SITE_URL="https://standwithperu.example")
def test_the_snippet_is_an_iframe_with_a_link_inside(petition):
    with translation.override("en"):
        snippets = dict(widget_snippets(petition))
    english, spanish = snippets["English"], snippets["Spanish"]
    assert english.startswith(
        '<iframe src="https://standwithperu.example/embed/petitions/justice/'
        '?partner=your-organisation"'
    )
    assert '<a href="https://standwithperu.example/petitions/justice/">' in english
    assert english.endswith("</a></iframe>")
    assert 'src="https://standwithperu.example/es/embed/petitions/justice/' in spanish
    assert "/es/petitions/justice/" in spanish


def test_the_widget_stores_the_choice_to_keep_the_name_out(client, petition):
    page = client.get(WIDGET).content.decode()
    assert 'name="name_withheld"' in page
    response = client.post(SIGN, {**VALID, "name_withheld": "on"})
    assert response.status_code == 303
    assert Signature.objects.get().name_withheld is True
