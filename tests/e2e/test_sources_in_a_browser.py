"""The campaign label of the link a supporter followed reaches their signature."""

import pytest
from playwright.sync_api import expect

from core.encryption import email_index
from petitions.models import Signature
from tests.e2e.steps import fill_sign_form, petition_url, submit_sign_form

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_source_in_the_address_is_recorded_with_script(site, page, csp_violations):
    page.goto(petition_url(site) + "?utm_source=Newsletter-July&utm_medium=email")
    expect(page.locator('form.sign-form input[name="source"]')).to_have_value(
        "Newsletter-July"
    )
    fill_sign_form(page, full_name="Ana Quispe", email="ana@example.org")
    submit_sign_form(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    assert (
        Signature.objects.get(email_normalised=email_index("ana@example.org")).source
        == "newsletter-july"
    )
    assert csp_violations == []


def test_without_script_the_referer_carries_the_source(site, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(petition_url(site) + "?source=partner.radio")
    expect(page.locator('form.sign-form input[name="source"]')).to_have_value("")
    fill_sign_form(page, full_name="Luis Mamani", email="luis@example.org")
    submit_sign_form(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    assert (
        Signature.objects.get(email_normalised=email_index("luis@example.org")).source
        == "partner.radio"
    )
    context.close()
