"""The mailing list's rules: who is on it, how they join and leave."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from procrastinate.contrib.django.models import ProcrastinateJob

from core.encryption import email_index
from newsletters import selectors, services
from newsletters.models import Delivery, Subscriber
from newsletters.tasks import send_subscription_confirmation
from petitions import services as petition_services
from petitions.models import Signature
from tests.petitions.factories import PetitionFactory

from .factories import IssueFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def petition():
    return PetitionFactory(slug="justice")


def signed_and_confirmed(petition, email="ana@example.org", **overrides):
    values = {
        "petition": petition,
        "full_name": "Ana Quispe",
        "email": email,
        "country": "PE",
        "wants_updates": True,
        "consent_language": "es",
    }
    values.update(overrides)
    petition_services.signature_create(**values)
    signature = Signature.objects.filter(petition=petition).order_by("-pk").first()
    return petition_services.signature_confirm(signature_id=signature.pk)


def confirmation_jobs():
    return list(
        ProcrastinateJob.objects.filter(
            task_name="newsletters.tasks.send_subscription_confirmation"
        ).values_list("args", flat=True)
    )


# --- signers ------------------------------------------------------------------
def test_a_confirmed_signer_who_asked_for_updates_becomes_a_subscriber(petition):
    signed_and_confirmed(petition, email="Ana.Q@Gmail.com")
    subscriber = Subscriber.objects.get()
    assert subscriber.email_normalised == email_index("anaq@gmail.com")
    assert subscriber.status == Subscriber.Status.CONFIRMED
    assert subscriber.source == Subscriber.Source.SIGNER
    assert subscriber.language == "es"
    assert subscriber.consent_version and subscriber.consent_language == "es"
    assert subscriber.form_confirmed_at is None


def test_a_signer_who_did_not_ask_for_updates_is_not_subscribed(petition):
    signed_and_confirmed(petition, wants_updates=False)
    assert not Subscriber.objects.exists()


def test_a_pending_signature_does_not_subscribe(petition):
    petition_services.signature_create(
        petition=petition,
        full_name="Ana",
        email="ana@example.org",
        country="PE",
        wants_updates=True,
    )
    assert not Subscriber.objects.exists()


def test_one_address_signing_two_petitions_is_one_subscriber(petition):
    other = PetitionFactory(slug="other")
    signed_and_confirmed(petition, email="ana@example.org")
    signed_and_confirmed(other, email="ANA@example.org")
    assert Subscriber.objects.count() == 1


def test_signing_again_with_updates_resubscribes_an_unsubscribed_address(petition):
    old = SubscriberFactory(
        email="ana@example.org", status=Subscriber.Status.UNSUBSCRIBED
    )
    signed_and_confirmed(petition)
    old.refresh_from_db()
    assert old.status == Subscriber.Status.CONFIRMED


@pytest.mark.parametrize("status", ["bounced", "complained"])
def test_a_suppressed_address_stays_suppressed_when_signing(petition, status):
    old = SubscriberFactory(email="ana@example.org", status=status)
    signed_and_confirmed(petition)
    old.refresh_from_db()
    assert old.status == status


# --- the form -----------------------------------------------------------------
def test_subscribing_with_the_form_is_pending_and_queues_a_confirmation():
    subscriber = services.subscriber_subscribe(email="Rosa@Example.org ", language="es")
    assert subscriber.status == Subscriber.Status.PENDING
    assert subscriber.source == Subscriber.Source.FORM
    assert subscriber.email == "Rosa@example.org"
    assert subscriber.language == "es"
    assert confirmation_jobs() == [{"subscriber_id": subscriber.pk}]


def test_an_unknown_language_falls_back_to_english():
    subscriber = services.subscriber_subscribe(email="a@example.org", language="xx")
    assert subscriber.language == "en"


def test_a_bad_address_is_refused():
    with pytest.raises(ValidationError):
        services.subscriber_subscribe(email="not an address")
    assert not Subscriber.objects.exists()


def test_repeat_requests_are_capped(settings):
    settings.SIGNATURE_MAX_REPEAT_EMAILS = 2
    for _ in range(4):
        services.subscriber_subscribe(email="a@example.org")
    assert Subscriber.objects.count() == 1
    assert len(confirmation_jobs()) == 2


def test_an_address_confirmed_through_the_form_gets_no_new_email():
    subscriber = services.subscriber_subscribe(email="a@example.org")
    services.subscriber_confirm(subscriber_id=subscriber.pk)
    assert services.subscriber_subscribe(email="a@example.org") is None
    assert len(confirmation_jobs()) == 1


def test_confirming_records_the_form_consent(settings):
    subscriber = services.subscriber_subscribe(email="a@example.org", language="es")
    confirmed = services.subscriber_confirm(subscriber_id=subscriber.pk)
    assert confirmed.status == Subscriber.Status.CONFIRMED
    assert confirmed.form_confirmed_at is not None
    assert confirmed.consent_version == settings.NEWSLETTER_CONSENT_VERSION
    assert confirmed.consent_language == "es"
    # Twice changes nothing.
    again = services.subscriber_confirm(subscriber_id=subscriber.pk)
    assert again.form_confirmed_at == confirmed.form_confirmed_at


def test_confirming_a_deleted_subscription_is_refused():
    with pytest.raises(ValidationError):
        services.subscriber_confirm(subscriber_id=12345)


def test_the_confirmation_email_has_the_link_in_the_subscribers_language(mailoutbox):
    subscriber = services.subscriber_subscribe(email="a@example.org", language="es")
    assert send_subscription_confirmation(subscriber_id=subscriber.pk) == "sent"
    message = mailoutbox[0]
    assert "/es/news/subscribe/confirm/?t=" in message.body
    assert "/es/news/subscribe/confirm/?t=" in message.alternatives[0][0]


def test_no_confirmation_email_once_confirmed(mailoutbox):
    subscriber = services.subscriber_subscribe(email="a@example.org")
    services.subscriber_confirm(subscriber_id=subscriber.pk)
    assert send_subscription_confirmation(subscriber_id=subscriber.pk) == "skipped"
    assert mailoutbox == []


# --- leaving ------------------------------------------------------------------
def test_unsubscribing_takes_effect_at_once_and_cancels_queued_deliveries(petition):
    signature = signed_and_confirmed(petition)
    subscriber = Subscriber.objects.get()
    issue = IssueFactory()
    services.issue_queue(issue=issue)
    assert services.subscriber_unsubscribe(subscriber_id=subscriber.pk) is True
    subscriber.refresh_from_db()
    signature.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert signature.wants_updates is False
    assert Delivery.objects.get().state == Delivery.State.CANCELLED
    assert services.subscriber_unsubscribe(subscriber_id=subscriber.pk) is False


def test_the_petition_unsubscribe_link_unsubscribes_the_subscriber(petition):
    signature = signed_and_confirmed(petition)
    assert petition_services.signature_unsubscribe(signature_id=signature.pk)
    assert Subscriber.objects.get().status == Subscriber.Status.UNSUBSCRIBED


def test_withdrawing_a_signature_deletes_a_signer_only_subscriber(petition):
    signature = signed_and_confirmed(petition)
    petition_services.signature_withdraw(signature_id=signature.pk)
    assert not Subscriber.objects.exists()


def test_withdrawing_keeps_a_subscriber_who_also_confirmed_the_form(petition):
    signature = signed_and_confirmed(petition)
    subscriber = services.subscriber_subscribe(email="ana@example.org")
    services.subscriber_confirm(subscriber_id=subscriber.pk)
    petition_services.signature_withdraw(signature_id=signature.pk)
    assert Subscriber.objects.get().status == Subscriber.Status.CONFIRMED


def test_withdrawing_keeps_a_subscriber_with_another_signature_asking(petition):
    signature = signed_and_confirmed(petition)
    signed_and_confirmed(PetitionFactory(slug="other"))
    petition_services.signature_withdraw(signature_id=signature.pk)
    assert Subscriber.objects.count() == 1


def test_anonymising_signatures_removes_signer_only_subscribers(petition):
    signed_and_confirmed(petition, email="signer@example.org")
    SubscriberFactory(email="reader@example.org")  # the form: stays
    petition.state = "closed"
    petition.closes_at = timezone.now() - datetime.timedelta(days=200)
    petition.opens_at = None
    petition.save()
    petition_services.signatures_anonymise(
        closed_before=timezone.now() - datetime.timedelta(days=180)
    )
    assert list(Subscriber.objects.values_list("email", flat=True)) == [
        "reader@example.org"
    ]


def test_purge_deletes_old_pending_and_unsubscribed_only(settings):
    old = timezone.now() - datetime.timedelta(
        days=settings.SIGNATURE_PENDING_RETENTION_DAYS + 1
    )
    SubscriberFactory(status="pending", confirmed_at=None, status_changed_at=old)
    SubscriberFactory(status="unsubscribed", status_changed_at=old)
    recent = SubscriberFactory(status="pending", confirmed_at=None)
    kept = SubscriberFactory(status="confirmed", status_changed_at=old)
    bounced = SubscriberFactory(status="bounced", status_changed_at=old)
    assert services.subscribers_purge(dry_run=True) == 2
    assert services.subscribers_purge() == 2
    assert set(Subscriber.objects.values_list("pk", flat=True)) == {
        recent.pk,
        kept.pk,
        bounced.pk,
    }


def test_purge_command_covers_subscribers(settings):
    from io import StringIO

    from django.core.management import call_command

    old = timezone.now() - datetime.timedelta(days=400)
    SubscriberFactory(status="pending", confirmed_at=None, status_changed_at=old)
    out = StringIO()
    call_command("purge_expired_data", stdout=out)
    assert "Deleted 1 newsletter addresses" in out.getvalue()
    assert not Subscriber.objects.exists()


# --- bounces ------------------------------------------------------------------
def test_a_bounce_marks_the_address_and_its_latest_delivery():
    subscriber = SubscriberFactory(email="gone@example.org")
    issue = IssueFactory()
    services.issue_queue(issue=issue)
    Delivery.objects.update(state="sent", sent_at=timezone.now())
    assert services.subscriber_mark_undeliverable(
        email="GONE@example.org", reason="bounced"
    )
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.BOUNCED
    assert Delivery.objects.get().state == Delivery.State.BOUNCED
    assert not services.subscriber_mark_undeliverable(
        email="gone@example.org", reason="bounced"
    )


def test_a_complaint_outranks_a_bounce():
    subscriber = SubscriberFactory(email="angry@example.org")
    services.subscriber_mark_undeliverable(email=subscriber.email, reason="complained")
    assert not services.subscriber_mark_undeliverable(
        email=subscriber.email, reason="bounced"
    )
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.COMPLAINED


def test_unknown_or_malformed_addresses_change_nothing():
    assert not services.subscriber_mark_undeliverable(
        email="nobody@example.org", reason="bounced"
    )
    assert not services.subscriber_mark_undeliverable(email="junk", reason="bounced")
    with pytest.raises(ValueError):
        services.subscriber_mark_undeliverable(email="a@example.org", reason="sent")


def test_totals_by_language_and_source():
    SubscriberFactory(language="es")
    SubscriberFactory(language="es", source="signer")
    SubscriberFactory(language="en", source="signer")
    SubscriberFactory(status="unsubscribed")
    assert services.subscriber_totals() == {
        "total": 3,
        "by_language": {"en": 1, "es": 2},
        "by_source": {"form": 1, "signer": 2},
    }


def test_the_backfill_migration_sql_adds_existing_opted_in_signers(petition):
    from importlib import import_module

    from django.db import connection

    migration = import_module("newsletters.migrations.0005_subscribers_from_signers")
    signed_and_confirmed(petition, email="one@example.org")
    signed_and_confirmed(petition, email="two@example.org", wants_updates=False)
    Subscriber.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(migration.BACKFILL_SQL)
    assert list(Subscriber.objects.values_list("email", "source")) == [
        ("one@example.org", "signer")
    ]


def test_suppressed_addresses_are_those_that_bounced_or_complained():
    for status in Subscriber.Status:
        SubscriberFactory(email=f"{status}@example.org", status=status)
    assert {row["email_normalised"] for row in selectors.suppressed_addresses()} == {
        email_index("bounced@example.org"),
        email_index("complained@example.org"),
    }
