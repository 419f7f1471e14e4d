import pytest
from django.contrib.auth import get_user_model

from petitions import services
from petitions.models import Signature

from .factories import SignatureFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client):
    user = get_user_model().objects.create_superuser("boss", "boss@example.org", "pw")
    client.force_login(user)
    return client


def _confirmed(petition, **kwargs):
    signature = SignatureFactory(petition=petition, **kwargs)
    services.signature_confirm(signature_id=signature.pk)
    return signature


def test_staff_can_invalidate_selected_signatures(admin_client_, petition):
    signature = _confirmed(petition)
    response = admin_client_.post(
        "/admin/petitions/signature/",
        {"action": "invalidate_selected", "_selected_action": [signature.pk]},
        follow=True,
    )
    assert "1 signature invalidated" in response.content.decode()
    assert services.petition_signature_count(petition) == 0


def test_bulk_invalidation_by_ip_hash(admin_client_, petition):
    first = _confirmed(petition, ip_hash="abc")
    _confirmed(petition, ip_hash="abc")
    _confirmed(petition, ip_hash="other")
    admin_client_.post(
        "/admin/petitions/signature/",
        {"action": "invalidate_same_ip_hash", "_selected_action": [first.pk]},
    )
    assert Signature.objects.filter(status="invalidated").count() == 2
    assert services.petition_signature_count(petition) == 1


def test_bulk_invalidation_by_email_domain(admin_client_, petition):
    first = _confirmed(petition, email="x@spam.example")
    _confirmed(petition, email="y@spam.example")
    _confirmed(petition, email="z@fine.example")
    admin_client_.post(
        "/admin/petitions/signature/",
        {"action": "invalidate_same_email_domain", "_selected_action": [first.pk]},
    )
    assert services.petition_signature_count(petition) == 1


def test_signatures_cannot_be_edited_or_added_by_hand(admin_client_, petition):
    signature = SignatureFactory(petition=petition)
    assert admin_client_.get("/admin/petitions/signature/add/").status_code == 403
    page = admin_client_.get(f"/admin/petitions/signature/{signature.pk}/change/")
    assert page.status_code == 200
    assert 'name="full_name"' not in page.content.decode()


def test_petition_admin_shows_the_confirmed_count(admin_client_, petition):
    _confirmed(petition)
    page = admin_client_.get(f"/admin/petitions/petition/{petition.pk}/change/")
    assert "Confirmed signatures" in page.content.decode()
