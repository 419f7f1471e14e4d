"""The subscribe form, its confirmation, and one-click unsubscribe."""

import pytest
from django.test import Client

from newsletters import tokens
from newsletters.models import Subscriber
from tests.petitions.factories import PetitionFactory

from .factories import EntryFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


def test_the_news_pages_and_thank_you_page_carry_the_subscribe_form(client):
    entry = EntryFactory()
    petition = PetitionFactory(slug="justice", state="open")
    for url in ("/news/", entry.get_absolute_url(), "/petitions/justice/thanks/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'action="/news/subscribe/"' in response.content.decode(), url
    assert petition


def test_subscribing_redirects_to_check_your_inbox_in_the_pages_language(client):
    response = client.post("/es/news/subscribe/", {"email": "rosa@example.org"})
    assert response.status_code == 303
    assert response["Location"] == "/es/news/subscribe/check-your-inbox/"
    subscriber = Subscriber.objects.get()
    assert subscriber.language == "es" and subscriber.status == "pending"
    assert client.get(response["Location"]).status_code == 200


def test_the_answer_is_the_same_for_an_address_already_subscribed(client):
    SubscriberFactory(email="rosa@example.org")
    response = client.post("/news/subscribe/", {"email": "rosa@example.org"})
    assert response.status_code == 303


def test_a_bad_address_gets_a_400_with_the_reason(client):
    response = client.post("/news/subscribe/", {"email": "not-an-address"})
    assert response.status_code == 400
    assert "name@example.org" in response.content.decode()
    assert not Subscriber.objects.exists()


def test_the_honeypot_subscribes_nobody(client):
    response = client.post(
        "/news/subscribe/", {"email": "bot@example.org", "website": "spam"}
    )
    assert response.status_code == 303
    assert not Subscriber.objects.exists()


def test_subscribing_is_rate_limited(client, settings):
    settings.SIGN_RATE_BURST = 2
    for _ in range(2):
        client.post("/news/subscribe/", {"email": "a@example.org"})
    response = client.post("/news/subscribe/", {"email": "a@example.org"})
    assert response.status_code == 429 and response["Retry-After"]


def test_a_cross_site_subscription_is_refused_without_any_token():
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/news/subscribe/",
        {"email": "a@example.org"},
        headers={"sec-fetch-site": "cross-site"},
    )
    assert response.status_code == 403
    assert not Subscriber.objects.exists()
    same_site = client.post(
        "/news/subscribe/",
        {"email": "a@example.org"},
        headers={"sec-fetch-site": "same-origin"},
    )
    assert same_site.status_code == 303 and Subscriber.objects.exists()


def test_confirming_shows_a_button_and_only_the_post_confirms(client):
    subscriber = SubscriberFactory(status="pending", confirmed_at=None)
    token = tokens.make_token(subscriber.pk, "confirm")
    response = client.get(f"/news/subscribe/confirm/?t={token}")
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == "pending"
    response = client.post("/news/subscribe/confirm/", {"t": token})
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == "confirmed" and subscriber.form_confirmed_at


def test_a_bad_or_foreign_token_is_a_400(client):
    from petitions.tokens import make_token as petition_token

    assert client.get("/news/subscribe/confirm/?t=junk").status_code == 400
    # A petition link is never a newsletter link.
    stolen = petition_token(1, "unsubscribe")
    assert client.post(f"/news/unsubscribe/?t={stolen}").status_code == 400


def test_unsubscribe_get_shows_a_button_and_changes_nothing(client):
    subscriber = SubscriberFactory()
    token = tokens.make_token(subscriber.pk, "unsubscribe")
    response = client.get(f"/news/unsubscribe/?t={token}")
    assert response.status_code == 200
    assert "<form" in response.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.status == "confirmed"


def test_one_click_unsubscribe_accepts_a_post_without_csrf_token():
    """RFC 8058: the mail provider POSTs List-Unsubscribe=One-Click to the
    address in the header, with no cookie and no token."""
    subscriber = SubscriberFactory()
    token = tokens.make_token(subscriber.pk, "unsubscribe")
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        f"/news/unsubscribe/?t={token}",
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == "unsubscribed"
    # Again: still fine, still unsubscribed.
    assert client.post(f"/news/unsubscribe/?t={token}").status_code == 200


def test_the_petition_unsubscribe_page_still_works(client):
    from petitions import tokens as petition_tokens
    from tests.petitions.factories import SignatureFactory

    signature = SignatureFactory(wants_updates=True)
    token = petition_tokens.make_token(signature.pk, "unsubscribe")
    assert client.post("/petitions/unsubscribe/", {"t": token}).status_code == 200
