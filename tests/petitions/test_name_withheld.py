""" "Count me, but don't hand over my name": the choice on the sign form."""

import pytest
from django.urls import reverse
from django.utils import translation

from petitions.forms import SignatureForm
from petitions.models import Signature

from .test_views import VALID, sign_url

pytestmark = pytest.mark.django_db


def test_the_choice_is_stored_from_the_sign_form(client, petition):
    response = client.post(sign_url(petition), {**VALID, "name_withheld": "on"})
    assert response.status_code == 303
    signature = Signature.objects.get()
    assert signature.name_withheld is True
    assert signature.consent_version == "2026-12-v3"


def test_without_the_choice_the_name_is_handed_over(client, petition):
    client.post(sign_url(petition), VALID)
    assert Signature.objects.get().name_withheld is False


def test_the_sign_page_offers_the_choice_in_both_languages(client, petition):
    english = client.get(petition.get_absolute_url()).content.decode()
    assert 'name="name_withheld"' in english
    assert "leave my name out of what is delivered" in english
    with translation.override("es"):
        url = reverse("petitions:detail", kwargs={"slug": petition.slug})
    spanish = client.get(url).content.decode()
    assert 'name="name_withheld"' in spanish
    assert "sin entregar mi nombre" in spanish


def test_the_consent_wording_says_the_name_can_be_left_out_in_both_languages():
    assert "unless I ask below for my name to be left out" in str(
        SignatureForm().fields["consent"].label
    )
    with translation.override("es"):
        assert "salvo que pida abajo que no se entregue mi nombre" in str(
            SignatureForm().fields["consent"].label
        )
