"""Supporters' own rights: the link request, the page, correction, deletion,
objection, and the organisers' log without personal data."""

import datetime
import re
from urllib.parse import urlsplit

import pytest
from django.core import mail, signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from procrastinate.contrib.django.models import ProcrastinateJob

from core import supporter_links
from core.encryption import email_index
from newsletters.emails import (
    issue_message,
    issue_render,
    subscription_confirm_message,
)
from newsletters.models import Issue, Subscriber
from petitions import selectors as petition_selectors
from petitions.emails import build_signature_email
from petitions.models import Signature
from supporters.models import SupporterRequest
from supporters.tasks import send_supporter_link
from tests.organising.factories import recount
from tests.petitions.factories import ConfirmedSignatureFactory, PetitionFactory

pytestmark = pytest.mark.django_db

REQUEST = "/your-data/"
PAGE = "/your-data/page/"


@pytest.fixture
def signature():
    petition = PetitionFactory(slug="justice", title="Justice for the victims")
    signature = ConfirmedSignatureFactory(
        petition=petition,
        full_name="Rosa Mamani",
        email="Rosa@Example.org",
        email_normalised=email_index("rosa@example.org"),
        country="PE",
        postcode="PUNO 1",
        wants_updates=True,
    )
    recount(petition)
    return signature


@pytest.fixture
def subscriber(signature):
    return Subscriber.objects.create(
        email="Rosa@Example.org",
        email_normalised=email_index("rosa@example.org"),
        source=Subscriber.Source.SIGNER,
        status=Subscriber.Status.CONFIRMED,
        confirmed_at=timezone.now(),
        consent_version="2026-12-v1",
        consent_language="es",
        language="es",
    )


def _link_jobs():
    return list(
        ProcrastinateJob.objects.filter(
            task_name="supporters.tasks.send_supporter_link"
        ).values_list("args", flat=True)
    )


def _page_url(signature) -> str:
    token = supporter_links.make_token(
        kind=supporter_links.SIGNATURE, record_id=signature.pk
    )
    return f"{PAGE}?t={token}"


def _token(signature) -> str:
    return _page_url(signature).partition("?t=")[2]


def _log() -> list[tuple[str, str]]:
    return list(SupporterRequest.objects.values_list("kind", "outcome"))


def test_the_request_form_answers_the_same_whether_or_not_anything_is_held(
    client, signature
):
    held = client.post(REQUEST, {"email": "rosa@example.org"})
    unknown = client.post(REQUEST, {"email": "nobody@example.org"})
    assert held.status_code == unknown.status_code == 303
    assert held["Location"] == unknown["Location"] == "/your-data/sent/"
    sent = client.get(held["Location"]).content.decode()
    assert "If we hold anything about that address" in sent
    # One job, for the held address only, naming a record and never an address.
    assert _link_jobs() == [
        {"kind": "signature", "record_id": signature.pk, "language": "en"}
    ]
    assert "example.org" not in str(_link_jobs())
    # Nothing sent inside the request: the worker sends it.
    assert mail.outbox == []


def test_the_worker_sends_a_link_that_opens_the_page(client, signature):
    client.post(REQUEST, {"email": "rosa@example.org"})
    (job,) = _link_jobs()
    assert send_supporter_link(**job) == "sent"
    (message,) = mail.outbox
    assert message.to == ["Rosa@Example.org"]
    link = re.search(r"https?://\S+/your-data/page/\?t=\S+", message.body).group(0)
    parts = urlsplit(link)
    page = client.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200
    assert "Rosa Mamani" in page.content.decode()


def test_a_bad_address_gets_a_clear_message_and_a_400(client):
    response = client.post(REQUEST, {"email": "not an address"})
    assert response.status_code == 400
    assert "Enter an e-mail address like name@example.org." in (
        response.content.decode()
    )


def test_the_request_form_is_rate_limited(client, signature, settings):
    settings.SIGN_RATE_BURST = 2
    statuses = [
        client.post(REQUEST, {"email": "nobody@example.org"}).status_code
        for _ in range(3)
    ]
    assert statuses == [303, 303, 429]


def test_the_page_shows_every_signature_subscription_and_consent(
    client, signature, subscriber
):
    page = client.get(_page_url(signature))
    assert page.status_code == 200
    assert page["Cache-Control"].startswith("max-age=0")
    text = page.content.decode()
    for shown in (
        "Justice for the victims",
        "Rosa Mamani",
        "Rosa@Example.org",
        "PUNO 1",
        "Confirmed",
        f"Wording {signature.consent_version}",
        "Wording 2026-12-v1",
        "Signer who asked for updates",
    ):
        assert shown in text


def test_a_subscribers_link_opens_the_same_page(client, signature, subscriber):
    token = supporter_links.make_token(
        kind=supporter_links.SUBSCRIBER, record_id=subscriber.pk
    )
    text = client.get(f"{PAGE}?t={token}").content.decode()
    assert "Rosa Mamani" in text and "Justice for the victims" in text


def test_the_page_is_in_spanish_too(client, signature):
    with translation.override("es"):
        url = reverse("supporters:page")
    assert url.startswith("/es/")
    text = client.get(f"{url}?t={_token(signature)}").content.decode()
    assert "Tus datos en la campaña" in text


def test_a_forged_link_gets_a_clear_400_page(client, signature):
    forged = _token(signature)[:-2] + "xx"
    response = client.get(f"{PAGE}?t={forged}")
    assert response.status_code == 400
    assert "This link is not valid" in response.content.decode()
    assert "Rosa Mamani" not in response.content.decode()


def test_a_link_of_another_kind_is_refused(client, signature):
    withdraw = signing.dumps(signature.pk, salt="petitions.signature.withdraw")
    assert client.get(f"{PAGE}?t={withdraw}").status_code == 400


def test_an_expired_link_gets_a_clear_410_page(client, signature, settings):
    token = _token(signature)
    settings.SUPPORTER_LINK_MAX_AGE_DAYS = 0
    response = client.get(f"{PAGE}?t={token}")
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()


def test_changes_need_djangos_csrf_token(signature):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        "/your-data/page/name/", {"t": _token(signature), "full_name": "Rosa M."}
    )
    assert response.status_code == 403
    signature.refresh_from_db()
    assert signature.full_name == "Rosa Mamani"


def test_the_name_is_corrected(client, signature):
    response = client.post(
        "/your-data/page/name/", {"t": _token(signature), "full_name": "Rosa Mamani Q"}
    )
    assert response.status_code == 200
    signature.refresh_from_db()
    assert signature.full_name == "Rosa Mamani Q"
    assert _log() == [("correction", "done")]


def test_a_name_the_sign_form_refuses_is_refused_with_its_message(client, signature):
    response = client.post(
        "/your-data/page/name/", {"t": _token(signature), "full_name": "=cmd()"}
    )
    assert response.status_code == 400
    assert "Your name cannot start with =, +, - or @." in response.content.decode()
    signature.refresh_from_db()
    assert signature.full_name == "Rosa Mamani"


def test_deletion_asks_first_then_deletes_everything_and_the_count_stays_exact(
    client, signature, subscriber
):
    petition = signature.petition
    assert petition_selectors.petition_signature_count(petition) == 1
    confirm = client.get("/your-data/page/delete/", {"t": _token(signature)})
    assert confirm.status_code == 200
    assert "This cannot be undone." in confirm.content.decode()
    # Asking is not deleting, nor is a POST without the confirmation.
    client.post("/your-data/page/delete/", {"t": _token(signature)})
    assert Subscriber.objects.exists()
    response = client.post(
        "/your-data/page/delete/", {"t": _token(signature), "confirm": "yes"}
    )
    assert response.status_code == 200
    signature.refresh_from_db()
    assert signature.status == Signature.Status.WITHDRAWN
    assert (signature.full_name, signature.email, signature.postcode) == ("", "", "")
    assert signature.email_normalised is None
    assert not Subscriber.objects.exists()
    assert petition_selectors.petition_signature_count(petition) == 0
    assert ("deletion", "done") in _log()
    # The link now shows that nothing is held.
    again = client.get(_page_url(signature)).content.decode()
    assert "We hold nothing about this address any more." in again


def test_objection_stops_all_mail_but_the_signature_counts(
    client, signature, subscriber
):
    response = client.post("/your-data/page/stop-email/", {"t": _token(signature)})
    assert response.status_code == 200
    signature.refresh_from_db()
    subscriber.refresh_from_db()
    assert signature.wants_updates is False
    assert signature.status == Signature.Status.CONFIRMED
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert petition_selectors.petition_signature_count(signature.petition) == 1
    assert _log() == [("objection", "done")]


def test_the_organisers_log_holds_no_personal_data(client, signature, admin_client):
    client.post(REQUEST, {"email": "rosa@example.org"})
    client.post(REQUEST, {"email": "nobody@example.org"})
    client.post(
        "/your-data/page/name/", {"t": _token(signature), "full_name": "Rosa Q"}
    )
    client.post("/your-data/page/delete/", {"t": _token(signature), "confirm": "yes"})
    assert sorted(_log()) == [
        ("access", "link_sent"),
        ("access", "nothing_held"),
        ("correction", "done"),
        ("deletion", "done"),
    ]
    columns = {field.name for field in SupporterRequest._meta.get_fields()}
    assert columns == {"id", "kind", "outcome", "day"}
    assert all(
        isinstance(day, datetime.date) and not isinstance(day, datetime.datetime)
        for day in SupporterRequest.objects.values_list("day", flat=True)
    )
    listing = admin_client.get("/admin/supporters/supporterrequest/")
    assert listing.status_code == 200
    text = listing.content.decode()
    assert "Correction of the name" in text
    for personal in ("rosa", "Rosa", "nobody@", "PUNO", str(signature.pk)):
        assert personal not in re.sub(r"<[^>]+>", " ", text.split("<table")[1])


def _my_data_links(message) -> list[str]:
    bodies = [message.body, *(content for content, _type in message.alternatives)]
    return [
        found
        for body in bodies
        for found in re.findall(r"(?:/es)?/your-data/page/\?t=[\w:.\-]+", body)
    ]


def test_signers_emails_carry_a_link_to_their_own_page(client, signature):
    message = build_signature_email(signature, "already_signed")
    links = _my_data_links(message)
    assert len(links) == 2  # text and HTML
    assert all(link == f"/your-data/page/?t={_token(signature)}" for link in links)
    assert client.get(links[0]).status_code == 200


def test_newsletter_issues_and_confirmations_carry_the_subscribers_link(
    subscriber,
):
    token = supporter_links.make_token(
        kind=supporter_links.SUBSCRIBER, record_id=subscriber.pk
    )
    issue = Issue.objects.create(subject="News")
    message = issue_message(
        issue_render(issue, "es"), to=subscriber.email, subscriber_id=subscriber.pk
    )
    assert _my_data_links(message) == [f"/es/your-data/page/?t={token}"] * 2
    confirm = subscription_confirm_message(subscriber)
    assert _my_data_links(confirm) == [f"/es/your-data/page/?t={token}"] * 2
