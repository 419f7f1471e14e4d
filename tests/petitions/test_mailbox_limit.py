"""Confirmation e-mails to one mailbox are limited across its +tags, at any
domain, whichever form sends them (issue 22, item 5)."""

import datetime

import pytest
from django.urls import reverse
from procrastinate.contrib.django.models import ProcrastinateJob

from core.email_addresses import mailbox_key, normalise_email
from core.encryption import email_index
from newsletters import services as newsletter_services
from petitions import services
from petitions.models import RateLimitCounter, Signature

from .conftest import queued_emails

pytestmark = pytest.mark.django_db

SIGNER = {"full_name": "Ana Quispe", "country": "PE", "postcode": "", "consent": "on"}
NOON = datetime.datetime(2026, 6, 1, 12, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _generous_client_limits(settings):
    # The attack comes from many addresses; only the mailbox limit is tested.
    settings.SIGN_RATE_BURST = 1000
    settings.SIGN_RATE_SUSTAINED = 1000
    settings.MAILBOX_EMAIL_LIMIT = 3


def subscription_emails() -> int:
    return ProcrastinateJob.objects.filter(
        task_name="newsletters.tasks.send_subscription_confirmation"
    ).count()


@pytest.mark.parametrize(
    ("email", "key"),
    [
        ("Victim+1@Corp.example", "victim@corp.example"),
        ("victim+a+b@corp.example", "victim@corp.example"),
        ("victim@corp.example", "victim@corp.example"),
        ("v.ictim+x@googlemail.com", "victim@gmail.com"),
    ],
)
def test_the_mailbox_key_drops_plus_tags_at_every_domain(email, key):
    assert mailbox_key(email) == key


def test_duplicates_still_fold_plus_tags_only_for_webmail():
    assert normalise_email("victim+1@corp.example") == "victim+1@corp.example"
    assert normalise_email("victim+1@gmail.com") == "victim@gmail.com"


def test_twenty_plus_tag_variants_get_at_most_the_limit_of_emails(client, petition):
    url = reverse("petitions:sign", kwargs={"slug": petition.slug})
    for number in range(20):
        response = client.post(
            url,
            {**SIGNER, "email": f"victim+{number}@corp.example"},
            REMOTE_ADDR=f"192.0.2.{number + 1}",
        )
        # Every signer sees the same answer, so the limit tells nobody
        # whether an address was used.
        assert response.status_code == 303
    assert Signature.objects.count() == 20
    assert len(queued_emails()) == 3


def test_the_widget_counts_against_the_same_mailbox(client, petition, sign):
    for number in range(2):
        sign(email=f"victim+site{number}@corp.example")
    url = reverse("widget:sign", kwargs={"slug": petition.slug})
    for number in range(3):
        client.post(url, {**SIGNER, "email": f"victim+widget{number}@corp.example"})
    assert Signature.objects.count() == 5
    assert len(queued_emails()) == 3


def test_signing_and_subscribing_share_one_mailbox_limit(petition, sign):
    for number in range(2):
        sign(email=f"victim+{number}@corp.example")
    for number in range(5):
        newsletter_services.subscriber_subscribe(
            email=f"victim+news{number}@corp.example"
        )
    assert len(queued_emails()) + subscription_emails() == 3


def test_repeats_past_the_limit_send_nothing(petition, sign, settings):
    settings.SIGNATURE_MAX_REPEAT_EMAILS = 10
    outcomes = [sign(email="victim@corp.example") for _ in range(6)]
    assert outcomes[3:] == [services.SignOutcome.REPEAT_IGNORED] * 3
    signature = Signature.objects.get()
    assert signature.repeat_emails_sent == 2
    assert queued_emails() == [(signature.pk, "confirm")]


def test_a_signer_over_the_limit_gets_the_link_by_signing_again_later(
    petition, sign, settings
):
    for number in range(3):
        sign(email=f"victim+{number}@corp.example", now=NOON)
    sign(email="victim+late@corp.example", now=NOON)
    late = Signature.objects.get(
        email_normalised=email_index("victim+late@corp.example")
    )
    assert late.email_due_at is None
    assert late.status == Signature.Status.PENDING
    # Just inside the window: still nothing.
    window = datetime.timedelta(seconds=settings.MAILBOX_EMAIL_WINDOW_SECONDS)
    inside = NOON + window - datetime.timedelta(minutes=1)
    assert sign(email="victim+late@corp.example", now=inside) == (
        services.SignOutcome.REPEAT_IGNORED
    )
    # Once the window (and its oldest bucket) has passed, the link goes out.
    later = NOON + window * 1.2
    assert sign(email="victim+late@corp.example", now=later) == (
        services.SignOutcome.REPEAT_PENDING
    )
    late.refresh_from_db()
    assert late.email_due_at is not None


def test_other_mailboxes_at_the_domain_are_not_held_back(petition, sign):
    for number in range(5):
        sign(email=f"victim+{number}@corp.example")
    sign(email="colleague@corp.example")
    colleague = Signature.objects.get(
        email_normalised=email_index("colleague@corp.example")
    )
    assert colleague.email_due_at is not None


def test_the_counters_hold_no_address(petition, sign):
    sign(email="victim+1@corp.example")
    keys = list(RateLimitCounter.objects.values_list("key", flat=True))
    assert any(key.startswith("mailbox:") for key in keys)
    assert not any("victim" in key or "corp" in key for key in keys)


def test_the_sign_post_is_still_one_statement(
    client, petition, django_assert_num_queries
):
    url = reverse("petitions:sign", kwargs={"slug": petition.slug})
    with django_assert_num_queries(1):
        response = client.post(url, {**SIGNER, "email": "victim+1@corp.example"})
    assert response.status_code == 303
