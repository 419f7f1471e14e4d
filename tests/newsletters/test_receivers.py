"""The list follows petitions' signals inside the petition service's own
transaction: if the newsletter's side fails, the signer's change is undone."""

import pytest

from newsletters import services
from newsletters.models import Subscriber
from petitions import services as petition_services
from petitions import signals
from petitions.models import Signature
from petitions.selectors import petition_signature_count
from tests.petitions.factories import PetitionFactory, SignatureFactory

from .factories import SubscriberFactory

# Committed for real, and restored from the serialized migration data
# afterwards like the suite's other transactional tests (a plain flush would
# leave content types for the next serialized restore to collide with).
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


class ListDown(Exception):
    pass


def _fails(monkeypatch, name):
    def broken(**kwargs):
        raise ListDown

    monkeypatch.setattr(services, name, broken)


def test_a_failing_list_rolls_the_confirmation_back(monkeypatch):
    petition = PetitionFactory()
    signature = SignatureFactory(petition=petition, wants_updates=True)
    _fails(monkeypatch, "subscriber_from_signature")
    with pytest.raises(ListDown):
        petition_services.signature_confirm(signature_id=signature.pk)
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PENDING
    assert signature.confirmed_at is None
    assert petition_signature_count(petition) == 0


def test_a_failing_list_rolls_the_withdrawal_back(monkeypatch):
    signature = SignatureFactory(email="ana@example.org")
    _fails(monkeypatch, "subscriber_forget_signer")
    with pytest.raises(ListDown):
        petition_services.signature_withdraw(signature_id=signature.pk)
    signature.refresh_from_db()
    assert signature.status != Signature.Status.WITHDRAWN
    assert signature.email == "ana@example.org"


def test_a_failing_list_rolls_the_unsubscription_back(monkeypatch):
    signature = SignatureFactory(email="ana@example.org", wants_updates=True)
    SubscriberFactory(email="ana@example.org")
    _fails(monkeypatch, "subscriber_unsubscribe_address")
    with pytest.raises(ListDown):
        petition_services.signature_unsubscribe(signature_id=signature.pk)
    signature.refresh_from_db()
    assert signature.wants_updates


def test_the_signer_and_the_list_leave_together_on_unsubscribe():
    signature = SignatureFactory(email="ana@example.org", wants_updates=False)
    subscriber = SubscriberFactory(email="ana@example.org")
    # The signature asked for nothing: only the list's answer says "stopped".
    assert petition_services.signature_unsubscribe(signature_id=signature.pk)
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED


def test_the_newsletters_receivers_are_connected():
    for signal in (
        signals.signature_confirmed,
        signals.signature_withdrawn,
        signals.signature_unsubscribed,
        signals.signatures_anonymised,
    ):
        assert signal.has_listeners(Signature)
