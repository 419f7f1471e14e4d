"""Rotating the secret key breaks no link already e-mailed (issue 22, item 10d)."""

import subprocess
import sys

import pytest

from petitions import tokens
from petitions.models import Signature

from .factories import ConfirmedSignatureFactory

pytestmark = pytest.mark.django_db

OLD_KEY = "the-key-the-e-mails-were-signed-with-" + "x" * 20
NEW_KEY = "the-key-after-the-rotation-" + "y" * 30


def test_a_withdraw_link_signed_with_the_old_key_works_after_rotation(client, settings):
    signature = ConfirmedSignatureFactory()
    settings.SECRET_KEY = OLD_KEY
    token = tokens.make_token(signature.pk, "withdraw")

    settings.SECRET_KEY = NEW_KEY
    settings.SECRET_KEY_FALLBACKS = [OLD_KEY]
    assert tokens.make_token(signature.pk, "withdraw") != token
    response = client.post("/petitions/withdraw/", {"t": token})
    assert "has been withdrawn" in response.content.decode()
    signature.refresh_from_db()
    assert signature.status == Signature.Status.WITHDRAWN


def test_without_the_fallback_the_old_link_is_refused(client, settings):
    signature = ConfirmedSignatureFactory()
    settings.SECRET_KEY = OLD_KEY
    token = tokens.make_token(signature.pk, "withdraw")

    settings.SECRET_KEY = NEW_KEY
    settings.SECRET_KEY_FALLBACKS = []
    client.post("/petitions/withdraw/", {"t": token})
    signature.refresh_from_db()
    assert signature.status == Signature.Status.CONFIRMED


def test_the_fallbacks_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_SECRET_KEY_FALLBACKS", "old-one,older-one")
    output = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE',"
            " 'peru_campaign.settings'); from django.conf import settings;"
            " print(settings.SECRET_KEY_FALLBACKS)",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert output.strip() == "['old-one', 'older-one']"
