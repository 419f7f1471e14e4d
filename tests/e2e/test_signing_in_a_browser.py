"""A supporter signs on a phone-sized screen, as a person would."""

import re

import pytest
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import expect

from petitions.models import Signature
from petitions.tasks import send_signature_email

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def site(live_server, settings):
    settings.SITE_URL = live_server.url
    call_command("load_campaign_content", verbosity=0)
    return live_server.url


def test_supporter_corrects_mistakes_signs_confirms_and_is_thanked(
    site, page, csp_violations
):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(site + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Stand with the Victims of Repression in Peru"
    )
    # A first attempt with mistakes: every problem is explained next to its field.
    page.get_by_label("Full name").fill("=HYPERLINK()")
    page.get_by_label("E-mail address").fill("ana-at-example")
    page.get_by_role("button", name="Sign the petition").last.click()
    expect(page.get_by_text("Your name cannot start with =")).to_be_visible()
    expect(page.get_by_text("Enter an e-mail address like")).to_be_visible()
    expect(page.get_by_text("Choose your country from the list.")).to_be_visible()
    expect(page.get_by_text("Tick this box")).to_be_visible()
    assert Signature.objects.count() == 0
    # Corrected.
    page.get_by_label("Full name").fill("Ana Quispe")
    page.get_by_label("E-mail address").fill("ana@example.org")
    page.get_by_label("Country", exact=True).select_option("PE")
    page.get_by_label("I agree that the campaign keeps my signature").check()
    page.get_by_role("button", name="Sign the petition").last.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")

    signature = Signature.objects.get()
    send_signature_email.call(signature_id=signature.pk, kind="confirm")
    confirm_url = re.search(
        r"http://\S+/petitions/confirm/\?t=\S+", mail.outbox[0].body
    )
    page.goto(confirm_url.group(0))
    page.get_by_role("button", name="Confirm my signature").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Thank you for standing with the victims"
    )
    expect(page.get_by_text("You are supporter number 1.")).to_be_visible()
    expect(page.get_by_role("link", name="WhatsApp")).to_be_visible()
    page.goto(site + "/petitions/justice-for-peru/")
    expect(page.locator(".count-number")).to_have_text("1")
    assert csp_violations == []


def test_keyboard_user_reaches_the_skip_link_first(site, page):
    page.goto(site + "/what-happened/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused.strip() == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_pages_fit_a_320_pixel_screen_without_sideways_scrolling(site, page):
    page.set_viewport_size({"width": 320, "height": 640})
    for path in [
        "/",
        "/what-happened/",
        "/news/",
        "/reports/",
        "/privacy/",
        "/petitions/justice-for-peru/",
    ]:
        page.goto(site + path)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, path
