"""API tokens in the admin: superusers only, shown once, revoked not deleted."""

import pytest
from django.contrib.auth.models import Permission

from api.models import ApiToken, token_hash

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client, django_user_model):
    user = django_user_model.objects.create_superuser(
        "boss", "boss@example.org", "a long password"
    )
    client.force_login(user)
    return client


@pytest.fixture
def staff_client(client, owner):
    # Staff with every permission of the api app, but not a superuser.
    owner.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="api")
    )
    client.force_login(owner)
    return client


def test_creating_a_token_shows_it_once_and_stores_its_hash(superuser_client, owner):
    response = superuser_client.post(
        "/admin/api/apitoken/add/",
        {
            "name": "amnesty-peru",
            "owner": owner.pk,
            "can_record_signatures": "on",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    token = ApiToken.objects.get()
    raw = next(word.split('"')[1] for word in html.split("value=") if "pcapi_" in word)
    assert token.key_hash == token_hash(raw)
    assert raw[:10] == token.key_prefix
    assert token.can_record_signatures and not token.can_read_signatures
    # Never again: the change page has only the prefix.
    change = superuser_client.get(f"/admin/api/apitoken/{token.pk}/change/")
    assert raw not in change.content.decode()
    assert token.key_prefix in change.content.decode()
    assert (
        "no-cache" in response["Cache-Control"]
        or "no-store" in response["Cache-Control"]
    )


def test_superusers_revoke_tokens(superuser_client, make_token):
    token, _raw = make_token()
    response = superuser_client.post(
        "/admin/api/apitoken/",
        {"action": "revoke_selected", "_selected_action": [token.pk]},
        follow=True,
    )
    assert "1 token revoked." in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_tokens_are_never_deleted(superuser_client, make_token):
    token, _raw = make_token()
    response = superuser_client.post(
        f"/admin/api/apitoken/{token.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 403
    assert ApiToken.objects.filter(pk=token.pk).exists()


@pytest.mark.parametrize(
    "path",
    [
        "/admin/api/apitoken/",
        "/admin/api/apitoken/add/",
        "/admin/api/apirequest/",
    ],
)
def test_staff_who_are_not_superusers_cannot_reach_tokens(staff_client, path):
    assert staff_client.get(path).status_code == 403


def test_staff_cannot_create_tokens(staff_client, owner):
    staff_client.post(
        "/admin/api/apitoken/add/",
        {"name": "sneaky", "owner": owner.pk, "can_read_signatures": "on"},
    )
    assert not ApiToken.objects.exists()


def test_the_petition_page_in_the_admin_shows_the_snippets(superuser_client, petition):
    html = superuser_client.get(
        f"/admin/petitions/petition/{petition.pk}/change/"
    ).content.decode()
    assert "&lt;iframe src=&quot;" in html
    assert "/embed/petitions/justice/?partner=your-organisation" in html
    assert "/es/embed/petitions/justice/" in html
