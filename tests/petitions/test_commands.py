import pytest
from django.core.management import call_command

from petitions.models import Signature

from .factories import SignatureFactory

pytestmark = pytest.mark.django_db


def test_invalidate_command(petition, capsys):
    SignatureFactory(petition=petition, email="a@bad.example")
    SignatureFactory(petition=petition, email="b@good.example")
    call_command(
        "invalidate_signatures", petition.slug, "--email-domain", "bad.example"
    )
    assert "1 signatures invalidated" in capsys.readouterr().out
    assert Signature.objects.filter(status="invalidated").count() == 1
