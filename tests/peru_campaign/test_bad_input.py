"""Bad input gets a clear 4xx with the usual headers, never a 500."""

import logging

import pytest
from django.test import Client

from petitions.models import Petition, RateLimitCounter, Signature
from tests.newsletters.factories import EntryFactory
from tests.petitions.factories import PetitionFactory

pytestmark = pytest.mark.django_db

TOKEN = "a" * 32
FORM = (
    f"csrfmiddlewaretoken={TOKEN}&full_name=Ana+Quispe&email=ana%40example.org"
    "&country=PE&consent=on"
)


@pytest.fixture
def csrf_client():
    """A browser-like client: the CSRF check is on and the cookie is set."""
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.cookies["csrftoken"] = TOKEN
    return client


def assert_security_headers(response):
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert "default-src 'none'" in response["Content-Security-Policy"]


@pytest.mark.parametrize(
    "charset", ["latin-1", "ISO-8859-1", "utf-7", "utf-16", "utf-32", "no-such-charset"]
)
def test_sign_post_in_another_charset_is_a_400_that_costs_nothing(
    csrf_client, charset, caplog
):
    petition = PetitionFactory(slug="justice")
    with caplog.at_level(logging.WARNING):
        response = csrf_client.generic(
            "POST",
            f"/petitions/{petition.slug}/sign/",
            FORM.encode(),
            content_type=f"application/x-www-form-urlencoded; charset={charset}",
        )
    assert response.status_code == 400
    assert "could not read" in response.content.decode()
    assert_security_headers(response)
    # Refused before a rate-limit slot or a row was spent.
    assert not Signature.objects.exists()
    assert not RateLimitCounter.objects.exists()
    # One short line, naming the path only.
    records = [r for r in caplog.records if r.name == "peru_campaign.middleware"]
    assert len(records) == 1
    assert records[0].getMessage() == (
        "Refused a form post to /petitions/justice/sign/ (unsupported charset): 400"
    )
    assert not any(r.exc_info for r in caplog.records)


@pytest.mark.parametrize("charset", ["utf-8", "UTF-8"])
def test_sign_post_in_utf8_is_accepted(csrf_client, charset):
    petition = PetitionFactory(slug="justice")
    response = csrf_client.post(
        f"/petitions/{petition.slug}/sign/",
        data=FORM.encode(),
        content_type=f"application/x-www-form-urlencoded; charset={charset}",
    )
    assert response.status_code == 303
    assert Signature.objects.count() == 1


def test_bad_charset_to_an_unknown_address_is_a_400_not_a_500(csrf_client):
    response = csrf_client.post(
        "/no-such-page/x/",
        data=FORM.encode(),
        content_type="application/x-www-form-urlencoded; charset=utf-16",
    )
    assert response.status_code == 400


def test_oversized_form_is_a_413(csrf_client, settings):
    petition = PetitionFactory(slug="justice")
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = csrf_client.post(
        f"/petitions/{petition.slug}/sign/",
        data=FORM + "&postcode=" + "x" * 2000,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert_security_headers(response)
    assert not Signature.objects.exists()


def test_too_many_fields_is_a_400(csrf_client, settings):
    petition = PetitionFactory(slug="justice")
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    response = csrf_client.post(
        f"/petitions/{petition.slug}/sign/",
        data=FORM + "".join(f"&f{i}=1" for i in range(20)),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert not Signature.objects.exists()


def test_sign_post_with_missing_or_garbage_fields_is_a_400_with_messages(client):
    petition = PetitionFactory(slug="justice")
    response = client.post(
        f"/petitions/{petition.slug}/sign/",
        {"full_name": "\x00\x01", "email": "not-an-address", "country": "ZZZ"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Enter an e-mail address like name@example.org." in html
    assert "Choose your country from the list." in html
    assert not Signature.objects.exists()


@pytest.mark.parametrize("path", ["/news/0000/01/x/", "/es/news/0000/01/x/"])
def test_news_entry_in_year_zero_is_a_404(client, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/news/0000/", "/news/0000/01/", "/es/news/0000/"])
def test_news_archives_for_year_zero_are_404s(client, path):
    assert client.get(path).status_code == 404


def test_news_entry_in_year_one_is_still_found_when_it_exists(client):
    entry = EntryFactory()
    assert client.get(entry.get_absolute_url()).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/es/",
        "/petitions/",
        "/petitions/justice/",
        "/petitions/justice.json",
        "/petitions/justice/check-your-inbox/",
        "/petitions/justice/thanks/",
        "/petitions/confirm/?t=x",
        "/petitions/withdraw/?t=x",
        "/petitions/unsubscribe/?t=x",
        "/news/",
        "/robots.txt",
        "/healthz",
    ],
)
def test_head_answers_wherever_get_does(client, path):
    PetitionFactory(slug="justice")
    get = client.get(path)
    head = client.head(path)
    assert get.status_code in (200, 302, 400)
    assert head.status_code == get.status_code
    assert head.content == b""


def test_head_on_a_token_link_changes_nothing(client):
    from petitions import tokens
    from tests.petitions.factories import SignatureFactory

    signature = SignatureFactory()
    token = tokens.make_token(signature.pk, "withdraw")
    assert client.head(f"/petitions/withdraw/?t={token}").status_code == 200
    signature.refresh_from_db()
    assert signature.status != Signature.Status.WITHDRAWN


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "BREW"])
@pytest.mark.parametrize(
    "path",
    ["/", "/petitions/justice/", "/petitions/justice/sign/", "/news/", "/healthz"],
)
def test_other_methods_are_405(client, method, path):
    PetitionFactory(slug="justice")
    response = client.generic(method, path)
    assert response.status_code == 405


@pytest.mark.parametrize("host", ["10.0.0.5", "10.0.0.5:8000", "[fd00::5]", "anything"])
def test_healthz_answers_a_probe_by_ip(client, host):
    response = client.get("/healthz", headers={"host": host})
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["X-Content-Type-Options"] == "nosniff"


def test_unknown_hosts_are_still_refused_on_every_other_path(client):
    assert client.get("/", headers={"host": "10.0.0.5"}).status_code == 400
    assert client.get("/healthz/", headers={"host": "10.0.0.5"}).status_code == 400


def draft_and_missing(client, path_for):
    PetitionFactory(slug="secret-draft", state=Petition.State.DRAFT)
    return [client.get(path_for("secret-draft")), client.get(path_for("no-such"))]


@pytest.mark.parametrize(
    "path_for",
    [
        lambda slug: f"/petitions/{slug}/",
        lambda slug: f"/es/petitions/{slug}/",
        lambda slug: f"/petitions/{slug}.json",
        lambda slug: f"/petitions/{slug}/check-your-inbox/",
        lambda slug: f"/petitions/{slug}/thanks/",
    ],
)
def test_a_draft_petition_looks_exactly_like_a_missing_one(client, path_for):
    draft, missing = draft_and_missing(client, path_for)
    assert draft.status_code == missing.status_code == 404
    # The page names its own address (language links); nothing else differs.
    assert draft.content.replace(b"secret-draft", b"no-such") == missing.content


def test_signing_a_draft_looks_exactly_like_signing_a_missing_petition(client):
    PetitionFactory(slug="secret-draft", state=Petition.State.DRAFT)
    data = {"full_name": "Ana Quispe", "email": "ana@example.org", "country": "PE"}
    draft = client.post("/petitions/secret-draft/sign/", data)
    missing = client.post("/petitions/no-such/sign/", data)
    assert draft.status_code == missing.status_code == 404
    # The page names its own address (language links); nothing else differs.
    assert draft.content.replace(b"secret-draft", b"no-such") == missing.content
    assert not Signature.objects.exists()
    assert not RateLimitCounter.objects.exists()


def test_head_answers_carry_no_body_but_the_get_length(rf):
    # The test client drops HEAD bodies itself; gunicorn warns instead.
    from django.http import HttpResponse

    from peru_campaign.middleware import HeadWithoutBodyMiddleware

    def view(request):
        response = HttpResponse("the page")
        response["Content-Length"] = "8"
        return response

    head = HeadWithoutBodyMiddleware(view)(rf.head("/"))
    get = HeadWithoutBodyMiddleware(view)(rf.get("/"))
    assert head.content == b"" and head["Content-Length"] == "8"
    assert get.content == b"the page"
