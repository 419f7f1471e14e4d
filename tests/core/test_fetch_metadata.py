"""Cross-origin protection of the public forms (core.fetch_metadata)."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from petitions import tokens
from petitions.models import Signature
from tests.petitions.factories import PetitionFactory, SignatureFactory

pytestmark = pytest.mark.django_db

VALID = {
    "full_name": "Ana Quispe",
    "email": "ana@example.org",
    "country": "PE",
    "consent": "on",
}


@pytest.fixture
def petition():
    return PetitionFactory(slug="justice")


def sign(client, petition, **headers):
    url = reverse("petitions:sign", kwargs={"slug": petition.slug})
    return client.post(url, VALID, headers=headers)


def test_a_cross_site_sign_is_refused_with_a_clear_page(client, petition):
    response = sign(client, petition, sec_fetch_site="cross-site")
    assert response.status_code == 403
    assert "sent from another website" in response.content.decode()
    assert not Signature.objects.exists()


def test_a_same_site_but_other_origin_sign_is_refused(client, petition):
    response = sign(client, petition, sec_fetch_site="same-site")
    assert response.status_code == 403
    assert not Signature.objects.exists()


@pytest.mark.parametrize("site", ["same-origin", "none"])
def test_a_same_origin_sign_is_accepted(client, petition, site):
    response = sign(client, petition, sec_fetch_site=site)
    assert response.status_code == 303
    assert Signature.objects.count() == 1


def test_a_sign_without_either_header_is_accepted(client, petition):
    # Not a browser, so not a forged request; the rate limits judge it.
    response = sign(client, petition)
    assert response.status_code == 303
    assert Signature.objects.count() == 1


def test_an_old_browser_from_our_origin_is_accepted(client, petition):
    response = sign(client, petition, origin="http://testserver")
    assert response.status_code == 303


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "null", "https://testserver"]
)
def test_an_origin_that_is_not_ours_is_refused(client, petition, origin):
    response = sign(client, petition, origin=origin)
    assert response.status_code == 403
    assert not Signature.objects.exists()


def test_sec_fetch_site_wins_over_a_matching_origin(client, petition):
    response = sign(
        client, petition, sec_fetch_site="cross-site", origin="http://testserver"
    )
    assert response.status_code == 403


def test_the_sign_form_works_with_django_csrf_checks_on(petition):
    # The page carries no token, and the POST needs none.
    client = Client(enforce_csrf_checks=True)
    page = client.get(petition.get_absolute_url())
    assert "csrfmiddlewaretoken" not in page.content.decode()
    assert sign(client, petition, sec_fetch_site="same-origin").status_code == 303


@pytest.mark.parametrize("view", ["confirm", "withdraw", "unsubscribe"])
def test_token_forms_refuse_cross_site_posts(petition, view):
    signature = SignatureFactory(petition=petition, wants_updates=True)
    token = tokens.make_token(signature.pk, view)
    client = Client(enforce_csrf_checks=True)
    url = reverse(f"petitions:{view}")
    page = client.get(url, {"t": token})
    assert "csrfmiddlewaretoken" not in page.content.decode()
    refused = client.post(url, {"t": token}, headers={"sec_fetch_site": "cross-site"})
    assert refused.status_code == 403
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PENDING and signature.wants_updates
    accepted = client.post(url, {"t": token}, headers={"sec_fetch_site": "same-origin"})
    assert accepted.status_code in {200, 303}
    signature.refresh_from_db()
    assert (signature.status, signature.wants_updates) != (
        Signature.Status.PENDING,
        True,
    )


def test_staff_posts_still_need_django_csrf_token(petition):
    staff = get_user_model().objects.create_superuser("boss", "b@example.org", "pw")
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    url = reverse("admin:petitions_petition_change", args=[petition.pk])
    response = client.post(
        url, {"title": "Changed"}, headers={"sec_fetch_site": "same-origin"}
    )
    assert response.status_code == 403
    petition.refresh_from_db()
    assert petition.title != "Changed"
