"""Public pages are the same for everyone and say so to caches; personal ones
never reach a shared cache; and every change shows on the next render."""

import gzip

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse

from petitions import services, tokens
from petitions.models import Petition

from .factories import PetitionFactory, SignatureFactory

pytestmark = pytest.mark.django_db

PUBLIC = "public, max-age=0, s-maxage=1, stale-while-revalidate=2, stale-if-error=5"


@pytest.fixture
def petition():
    return PetitionFactory(slug="justice", goal=10, state=Petition.State.OPEN)


def public_urls(petition):
    return [
        "/",
        "/es/",
        petition.get_absolute_url(),
        "/es/petitions/justice/",
        reverse("petitions:json", kwargs={"slug": petition.slug}),
        reverse("petitions:countries", kwargs={"slug": petition.slug}),
        "/news/",
    ]


def test_public_pages_are_byte_identical_and_shareable(petition):
    for url in public_urls(petition):
        first = Client().get(url)
        second = Client().get(url, headers={"accept_language": "es"})
        assert first.status_code == 200, url
        assert first.content == second.content, url
        assert first["Cache-Control"] == PUBLIC, url
        assert not first.cookies, url
        assert "csrfmiddlewaretoken" not in first.content.decode(), url
        # Language comes from the URL alone; nothing per visitor either.
        assert "Accept-Language" not in first.get("Vary", ""), url
        assert "Cookie" not in first.get("Vary", ""), url


def test_cache_interval_is_a_setting(client, petition, settings):
    settings.PUBLIC_CACHE_SECONDS = 3
    response = client.get(petition.get_absolute_url())
    assert response["Cache-Control"] == (
        "public, max-age=0, s-maxage=3, stale-while-revalidate=6, stale-if-error=15"
    )


def test_a_signed_in_staff_member_never_gets_a_shared_copy(petition):
    client = Client()
    staff = get_user_model().objects.create_superuser("boss", "b@example.org", "pw")
    client.force_login(staff)
    for url in public_urls(petition):
        response = client.get(url)
        assert response.status_code == 200
        assert "public" not in response["Cache-Control"], url
        assert "no-store" in response["Cache-Control"], url


def test_post_responses_and_token_pages_are_private(client, petition):
    signed = client.post(
        reverse("petitions:sign", kwargs={"slug": petition.slug}),
        {"full_name": "Ana Quispe", "email": "a@example.org", "country": "PE"},
    )
    assert signed.status_code == 400  # consent missing: the form again
    assert "no-store" in signed["Cache-Control"]
    assert "public" not in signed["Cache-Control"]
    signature = SignatureFactory(petition=petition)
    for view in ("confirm", "withdraw", "unsubscribe"):
        token = tokens.make_token(signature.pk, view)
        page = client.get(reverse(f"petitions:{view}"), {"t": token})
        assert "no-store" in page["Cache-Control"], view
        assert "public" not in page["Cache-Control"], view


def test_admin_pages_are_never_public(petition):
    client = Client()
    login = client.get("/admin/login/")
    assert "public" not in login["Cache-Control"]
    assert "csrfmiddlewaretoken" in login.content.decode()


def test_a_confirmed_signature_shows_on_the_next_render(client, petition):
    json_url = reverse("petitions:json", kwargs={"slug": petition.slug})
    assert client.get(json_url).json()["signature_count"] == 0
    signature = SignatureFactory(petition=petition, country="PE")
    client.post(
        reverse("petitions:confirm"),
        {"t": tokens.make_token(signature.pk, "confirm")},
    )
    assert client.get(json_url).json()["signature_count"] == 1
    for url in ("/", petition.get_absolute_url()):
        html = client.get(url).content.decode()
        assert '<strong class="count-number">1</strong>' in html, url


def test_an_admin_edit_and_a_withdrawal_show_on_the_next_render(client, petition):
    signature = SignatureFactory(
        petition=petition, full_name="Rosa Mamani", show_publicly=True
    )
    services.signature_confirm(signature_id=signature.pk)
    assert "Rosa," in client.get(petition.get_absolute_url()).content.decode()
    petition.title = "A new title for the ask"
    petition.save()
    services.signature_withdraw(signature_id=signature.pk)
    for url in ("/", petition.get_absolute_url()):
        html = client.get(url).content.decode()
        assert "A new title for the ask" in html, url
        assert "Rosa," not in html, url
        assert '<strong class="count-number">0</strong>' in html, url


def test_gunicorn_reuses_one_rendering_for_the_page_cache_interval(
    client, petition, settings, django_assert_max_num_queries
):
    # Long enough that a slow machine never sees the copy expire between two
    # requests; expiry itself is tested below by deleting the copy.
    settings.PAGE_CACHE_SECONDS = 60
    first = client.get(petition.get_absolute_url(), {"source": "newsletter"})
    # A copy costs one cache read, and no query string ever enters it.
    with django_assert_max_num_queries(1):
        second = client.get(petition.get_absolute_url())
    assert first.content == second.content
    assert b"newsletter" not in first.content
    petition.title = "A new title for the ask"
    petition.save()
    assert b"A new title" not in client.get(petition.get_absolute_url()).content
    # Expiry (PAGE_CACHE_SECONDS) is the cache's own; deleting the copy is
    # what expiry does, without sleeping in a test.
    cache.delete_many(
        [key for key in _page_keys() if key.endswith(petition.get_absolute_url())]
    )
    assert b"A new title" in client.get(petition.get_absolute_url()).content


def _page_keys():
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key FROM django_cache")
        return [row[0].split(":", 2)[-1] for row in cursor.fetchall()]


def test_public_pages_come_compressed_to_browsers_that_take_gzip(petition):
    # Compressed once per rendering: the copy nginx caches for every browser.
    for url in public_urls(petition):
        plain = Client().get(url)
        packed = Client().get(url, headers={"accept_encoding": "gzip, deflate, br"})
        assert packed["Cache-Control"] == PUBLIC, url
        assert "Accept-Encoding" in packed["Vary"], url
        if packed["Content-Type"].startswith("text/html"):
            assert packed["Content-Encoding"] == "gzip", url
        # A tiny answer (the JSON) stays plain when compressing would grow it.
        if packed.get("Content-Encoding") == "gzip":
            assert gzip.decompress(packed.content) == plain.content, url
        else:
            assert packed.content == plain.content, url
