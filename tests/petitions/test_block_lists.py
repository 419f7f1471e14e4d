"""Surge switches: the lists of blocked e-mail domains and address ranges.

A blocked sender is answered exactly as a successful one (docs/organisers.md
says why) and nothing is stored or e-mailed, on every way in: the sign form,
the partners' widget, the OSDI API and the newsletter's form.
"""

import json

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.urls import reverse
from procrastinate.contrib.django.models import ProcrastinateJob

from api import services as api_services
from newsletters import services as newsletter_services
from newsletters.models import Subscriber
from petitions import selectors, services
from petitions.models import BlockedAddressRange, BlockedEmailDomain, Signature

from .conftest import queued_emails
from .factories import PetitionFactory, staff_user

pytestmark = pytest.mark.django_db

FORM = {
    "full_name": "Ana Quispe",
    "email": "ana@example.org",
    "country": "PE",
    "consent": "on",
}
ATTACKER_IP = "203.0.113.9"
SUPPORTER_IP = "198.51.100.4"


@pytest.fixture
def petition(settings):
    settings.PAGE_CACHE_SECONDS = 0
    return PetitionFactory(slug="justice", goal=3)


@pytest.fixture
def partner_token(django_user_model):
    owner = django_user_model.objects.create_user("partner-owner", is_staff=True)
    _token, raw = api_services.api_token_create(
        name="amnesty-peru", owner=owner, can_record_signatures=True
    )
    return raw


def block_domain(domain="spam.example"):
    return BlockedEmailDomain.objects.create(domain=domain)


def block_range(cidr="203.0.113.0/24"):
    return BlockedAddressRange.objects.create(cidr=cidr)


def sign_by_form(client, email, ip):
    return client.post(
        reverse("petitions:sign", args=["justice"]),
        {**FORM, "email": email},
        REMOTE_ADDR=ip,
    )


def sign_by_widget(client, email, ip):
    return client.post(
        "/embed/petitions/justice/sign/",
        {**FORM, "email": email},
        REMOTE_ADDR=ip,
    )


def sign_by_osdi(client, email, ip, token):
    body = {
        "person": {
            "given_name": "Ana",
            "family_name": "Quispe",
            "email_addresses": [{"address": email, "primary": True}],
            "postal_addresses": [{"country": "PE"}],
        }
    }
    return client.post(
        "/api/v1/petitions/justice/signatures/record_signature_helper",
        data=json.dumps(body),
        content_type="application/json",
        headers={"OSDI-API-Token": token},
        REMOTE_ADDR=ip,
    )


def answer(response):
    """What the sender can see of a response: its status, where it sends
    them, and its body but for what differs between any two requests."""
    body = response.content.decode()
    if response.get("Content-Type", "").startswith("application"):
        body = {
            key: value
            for key, value in json.loads(body).items()
            if not key.endswith("_date")
        }
    return response.status_code, response.get("Location"), body


SIGN_WAYS = ["form", "widget", "osdi"]


def sign(way, client, email, ip, token):
    if way == "form":
        return sign_by_form(client, email, ip)
    if way == "widget":
        return sign_by_widget(client, email, ip)
    return sign_by_osdi(client, email, ip, token)


@pytest.mark.parametrize("way", SIGN_WAYS)
@pytest.mark.parametrize(
    ("blocked_email", "blocked_ip"),
    [
        ("ana@spam.example", SUPPORTER_IP),
        ("ana@mail.spam.example", SUPPORTER_IP),
        ("rosa@example.org", ATTACKER_IP),
    ],
    ids=["domain", "subdomain", "range"],
)
def test_a_blocked_sender_gets_the_answer_of_a_success_and_nothing_is_stored(
    client, petition, partner_token, way, blocked_email, blocked_ip
):
    block_domain()
    block_range()
    success = sign(way, client, "ana@example.org", SUPPORTER_IP, partner_token)
    assert Signature.objects.count() == 1
    blocked = sign(way, client, blocked_email, blocked_ip, partner_token)
    assert answer(blocked) == answer(success)
    assert list(Signature.objects.values_list("email", flat=True)) == [
        "ana@example.org"
    ]
    assert len(queued_emails()) == 1


@pytest.mark.parametrize("way", SIGN_WAYS)
def test_a_blocked_sender_who_signed_before_is_not_e_mailed_again(
    client, petition, partner_token, way
):
    sign(way, client, "ana@example.org", SUPPORTER_IP, partner_token)
    block_range()
    sign(way, client, "ana@example.org", ATTACKER_IP, partner_token)
    # Signing again unblocked would e-mail a fresh link (a repeat e-mail).
    assert Signature.objects.get().repeat_emails_sent == 0


def test_an_ipv6_range_blocks_its_addresses_only(client, petition):
    block_range("2001:db8:abcd::/48")
    sign_by_form(client, "ana@example.org", "2001:db8:abcd:12::1")
    assert not Signature.objects.exists()
    sign_by_form(client, "rosa@example.org", "2001:db8:abce::1")
    assert Signature.objects.count() == 1


def test_an_ipv4_address_written_as_ipv6_is_still_blocked(client, petition):
    block_range()
    sign_by_form(client, "ana@example.org", f"::ffff:{ATTACKER_IP}")
    assert not Signature.objects.exists()


def test_a_single_address_can_be_blocked(client, petition):
    block_range(ATTACKER_IP)
    sign_by_form(client, "ana@example.org", "203.0.113.10")
    sign_by_form(client, "rosa@example.org", ATTACKER_IP)
    assert list(Signature.objects.values_list("email", flat=True)) == [
        "ana@example.org"
    ]


def test_a_domain_blocks_its_subdomains_but_not_lookalikes(petition):
    block_domain("spam.example")
    for email in ["a@notspam.example", "b@spam.example.org", "c@example"]:
        assert not selectors.sender_blocked(email=email)
    for email in ["d@spam.example", "e@deep.mail.SPAM.example"]:
        assert selectors.sender_blocked(email=email)


def test_an_internationalised_domain_is_blocked_in_either_spelling(petition):
    block_domain("xn--caf-dma.example")
    assert selectors.sender_blocked(email="ana@café.example")


def test_a_forwarded_address_is_checked_only_behind_trusted_proxies(
    client, petition, settings
):
    block_range()
    # Anyone can write X-Forwarded-For: unless our proxies wrote it, a
    # blocked sender cannot dodge the list, nor frame someone else, with it.
    sign_by_form(client, "ana@example.org", ATTACKER_IP)
    client.post(
        reverse("petitions:sign", args=["justice"]),
        {**FORM, "email": "rosa@example.org"},
        REMOTE_ADDR=ATTACKER_IP,
        HTTP_X_FORWARDED_FOR=SUPPORTER_IP,
    )
    assert not Signature.objects.exists()
    settings.TRUSTED_PROXY_COUNT = 1
    client.post(
        reverse("petitions:sign", args=["justice"]),
        {**FORM, "email": "rosa@example.org"},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR=SUPPORTER_IP,
    )
    assert Signature.objects.count() == 1


def test_an_unparseable_client_address_is_checked_by_domain_alone(petition):
    block_range("0.0.0.0/0")
    block_domain()
    outcomes = [
        services.signature_create(
            petition=petition,
            full_name="Ana Quispe",
            email=email,
            country="PE",
            client_ip="not-an-address",
        )
        for email in ["ana@example.org", "ana@spam.example"]
    ]
    assert outcomes == [services.SignOutcome.CREATED, services.SignOutcome.BLOCKED]
    assert Signature.objects.count() == 1


def test_signing_stays_one_statement_with_the_lists_filled(
    client, petition, django_assert_num_queries
):
    block_domain()
    block_range()
    block_range("2001:db8::/32")
    with django_assert_num_queries(1):
        stored = sign_by_form(client, "ana@example.org", SUPPORTER_IP)
    with django_assert_num_queries(1):
        blocked = sign_by_form(client, "rosa@example.org", ATTACKER_IP)
    assert answer(blocked) == answer(stored)
    assert Signature.objects.count() == 1


def subscription_jobs():
    return ProcrastinateJob.objects.filter(
        task_name="newsletters.tasks.send_subscription_confirmation"
    ).count()


@pytest.mark.parametrize(
    ("email", "ip"),
    [("ana@spam.example", SUPPORTER_IP), ("ana@example.org", ATTACKER_IP)],
    ids=["domain", "range"],
)
def test_a_blocked_newsletter_subscription_looks_like_any_other(client, email, ip):
    block_domain()
    block_range()
    url = reverse("newsletters:subscribe")
    success = client.post(url, {"email": "rosa@example.org"}, REMOTE_ADDR=SUPPORTER_IP)
    blocked = client.post(url, {"email": email}, REMOTE_ADDR=ip)
    assert answer(blocked) == answer(success)
    assert list(Subscriber.objects.values_list("email", flat=True)) == [
        "rosa@example.org"
    ]
    assert subscription_jobs() == 1


def test_the_subscribe_service_drops_a_blocked_sender():
    block_domain()
    assert newsletter_services.subscriber_subscribe(email="a@spam.example") is None
    assert not Subscriber.objects.exists()
    assert subscription_jobs() == 0


# --- the admin ----------------------------------------------------------------
@pytest.fixture
def organiser(client):
    user = staff_user(
        "organiser",
        permissions=[
            f"petitions.{action}_{model}"
            for action in ("add", "change", "delete", "view")
            for model in ("blockedemaildomain", "blockedaddressrange")
        ],
    )
    client.force_login(user)
    return user


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("  Mail.Spam.Example ", "mail.spam.example"),
        ("someone@spam.example", "spam.example"),
        ("*.spam.example", "spam.example"),
        ("café.example", "xn--caf-dma.example"),
    ],
)
def test_the_admin_stores_a_domain_as_it_is_compared(client, organiser, typed, stored):
    response = client.post(
        reverse("admin:petitions_blockedemaildomain_add"),
        {"domain": typed, "note": ""},
    )
    assert response.status_code == 302
    assert BlockedEmailDomain.objects.get().domain == stored


@pytest.mark.parametrize(
    "typed", ["spam", "http://spam.example/", "spam .example", "-spam.example", ""]
)
def test_the_admin_refuses_a_bad_domain_with_a_message(client, organiser, typed):
    response = client.post(
        reverse("admin:petitions_blockedemaildomain_add"), {"domain": typed}
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["domain"]
    assert errors and ("mailinator.com" in errors[0] or "required" in errors[0])
    assert not BlockedEmailDomain.objects.exists()


def test_the_admin_refuses_a_domain_twice(client, organiser):
    block_domain()
    response = client.post(
        reverse("admin:petitions_blockedemaildomain_add"), {"domain": "SPAM.example"}
    )
    assert response.status_code == 200
    assert "already exists" in response.context["adminform"].form.errors["domain"][0]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("203.0.113.0/24", "203.0.113.0/24"),
        (" 203.0.113.7 ", "203.0.113.7/32"),
        ("2001:DB8::/32", "2001:db8::/32"),
    ],
)
def test_the_admin_stores_a_range(client, organiser, typed, stored):
    response = client.post(
        reverse("admin:petitions_blockedaddressrange_add"), {"cidr": typed}
    )
    assert response.status_code == 302
    assert BlockedAddressRange.objects.get().cidr == stored


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("203.0.113.7/24", "the range is 203.0.113.0/24"),
        ("2001:db8::1/32", "the range is 2001:db8::/32"),
        ("203.0.113.0/33", "CIDR notation"),
        ("spam.example", "CIDR notation"),
        ("300.1.1.1", "CIDR notation"),
    ],
)
def test_the_admin_refuses_a_bad_range_with_a_message(
    client, organiser, typed, message
):
    response = client.post(
        reverse("admin:petitions_blockedaddressrange_add"), {"cidr": typed}
    )
    assert response.status_code == 200
    assert message in response.context["adminform"].form.errors["cidr"][0]
    assert not BlockedAddressRange.objects.exists()


def test_every_change_to_the_lists_is_audited(client, organiser):
    client.post(
        reverse("admin:petitions_blockedaddressrange_add"),
        {"cidr": "203.0.113.0/24", "note": "flood from one host"},
    )
    blocked = BlockedAddressRange.objects.get()
    client.post(
        reverse("admin:petitions_blockedaddressrange_change", args=[blocked.pk]),
        {"cidr": "203.0.112.0/23", "note": "flood from one host"},
    )
    client.post(
        reverse("admin:petitions_blockedaddressrange_delete", args=[blocked.pk]),
        {"post": "yes"},
    )
    client.post(
        reverse("admin:petitions_blockedemaildomain_add"), {"domain": "spam.example"}
    )
    assert not BlockedAddressRange.objects.exists()
    entries = LogEntry.objects.filter(user=organiser).order_by("pk")
    assert [(entry.action_flag, entry.object_repr) for entry in entries] == [
        (ADDITION, "203.0.113.0/24"),
        (CHANGE, "203.0.112.0/23"),
        (DELETION, "203.0.112.0/23"),
        (ADDITION, "spam.example"),
    ]
