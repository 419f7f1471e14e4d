"""The public list of recent signers drops a name as soon as it is taken back."""

import pytest

from petitions import services
from petitions.models import Signature

from .factories import PetitionFactory, SignatureFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shown_signer():
    petition = PetitionFactory(slug="justice")
    signature = SignatureFactory(
        petition=petition, full_name="Rosa Mamani", country="PE", show_publicly=True
    )
    services.signature_confirm(signature_id=signature.pk)
    return signature


def pages(client):
    return [
        client.get(path).content.decode()
        for path in ("/petitions/justice/", "/es/petitions/justice/", "/", "/es/")
    ]


def test_a_withdrawn_signer_leaves_every_cached_page_at_once(
    client, shown_signer, django_capture_on_commit_callbacks
):
    assert all("Rosa" in html for html in pages(client))  # now cached
    with django_capture_on_commit_callbacks(execute=True):
        services.signature_withdraw(signature_id=shown_signer.pk)
    assert not any("Rosa" in html for html in pages(client))


def test_an_invalidated_signer_leaves_every_cached_page_at_once(
    client, shown_signer, django_capture_on_commit_callbacks
):
    assert all("Rosa" in html for html in pages(client))
    with django_capture_on_commit_callbacks(execute=True):
        services.signatures_invalidate(
            signatures=Signature.objects.filter(pk=shown_signer.pk)
        )
    assert not any("Rosa" in html for html in pages(client))


def test_withdrawing_a_hidden_signer_leaves_the_cache_alone(
    client, shown_signer, django_capture_on_commit_callbacks
):
    hidden = SignatureFactory(petition=shown_signer.petition, show_publicly=False)
    with django_capture_on_commit_callbacks() as callbacks:
        services.signature_withdraw(signature_id=hidden.pk)
    assert callbacks == []


def test_nothing_is_forgotten_before_the_withdrawal_commits(
    shown_signer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.signature_withdraw(signature_id=shown_signer.pk)
    assert len(callbacks) == 1
