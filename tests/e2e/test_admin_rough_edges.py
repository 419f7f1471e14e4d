"""The admin pages staff meet first fit a 1280 px screen and explain themselves."""

from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from organising.models import SignatureExport
from petitions.models import Petition
from tests.e2e.steps import DESKTOP, PETITION_SLUG
from tests.e2e.test_staff_in_a_browser import log_in, make_organiser
from tests.newsletters.factories import StaffUserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


def no_sideways_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_news_form_fits_1280_pixels_and_says_how_to_preview(site, page):
    editor = StaffUserFactory(username="editor@example.org")
    editor.groups.add(Group.objects.get(name="Editors"))
    page.set_viewport_size(DESKTOP)
    log_in(page, site, "editor@example.org")
    page.goto(site + "/admin/newsletters/entry/add/")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "ux-admin-entry-add-1280.png", full_page=True)
    assert no_sideways_scroll(page)
    expect(page.get_by_text("Save and continue editing")).not_to_have_count(0)
    expect(page.locator(".field-pub_date .help").first).to_contain_text("America/Lima")


def test_the_export_record_list_is_not_clipped(site, page):
    make_organiser("organiser@example.org")
    petition = Petition.objects.get(slug=PETITION_SLUG)
    for kind in SignatureExport.Kind.values:
        SignatureExport.objects.create(
            petition=petition,
            kind=kind,
            requested_by="a-rather-long-organiser-address@example.org",
            row_count=12345,
            finished=True,
        )
    page.set_viewport_size(DESKTOP)
    log_in(page, site, "organiser@example.org")
    page.goto(site + "/admin/organising/signatureexport/")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "ux-admin-exports-1280.png", full_page=True)
    assert no_sideways_scroll(page)
    # Every column of every row shows inside the list, not cut off at its edge.
    results = page.locator("#changelist .results").bounding_box()
    cells = page.locator("#result_list td, #result_list th").all()
    assert cells
    for cell in cells:
        box = cell.bounding_box()
        assert box["x"] + box["width"] <= results["x"] + results["width"] + 0.5, (
            cell.inner_text()
        )


def test_an_organiser_opening_the_news_admin_gets_a_helpful_page(site, page):
    make_organiser("organiser@example.org")
    log_in(page, site, "organiser@example.org")
    response = page.goto(site + "/admin/newsletters/entry/")
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Back to the admin home page")).to_be_visible()
