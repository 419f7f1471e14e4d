"""Staff set up and use their second factor in a real browser: an app's code,
a passkey (Chromium's virtual authenticator), recovery codes.

Screenshots of the enrol, recovery-code and verify pages go to screenshots/
(git-ignored) at a phone's and a desktop's width, for people to look at.
"""

from pathlib import Path

import pytest
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential
from playwright.sync_api import expect

from tests.e2e.steps import DESKTOP, PHONE
from tests.newsletters.factories import StaffUserFactory
from tests.staff.helpers import confirmed_totp_device, current_code

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
PASSWORD = "a-long-test-password"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


def superuser(username="admin@example.org"):
    return StaffUserFactory(username=username, is_superuser=True)


def password_log_in(page, site, username):
    page.goto(site + "/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def screenshots(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    for viewport in (PHONE, DESKTOP):
        page.set_viewport_size(viewport)
        page.screenshot(
            path=SCREENSHOTS / f"{name}-{viewport['width']}.png", full_page=True
        )
    page.set_viewport_size(DESKTOP)


def test_first_log_in_sets_up_an_app_and_saves_recovery_codes(
    site, page, csp_violations, settings
):
    # A person waits out the pause after a wrong code; the test need not.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    user = superuser()
    password_log_in(page, site, user.username)
    expect(page.get_by_role("heading", name="Set up a second factor")).to_be_visible()
    expect(page.locator(".second-factor-qr svg")).to_be_visible()
    # No admin menu until the second factor is passed.
    expect(page.locator("#nav-sidebar")).to_have_count(0)
    screenshots(page, "staff-enrol")

    page.get_by_label("Six-digit code from the app").fill("000000")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("alert")).to_contain_text("That code is not right")
    screenshots(page, "staff-enrol-error")

    device = TOTPDevice.objects.get(user=user)
    page.get_by_label("Six-digit code from the app").fill(current_code(device))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("shown only this once")).to_be_visible()
    codes = StaticToken.objects.filter(device__user=user)
    assert codes.count() == 10
    for code in codes.values_list("token", flat=True):
        expect(page.get_by_text(code, exact=True)).to_be_visible()
    screenshots(page, "staff-recovery-codes")

    page.get_by_role("link", name="I have saved them: continue").click()
    expect(page.get_by_role("heading", name="Campaign administration")).to_be_visible()
    assert csp_violations == []


def test_a_recovery_code_lets_a_returning_user_in(site, page, csp_violations):
    user = superuser()
    confirmed_totp_device(user)
    code = StaticToken.objects.create(
        device=user.staticdevice_set.create(name="Recovery codes"), token="abcd2345"
    ).token
    password_log_in(page, site, user.username)
    expect(page.get_by_role("heading", name="Second factor")).to_be_visible()
    screenshots(page, "staff-verify")
    page.get_by_label("Code from your authenticator app").fill(code)
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Campaign administration")).to_be_visible()
    assert not StaticToken.objects.filter(token=code).exists()
    assert csp_violations == []


@pytest.fixture
def authenticator(page, settings, site):
    """Chromium's virtual authenticator (a passkey that needs no person), and
    the passkey settings for the live server's own origin."""
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [site]
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return cdp


def test_a_passkey_is_registered_at_first_log_in_and_used_the_next_time(
    site, page, authenticator, csp_violations
):
    user = superuser()
    password_log_in(page, site, user.username)
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_text("shown only this once")).to_be_visible()
    assert WebAuthnCredential.objects.filter(user=user, confirmed=True).count() == 1
    page.get_by_role("link", name="I have saved them: continue").click()
    expect(page.get_by_role("heading", name="Campaign administration")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    password_log_in(page, site, user.username)
    expect(page.get_by_role("heading", name="Second factor")).to_be_visible()
    page.get_by_role("button", name="Verify with a passkey").click()
    expect(page.get_by_role("heading", name="Campaign administration")).to_be_visible()
    assert csp_violations == []
