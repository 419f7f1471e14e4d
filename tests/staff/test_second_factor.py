"""Staff who can see supporters' personal data pass a second factor before
any admin page; editors without such permissions stay on a password."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff.selectors import PERSONAL_DATA_PERMISSIONS, user_needs_second_factor
from staff.services import recovery_codes_create
from tests.petitions.factories import staff_user

from .helpers import confirmed_totp_device, current_code

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"
ENROL = "/admin/second-factor/set-up/"
VERIFY = "/admin/second-factor/"
RECOVERY = "/admin/second-factor/recovery-codes/"


def person(username="staff@example.org", **kwargs):
    user = staff_user(username, **kwargs)
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return user


@pytest.fixture
def no_pause(settings):
    # django-otp pauses after a wrong code; tests that go on at once skip it,
    # and test_wrong_codes_pause_even_the_right_one tests the pause itself.
    settings.OTP_TOTP_THROTTLE_FACTOR = settings.OTP_STATIC_THROTTLE_FACTOR = 0


def password_log_in(client, user):
    response = client.post(
        "/admin/login/", {"username": user.get_username(), "password": PASSWORD}
    )
    assert response.status_code == 302, "the password itself was refused"


# ------------------------------------------------------------------------------
# Who
# ------------------------------------------------------------------------------
def test_every_listed_permission_exists():
    # A misspelt name here would silently leave that permission unguarded.
    existing = {
        f"{app_label}.{codename}"
        for app_label, codename in Permission.objects.values_list(
            "content_type__app_label", "codename"
        )
    }
    assert PERSONAL_DATA_PERMISSIONS <= existing, PERSONAL_DATA_PERMISSIONS - existing


@pytest.mark.parametrize(
    "permission",
    [
        "petitions.view_signature",
        "petitions.invalidate_signature",
        "newsletters.view_subscriber",
        "organising.export_emails",
        "organising.export_delivery_list",
        "api.view_apitoken",
        "auth.change_user",
    ],
)
def test_a_personal_data_permission_needs_a_second_factor(permission):
    assert user_needs_second_factor(user=person(permissions=[permission]))


def test_superusers_and_organisers_need_one_and_a_plain_editor_does_not():
    superuser = person("root@example.org")
    superuser.is_superuser = True
    assert user_needs_second_factor(user=superuser)
    assert user_needs_second_factor(user=person("o@example.org", groups=["Organisers"]))
    writer = person("w@example.org", permissions=["newsletters.change_entry"])
    assert not user_needs_second_factor(user=writer)
    not_staff = person("x@example.org", permissions=["petitions.view_signature"])
    not_staff.is_staff = False
    assert not user_needs_second_factor(user=not_staff)


# ------------------------------------------------------------------------------
# A password alone opens nothing
# ------------------------------------------------------------------------------
ADMIN_PAGES = [
    "/admin/",
    "/admin/petitions/signature/",
    "/admin/newsletters/subscriber/",
    "/admin/api/apitoken/",
    "/admin/auth/user/",
    "/admin/petitions/petition/dashboard/",
    "/admin/petitions/petition/dashboard/justice/",
    "/admin/petitions/petition/dashboard/justice/delivery.csv",
    "/admin/petitions/petition/dashboard/justice/delivery-emails.csv",
    "/admin/petitions/petition/dashboard/justice/delivery.pdf",
    "/admin/organising/signatureexport/",
    "/admin/password_change/",
    "/admin/login/",
]


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_a_password_only_session_reaches_no_admin_page(client, petition, path):
    user = person(
        groups=["Organisers"],
        permissions=["organising.export_emails", "petitions.view_signature"],
    )
    password_log_in(client, user)
    response = client.get(path)
    assert response.status_code == 302
    assert response.url.startswith(ENROL + "?next=")
    confirmed_totp_device(user)
    response = client.get(path)
    assert response.status_code == 302
    assert response.url.startswith(VERIFY + "?next=")


def test_the_admin_site_itself_refuses_an_unverified_session():
    # The middleware's rule again at admin_view's door.
    user = person(permissions=["petitions.view_signature"])
    request = RequestFactory().get("/admin/")
    request.user = user
    user.is_verified = lambda: False
    assert not admin.site.has_permission(request)
    user.is_verified = lambda: True
    assert admin.site.has_permission(request)


def test_an_editor_without_personal_data_permissions_is_not_asked(client):
    editor = person("editor@example.org", permissions=["newsletters.change_entry"])
    password_log_in(client, editor)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/newsletters/entry/").status_code == 200
    # Nor offered the set-up page.
    assert client.get(ENROL).url == "/admin/"
    assert not TOTPDevice.objects.exists()


def test_a_password_only_session_cannot_add_a_passkey_past_its_app(client):
    # Registering a new passkey would otherwise verify the session without
    # the enrolled app: django-otp-webauthn refuses until it is verified.
    user = person(permissions=["petitions.view_signature"])
    confirmed_totp_device(user)
    password_log_in(client, user)
    response = client.post(
        "/admin/second-factor/passkeys/registration/begin/",
        content_type="application/json",
    )
    assert response.status_code == 403
    assert client.get("/admin/").status_code == 302


# ------------------------------------------------------------------------------
# Enrolment, verification, recovery codes
# ------------------------------------------------------------------------------
def test_first_log_in_enrols_an_app_and_shows_recovery_codes_once(client, no_pause):
    user = person(permissions=["newsletters.view_subscriber"])
    password_log_in(client, user)
    assert client.get("/admin/newsletters/subscriber/").url == (
        ENROL + "?next=%2Fadmin%2Fnewsletters%2Fsubscriber%2F"
    )
    page = client.get(ENROL + "?next=/admin/newsletters/subscriber/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html and "otpauth" not in html  # drawn here, no QR service
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    # Reloading keeps the secret the app may already have scanned.
    client.get(ENROL)
    assert TOTPDevice.objects.get(user=user).pk == device.pk

    wrong = client.post(ENROL, {"code": "000000", "next": "/admin/"})
    assert wrong.status_code == 400
    assert "That code is not right" in wrong.content.decode()

    response = client.post(
        ENROL,
        {"code": current_code(device), "next": "/admin/newsletters/subscriber/"},
    )
    assert response.url == RECOVERY + "?new=1"
    shown = client.get(response.url)
    codes = list(
        StaticToken.objects.filter(device__user=user).values_list("token", flat=True)
    )
    assert len(codes) == 10
    assert all(code in shown.content.decode() for code in codes)
    # Shown once: the page does not show them again.
    again = client.get(RECOVERY + "?new=1").content.decode()
    assert not any(code in again for code in codes)
    assert "10 unused recovery codes" in again
    assert client.get("/admin/newsletters/subscriber/").status_code == 200


def test_a_returning_user_types_the_app_code_after_the_password(client, no_pause):
    user = person(permissions=["petitions.view_signature"])
    device = confirmed_totp_device(user)
    password_log_in(client, user)
    response = client.get("/admin/petitions/signature/")
    assert response.url == VERIFY + "?next=%2Fadmin%2Fpetitions%2Fsignature%2F"
    assert client.get(response.url).status_code == 200
    assert client.post(VERIFY, {"code": "123456"}).status_code == 400
    response = client.post(
        VERIFY, {"code": current_code(device), "next": "/admin/petitions/signature/"}
    )
    assert response.url == "/admin/petitions/signature/"
    assert client.get("/admin/petitions/signature/").status_code == 200


def test_each_recovery_code_works_once(client, no_pause):
    user = person(permissions=["petitions.view_signature"])
    confirmed_totp_device(user)
    first, second, *_ = recovery_codes_create(user=user)
    password_log_in(client, user)
    assert client.post(VERIFY, {"code": first.upper()}).url == "/admin/"
    assert client.get("/admin/").status_code == 200
    client.post("/admin/logout/")

    password_log_in(client, user)
    used_again = client.post(VERIFY, {"code": first})
    assert used_again.status_code == 400
    assert "already used" in used_again.content.decode()
    assert client.get("/admin/").status_code == 302
    assert client.post(VERIFY, {"code": second}).url == "/admin/"


def test_wrong_codes_pause_even_the_right_one(client):
    # Six digits are a million guesses: django-otp's doubling pause after each
    # wrong code is what makes guessing hopeless.
    user = person(permissions=["petitions.view_signature"])
    device = confirmed_totp_device(user)
    password_log_in(client, user)
    assert client.post(VERIFY, {"code": "000000"}).status_code == 400
    refused = client.post(VERIFY, {"code": current_code(device)})
    assert refused.status_code == 400
    assert "wait a little" in refused.content.decode()
    assert client.get("/admin/").status_code == 302


def test_after_the_code_a_link_elsewhere_leads_to_the_admin(client):
    user = person(permissions=["petitions.view_signature"])
    device = confirmed_totp_device(user)
    password_log_in(client, user)
    response = client.post(
        VERIFY, {"code": current_code(device), "next": "https://evil.example/"}
    )
    assert response.url == "/admin/"


@pytest.mark.parametrize("code", ["", "x" * 200, "１２３４５６", "' OR 1=1 --"])
def test_odd_codes_get_a_clear_answer_not_an_error(client, code):
    user = person(permissions=["petitions.view_signature"])
    confirmed_totp_device(user)
    password_log_in(client, user)
    response = client.post(VERIFY, {"code": code})
    assert response.status_code == 400
    assert 'class="errornote"' in response.content.decode()


def test_the_second_factor_pages_need_a_staff_log_in(client):
    for path in (VERIFY, ENROL, RECOVERY):
        response = client.get(path)
        assert response.status_code == 302
        assert response.url.startswith("/admin/login/?next=")


def test_an_operator_resets_a_lost_device_and_the_user_enrols_again(client, capsys):
    user = person(permissions=["petitions.view_signature"])
    confirmed_totp_device(user)
    recovery_codes_create(user=user)
    call_command("reset_second_factor", user.get_username())
    assert "Removed 2 second-factor device(s)" in capsys.readouterr().out
    password_log_in(client, user)
    assert client.get("/admin/").url.startswith(ENROL)
    with pytest.raises(CommandError, match="No user named"):
        call_command("reset_second_factor", "nobody@example.org")
