"""Every limit keys an IPv6 client by its /64, and an IPv4 client by its address.

Two addresses in one /64 (one home line, one phone) are one client for the
sign, widget and subscribe limits, the admin lock-out and the fraud watch.
"""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from core.client_ip import client_network
from organising.fraud import signature_hotspots
from petitions.models import Signature
from tests.petitions.factories import PetitionFactory

pytestmark = pytest.mark.django_db

ONE_LINE = ("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:fffe")
NEXT_LINE = "2001:db8:1:3::1"
SIGNER = {
    "full_name": "Ana Quispe",
    "country": "PE",
    "postcode": "",
    "consent": "on",
}


@pytest.mark.parametrize(
    ("ip", "key"),
    [
        ("2001:db8:1:2::1", "2001:db8:1:2::"),
        ("2001:DB8:1:2:abcd::9", "2001:db8:1:2::"),
        ("fe80::1%eth0", "fe80::"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("192.0.2.1", "192.0.2.1"),
        ("192.0.2.2", "192.0.2.2"),
        ("not an address", "not an address"),
    ],
)
def test_client_network_keeps_ipv4_and_folds_ipv6_to_its_64(ip, key):
    assert client_network(ip) == key


@pytest.fixture
def petition():
    return PetitionFactory(slug="justice")


def _sign(client, petition, number, ip):
    return client.post(
        reverse("petitions:sign", kwargs={"slug": petition.slug}),
        {**SIGNER, "email": f"signer{number}@example.org"},
        REMOTE_ADDR=ip,
    )


def test_the_sign_limit_holds_across_one_64(client, petition, settings):
    settings.SIGN_RATE_BURST = 1
    assert _sign(client, petition, 1, ONE_LINE[0]).status_code == 303
    assert _sign(client, petition, 2, ONE_LINE[1]).status_code == 429
    # The neighbouring /64 is somebody else.
    assert _sign(client, petition, 3, NEXT_LINE).status_code == 303


def test_ipv4_clients_stay_one_address_each(client, petition, settings):
    settings.SIGN_RATE_BURST = 1
    assert _sign(client, petition, 1, "192.0.2.1").status_code == 303
    assert _sign(client, petition, 2, "192.0.2.2").status_code == 303


def test_the_widget_limit_holds_across_one_64(client, petition, settings):
    settings.SIGN_RATE_BURST = 1
    url = reverse("widget:sign", kwargs={"slug": petition.slug})
    first = {**SIGNER, "email": "w1@example.org"}
    second = {**SIGNER, "email": "w2@example.org"}
    assert client.post(url, first, REMOTE_ADDR=ONE_LINE[0]).status_code == 303
    assert client.post(url, second, REMOTE_ADDR=ONE_LINE[1]).status_code == 429
    assert Signature.objects.count() == 1


def test_the_subscribe_limit_holds_across_one_64(client, settings):
    settings.SIGN_RATE_BURST = 1
    url = reverse("newsletters:subscribe")
    first = client.post(url, {"email": "s1@example.org"}, REMOTE_ADDR=ONE_LINE[0])
    second = client.post(url, {"email": "s2@example.org"}, REMOTE_ADDR=ONE_LINE[1])
    assert first.status_code == 303
    assert second.status_code == 429


def test_the_fraud_watch_groups_one_64_under_one_ip_hash(client, petition):
    for number, ip in enumerate([*ONE_LINE, "2001:db8:1:2::77"]):
        assert _sign(client, petition, number, ip).status_code == 303
    assert Signature.objects.values("ip_hash").distinct().count() == 1
    hotspots = signature_hotspots(
        petition=petition,
        since=timezone.now() - datetime.timedelta(hours=1),
        at_least=3,
    )
    by_ip = [spot.count for spot in hotspots if spot.kind == "ip_hash"]
    assert by_ip == [3]


def test_the_admin_lock_out_holds_across_one_64(client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    get_user_model().objects.create_user(
        username="staff@example.org", password="right-horse-battery", is_staff=True
    )
    limit = settings.AXES_FAILURE_LIMIT
    for number in range(limit):
        client.post(
            "/admin/login/",
            {"username": f"guess{number}@example.org", "password": "wrong"},
            # A fresh address of the same /64 for every guess.
            REMOTE_ADDR=f"2001:db8:1:2::{number + 1:x}",
        )
    locked = client.post(
        "/admin/login/",
        {"username": "staff@example.org", "password": "right-horse-battery"},
        REMOTE_ADDR=ONE_LINE[1],
    )
    assert locked.status_code == 429
    elsewhere = client.post(
        "/admin/login/",
        {"username": "staff@example.org", "password": "right-horse-battery"},
        REMOTE_ADDR=NEXT_LINE,
    )
    assert elsewhere.status_code == 302
