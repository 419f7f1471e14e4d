"""A supporter signs, confirms and withdraws, on a phone-sized screen, as a person would."""

import pytest
from playwright.sync_api import expect

from core.encryption import email_index
from petitions.models import Signature
from tests.e2e.steps import (
    PHONE,
    add_confirmed_signatures,
    confirmation_email,
    fill_sign_form,
    link_in_email,
    petition_url,
    sign,
    signature_count,
    submit_sign_form,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_supporter_signs_on_a_phone_confirms_by_email_and_is_counted(
    site, page, csp_violations
):
    add_confirmed_signatures(2)
    page.set_viewport_size(PHONE)
    assert signature_count(page, site) == 2
    # Straight from the home page, which carries the form too.
    page.goto(site + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Stand with the Victims of Repression in Peru"
    )
    fill_sign_form(page, full_name="Ana Quispe", email="ana@example.org")
    submit_sign_form(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")

    message = confirmation_email("ana@example.org")
    assert message.to == ["ana@example.org"]
    assert message.subject == (
        "Please confirm your signature: "
        "Truth, justice and redress for the victims of repression in Peru"
    )
    confirm_url = link_in_email(message, "confirm")
    # Opening the link (as a mail scanner would) confirms nothing by itself.
    page.goto(confirm_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your signature")
    assert (
        Signature.objects.get(email_normalised=email_index("ana@example.org")).status
        == "pending"
    )
    page.get_by_role("button", name="Confirm my signature").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Thank you for standing with the victims"
    )
    expect(page.get_by_text("You are supporter number 3.")).to_be_visible()
    expect(page.get_by_role("link", name="WhatsApp")).to_be_visible()
    assert signature_count(page, site) == 3
    assert csp_violations == []


def test_supporter_switches_to_spanish_and_signs_in_spanish(site, page):
    """The switcher keeps the page; the e-mail and every page after it speak
    the language the supporter signed in."""
    page.set_viewport_size(PHONE)
    page.goto(petition_url(site))
    page.get_by_role("link", name="Español").click()
    page.wait_for_url(petition_url(site, "/es"))
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Verdad, justicia y reparación para las víctimas de la represión en Perú"
    )
    fill_sign_form(page, full_name="Rosa Mamani", email="rosa@example.org")
    submit_sign_form(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Revisa tu correo")

    message = confirmation_email("rosa@example.org")
    assert message.subject.startswith("Confirma tu firma: ")
    assert "Hola, Rosa:" in message.body
    page.goto(link_in_email(message, "confirm"))
    assert "/es/petitions/confirm/" in page.url
    page.get_by_role("button", name="Confirmar mi firma").click()
    expect(page.get_by_text("Eres la persona número 1 en sumarse.")).to_be_visible()
    assert signature_count(page, site, "/es") == 1
    # And back to English on the same page.
    page.get_by_role("link", name="English").click()
    page.wait_for_url(petition_url(site))
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_supporter_sees_every_mistake_in_a_summary_that_leads_to_its_field(site, page):
    page.set_viewport_size(PHONE)
    # Jumps to a field happen at once (Bootstrap scrolls smoothly otherwise),
    # so the test need not wait for the page to settle after each link.
    page.emulate_media(reduced_motion="reduce")
    page.goto(petition_url(site))
    page.get_by_label("Full name").fill("=HYPERLINK()")
    page.get_by_label("E-mail address").fill("ana-at-example")
    submit_sign_form(page)

    # Each message beside its field, and tied to it for screen readers.
    problems = {
        "id_full_name": "Your name cannot start with =, +, - or @.",
        "id_email": "Enter an e-mail address like name@example.org.",
        "id_country": "Choose your country from the list.",
        "id_consent": "Tick this box so we can count your signature.",
    }
    for field_id, message in problems.items():
        field = page.locator(f"#{field_id}")
        expect(field).to_have_attribute("aria-invalid", "true")
        error = page.locator(f"#div_{field_id} #{field_id}_error")
        expect(error).to_have_text(message)
        expect(error).to_be_visible()
        assert f"{field_id}_error" in field.get_attribute("aria-describedby").split()

    # Focus starts on the summary at the top of the form, which lists them all.
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_have_accessible_name("There is a problem")
    assert page.evaluate(
        "document.querySelector('.sign-form > :not([type=hidden])')"
        " === document.activeElement"
    )
    expect(summary.get_by_role("link")).to_have_text(list(problems.values()))
    # Each link takes the supporter to the field to put right, its label in view.
    for field_id, message in problems.items():
        summary.get_by_role("link", name=message).click()
        expect(page.locator(f"#{field_id}")).to_be_focused()
        label = page.locator(f"label[for={field_id}]").bounding_box()
        assert 0 <= label["y"] and label["y"] + label["height"] <= PHONE["height"]
    assert Signature.objects.count() == 0

    # What was typed is kept; once corrected, the signature goes through.
    expect(page.get_by_label("Full name")).to_have_value("=HYPERLINK()")
    fill_sign_form(page, full_name="Ana Quispe", email="ana@example.org")
    submit_sign_form(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    assert Signature.objects.get().full_name == "Ana Quispe"


def test_supporter_withdraws_with_the_link_in_the_email(site, page):
    add_confirmed_signatures(2)
    page.set_viewport_size(PHONE)
    sign(page, site, email="ana@example.org")
    message = confirmation_email("ana@example.org")
    page.goto(link_in_email(message, "confirm"))
    page.get_by_role("button", name="Confirm my signature").click()
    expect(page.get_by_text("You are supporter number 3.")).to_be_visible()
    assert signature_count(page, site) == 3

    # Later, the same e-mail's other link. Opening it withdraws nothing yet.
    ana = Signature.objects.get(email_normalised=email_index("ana@example.org"))
    page.goto(link_in_email(message, "withdraw"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Withdraw your signature")
    ana.refresh_from_db()
    assert ana.status == "confirmed"
    page.get_by_role("button", name="Withdraw my signature").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Your signature has been withdrawn"
    )
    assert signature_count(page, site) == 2
    ana.refresh_from_db()
    assert (ana.status, ana.email, ana.full_name) == ("withdrawn", "", "")


def test_signing_confirming_and_withdrawing_need_no_javascript(site, browser):
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    try:
        sign(page, site, email="ana@example.org")
        message = confirmation_email("ana@example.org")
        page.goto(link_in_email(message, "confirm"))
        page.get_by_role("button", name="Confirm my signature").click()
        expect(page.get_by_text("You are supporter number 1.")).to_be_visible()
        assert signature_count(page, site) == 1
        page.goto(link_in_email(message, "withdraw"))
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Withdraw your signature"
        )
        page.get_by_role("button", name="Withdraw my signature").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Your signature has been withdrawn"
        )
        assert signature_count(page, site) == 0
        # Scripts really were off.
        page.set_content("<title>before</title><script>document.title='ran'</script>")
        assert page.title() == "before"
    finally:
        context.close()


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


def test_a_browser_that_prefers_spanish_is_offered_the_spanish_page(site, browser):
    from axe_playwright_python.sync_playwright import Axe

    spanish = browser.new_context(locale="es-PE", viewport=PHONE)
    page = spanish.new_page()
    page.goto(petition_url(site))
    hint = page.get_by_role("link", name="Esta página también está en español.")
    expect(hint).to_be_visible()
    results = Axe().run(
        page, options={"runOnly": {"type": "tag", "values": ["wcag2aa"]}}
    )
    assert results.response["violations"] == []
    hint.click()
    page.wait_for_url(petition_url(site, "/es"))
    # Already in Spanish: no hint.
    expect(page.locator(".language-hint")).to_have_count(0)
    spanish.close()

    english = browser.new_context(locale="en-GB")
    page = english.new_page()
    page.goto(petition_url(site))
    expect(page.locator(".language-hint")).to_be_hidden()
    english.close()
