"""The changelists accept only their own filters' look-ups (issue 22, item 1).

Django lets any look-up on a model's own fields through a changelist's query
string; "1 subscriber" for `?email_normalised__startswith=a` spells out an
address a letter at a time.
"""

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import models
from django.urls import reverse

from tests.newsletters.factories import SubscriberFactory, make_editor

pytestmark = pytest.mark.django_db

PERSONAL_DATA_APPS = {"newsletters", "petitions", "organising", "api"}
# Published content, edited by editors: nothing in it is about a supporter.
CONTENT_MODELS = {"newsletters.entry", "newsletters.issue", "petitions.petition"}


@pytest.fixture
def editor_client(client):
    client.force_login(make_editor())
    return client


@pytest.fixture
def superuser_client(client):
    client.force_login(
        get_user_model().objects.create_superuser(
            username="root@example.org", password="a-long-test-password"
        )
    )
    return client


@pytest.mark.parametrize(
    "query",
    [
        "email_normalised__startswith=a",
        "email__startswith=a",
        "email__regex=^a",
        "email_normalised__gte=a",
        "email__exact=ana@example.org",
        "source=signer",
        "source__exact=signer",
        "consent_version__contains=t",
    ],
)
def test_an_editor_cannot_probe_subscribers_with_lookups(editor_client, query):
    SubscriberFactory(email="ana@example.org", source="signer")
    response = editor_client.get(f"/admin/newsletters/subscriber/?{query}")
    assert response.status_code == 400
    assert b"ana@" not in response.content


def test_an_editor_sees_no_source_filter_or_column(editor_client):
    SubscriberFactory(email="ana@example.org", source="signer")
    response = editor_client.get("/admin/newsletters/subscriber/")
    assert response.status_code == 200
    assert b"source__exact" not in response.content
    assert b"Signer who asked for updates" not in response.content


def test_the_list_filters_still_work(editor_client):
    SubscriberFactory(email="ana@example.org", status="confirmed")
    response = editor_client.get(
        "/admin/newsletters/subscriber/?status__exact=confirmed&language=en"
    )
    assert response.status_code == 200
    assert b"1 subscriber" in response.content


def test_related_lookups_are_refused(superuser_client):
    response = superuser_client.get(
        "/admin/newsletters/delivery/?subscriber__email__startswith=a"
    )
    assert response.status_code == 400


def _admins_with_text_fields():
    for model in apps.get_models():
        if (
            not admin.site.is_registered(model)
            or model._meta.app_label not in PERSONAL_DATA_APPS
            or model._meta.label_lower in CONTENT_MODELS
        ):
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, (models.CharField, models.TextField)):
                yield pytest.param(
                    model, field.name, id=f"{model.__name__}.{field.name}"
                )
                break


@pytest.mark.parametrize(("model", "field_name"), list(_admins_with_text_fields()))
def test_every_personal_data_admin_refuses_its_own_field_lookups(
    superuser_client, model, field_name
):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    response = superuser_client.get(f"{url}?{field_name}__startswith=a")
    assert response.status_code == 400


def test_signature_filters_and_date_hierarchy_still_work(superuser_client):
    response = superuser_client.get(
        "/admin/petitions/signature/?status__exact=confirmed&country__exact=PE"
    )
    assert response.status_code == 200
    response = superuser_client.get(
        "/admin/organising/signatureexport/?created_at__year=2026"
    )
    assert response.status_code == 200
    response = superuser_client.get(
        "/admin/petitions/signature/?full_name__startswith=a"
    )
    assert response.status_code == 400
