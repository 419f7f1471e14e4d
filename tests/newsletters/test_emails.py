"""The newsletter's e-mails name who runs the campaign, as the signers' do."""

import pytest

from newsletters import emails, services

from .factories import EntryFactory, IssueFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(settings):
    settings.CAMPAIGN_ORGANISATION = "Memoria & Justicia"
    settings.CAMPAIGN_POSTAL_ADDRESS = "Jr. Ejemplo 123, Lima 15001, Peru"
    settings.DATA_CONTROLLER = "Asociación Memoria"
    settings.CONTACT_EMAIL = "privacidad@memoria.example"


def _assert_names_the_campaign(text: str, html: str, *, language: str) -> None:
    run_by, held_by = {
        "en": ("A campaign run by", "Your details are held by"),
        "es": (
            "Una campaña gestionada por",
            "Tus datos están bajo la responsabilidad de",
        ),
    }[language]
    assert f"{run_by} Memoria & Justicia" in text
    assert f"{run_by} Memoria &amp; Justicia" in html  # escaped in HTML only
    for part in (text, html):
        assert "Jr. Ejemplo 123, Lima 15001, Peru" in part
        assert f"{held_by} Asociación Memoria" in part
        assert "privacidad@memoria.example" in part
    assert 'href="mailto:privacidad@memoria.example"' in html


@pytest.mark.parametrize("language", ["en", "es"])
def test_an_issue_names_the_organisation_address_controller_and_contact(
    campaign, language
):
    entry = EntryFactory(title="Court ruling", title_es="Fallo", body_es="Texto")
    issue = IssueFactory(entries=[entry])
    subscriber = SubscriberFactory(language=language)
    rendered = emails.issue_render(issue, language)
    message = emails.issue_message(
        rendered, to=subscriber.email, subscriber_id=subscriber.pk
    )
    _assert_names_the_campaign(
        message.body, message.alternatives[0][0], language=language
    )


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_subscription_confirmation_names_them_too(campaign, language):
    subscriber = SubscriberFactory(language=language, status="pending")
    message = emails.subscription_confirm_message(subscriber)
    _assert_names_the_campaign(
        message.body, message.alternatives[0][0], language=language
    )


def test_a_sent_issue_carries_it(campaign):
    from django.core import mail

    from newsletters import delivery

    SubscriberFactory()
    issue = IssueFactory()
    services.issue_queue(issue=issue)
    delivery.send_issue(issue_id=issue.pk, rate=0)
    assert "A campaign run by Memoria & Justicia" in mail.outbox[0].body


# --- the Message-ID: one per (issue, subscriber), the same at every attempt ---
def test_every_attempt_at_a_delivery_carries_the_same_message_id(settings):
    settings.SITE_URL = "https://peru.example"
    issue = IssueFactory()
    subscriber = SubscriberFactory(email="someone@example.org")
    ids = {
        emails.issue_message(
            emails.issue_render(issue, language),
            to=subscriber.email,
            subscriber_id=subscriber.pk,
        ).message()["Message-ID"]
        for language in ("en", "en", "es")
    }
    assert ids == {
        emails.issue_message_id(issue_id=issue.pk, subscriber_id=subscriber.pk)
    }
    (message_id,) = ids
    assert message_id.startswith(f"<issue-{issue.pk}.{subscriber.pk}.")
    assert message_id.endswith("@peru.example>")
    # Nothing of the person in it: neither the address nor its parts.
    assert "someone" not in message_id and "example.org" not in message_id


def test_the_message_id_differs_across_subscribers_and_issues():
    first, second = IssueFactory(), IssueFactory()
    a, b = SubscriberFactory(), SubscriberFactory()
    ids = {
        emails.issue_message_id(issue_id=issue.pk, subscriber_id=subscriber.pk)
        for issue in (first, second)
        for subscriber in (a, b)
    }
    assert len(ids) == 4


def test_the_message_id_is_keyed_by_the_secret(settings):
    before = emails.issue_message_id(issue_id=1, subscriber_id=2)
    settings.SECRET_KEY = "another secret key, long enough for the checks......"
    after = emails.issue_message_id(issue_id=1, subscriber_id=2)
    assert before != after
    assert before.split(".")[:2] == after.split(".")[:2]
