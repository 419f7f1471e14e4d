"""Surge switches: pausing signing (one petition or the whole site), the
site banner, and the audit of who switched them."""

import json

import pytest
from django.contrib.admin.models import ADDITION, DELETION, LogEntry
from django.urls import reverse

from api import services as api_services
from petitions import services, tokens
from petitions.models import Signature, SigningPause, SiteBanner

from .factories import PetitionFactory, staff_user

pytestmark = pytest.mark.django_db

VALID = {"full_name": "Ana Quispe", "email": "ana@example.org", "country": "PE"}
FORM = {**VALID, "consent": "on"}
MESSAGE = "Signing is paused for a few minutes while we deal with a flood."


@pytest.fixture
def petition(settings):
    # Each test reads its page afresh, not a copy shared from another test.
    settings.PAGE_CACHE_SECONDS = 0
    return PetitionFactory(slug="justice", goal=3)


def pause(petition=None) -> SigningPause:
    return SigningPause.objects.create(
        petition=petition, message_en=MESSAGE, message_es="Firmas en pausa."
    )


@pytest.mark.parametrize("whole_site", [False, True])
def test_a_paused_petition_shows_the_message_instead_of_the_form(
    client, petition, whole_site
):
    pause(None if whole_site else petition)
    page = client.get(petition.get_absolute_url()).content.decode()
    assert MESSAGE in page
    assert 'name="full_name"' not in page
    assert "Firmas en pausa." in client.get("/es/petitions/justice/").content.decode()


@pytest.mark.parametrize("whole_site", [False, True])
def test_a_sign_post_is_refused_while_paused_and_nothing_is_stored(
    client, petition, whole_site
):
    pause(None if whole_site else petition)
    response = client.post(reverse("petitions:sign", args=[petition.slug]), FORM)
    assert response.status_code == 503
    assert MESSAGE in response.content.decode()
    assert not Signature.objects.exists()


def test_a_pause_on_another_petition_changes_nothing_here(client, petition):
    pause(PetitionFactory(slug="other"))
    response = client.post(reverse("petitions:sign", args=[petition.slug]), FORM)
    assert response.status_code == 303
    assert Signature.objects.count() == 1


def test_the_service_refuses_a_paused_petition(petition):
    pause(petition)
    with pytest.raises(services.ValidationError) as refused:
        services.signature_create(petition=petition, **VALID)
    assert refused.value.code == "paused"
    assert refused.value.messages == [MESSAGE]
    assert not Signature.objects.exists()


def test_confirmation_links_keep_working_and_the_count_rises(client, petition):
    services.signature_create(petition=petition, **VALID)
    signature = Signature.objects.get()
    pause()
    token = tokens.make_token(signature.pk, "confirm")
    response = client.post("/petitions/confirm/", {"t": token})
    assert response.status_code == 303
    signature.refresh_from_db()
    assert signature.status == Signature.Status.CONFIRMED
    assert services.petition_signature_count(petition) == 1


def test_the_widget_refuses_a_paused_petition(client, petition):
    pause(petition)
    widget = client.get("/embed/petitions/justice/").content.decode()
    assert MESSAGE in widget
    response = client.post("/embed/petitions/justice/sign/", FORM)
    assert response.status_code == 503
    assert MESSAGE in response.content.decode()
    assert not Signature.objects.exists()


def test_the_osdi_api_refuses_a_paused_petition(client, petition, django_user_model):
    owner = django_user_model.objects.create_user("partner-owner", is_staff=True)
    _token, raw = api_services.api_token_create(
        name="amnesty-peru", owner=owner, can_record_signatures=True
    )
    pause()
    body = {
        "person": {
            "given_name": "Ana",
            "family_name": "Quispe",
            "email_addresses": [{"address": "ana@example.org", "primary": True}],
            "postal_addresses": [{"country": "PE"}],
        }
    }
    response = client.post(
        "/api/v1/petitions/justice/signatures/record_signature_helper",
        data=json.dumps(body),
        content_type="application/json",
        headers={"OSDI-API-Token": raw},
    )
    assert response.status_code == 503
    assert MESSAGE in response.content.decode()
    assert not Signature.objects.exists()


def test_the_site_banner_shows_on_public_pages_in_each_language(client, petition):
    banner = SiteBanner.objects.create(
        text_en="Our site is busy; thank you for your patience.",
        text_es="El sitio está muy solicitado; gracias por su paciencia.",
        is_active=True,
    )
    assert "thank you for your patience" in client.get("/").content.decode()
    assert "gracias por su paciencia" in client.get("/es/").content.decode()
    assert "thank you for your patience" in (
        client.get("/petitions/justice/").content.decode()
    )
    banner.is_active = False
    banner.save()
    assert "thank you for your patience" not in client.get("/").content.decode()


def test_switching_in_the_admin_is_audited(client, petition):
    organiser = staff_user(
        "organiser",
        permissions=["petitions.add_signingpause", "petitions.delete_signingpause"],
    )
    client.force_login(organiser)
    response = client.post(
        reverse("admin:petitions_signingpause_add"),
        {"petition": "", "message_en": MESSAGE, "message_es": "Firmas en pausa."},
    )
    assert response.status_code == 302
    switch = SigningPause.objects.get()
    added = LogEntry.objects.get(object_id=str(switch.pk))
    assert (added.user, added.action_flag) == (organiser, ADDITION)
    client.post(
        reverse("admin:petitions_signingpause_delete", args=[switch.pk]),
        {"post": "yes"},
    )
    assert not SigningPause.objects.exists()
    assert LogEntry.objects.filter(
        user=organiser, action_flag=DELETION, object_repr__contains="whole site"
    ).exists()
