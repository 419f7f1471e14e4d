"""Staff at work in a real browser: an editor publishes, an organiser exports."""

import csv
import datetime
import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from newsletters.models import Entry
from petitions import services
from petitions.models import Petition
from tests.newsletters.factories import StaffUserFactory
from tests.petitions.factories import SignatureFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
PASSWORD = "a-long-test-password"


@pytest.fixture
def site(live_server, settings):
    settings.SITE_URL = live_server.url
    call_command("load_campaign_content", verbosity=0)
    return live_server.url


def log_in(page, site, username):
    page.goto(site + "/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_editor_writes_previews_and_publishes_an_entry(site, page, csp_violations):
    editor = StaffUserFactory(username="editor@example.org")
    editor.groups.add(Group.objects.get(name="Editors"))
    log_in(page, site, "editor@example.org")
    page.goto(site + "/admin/newsletters/entry/add/")
    page.get_by_label("Title").press_sequentially("Families march in Lima")
    expect(page.get_by_label("Slug")).to_have_value("families-march-in-lima")
    page.locator("#id_month").fill("2024-08-01")
    page.get_by_label("Summary").fill(
        "Relatives of the victims walked to the Congress."
    )
    page.get_by_label("Body").fill(
        "They asked for **justice**.<script>alert(1)</script>"
    )
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")

    entry = Entry.objects.get(slug="families-march-in-lima")
    preview = page.context.new_page()
    preview.goto(f"{site}/news/preview/{entry.pk}/")
    expect(preview.get_by_role("heading", level=1)).to_have_text(
        "Families march in Lima"
    )
    expect(preview.locator("strong", has_text="justice")).to_be_visible()
    assert "<script>alert" not in preview.content()

    # Not public yet, then published by the action.
    anonymous = page.context.browser.new_page()
    anonymous.goto(site + "/news/")
    expect(anonymous.get_by_text("Families march in Lima")).to_have_count(0)
    page.goto(site + "/admin/newsletters/entry/")
    page.get_by_role("row", name="Families march in Lima").get_by_role(
        "checkbox"
    ).check()
    page.get_by_role("combobox", name="Action").select_option(
        label="Publish the selected entries now"
    )
    page.get_by_role("button", name="Go").click()
    anonymous.goto(site + "/news/")
    expect(anonymous.get_by_role("link", name="Families march in Lima")).to_be_visible()
    assert csp_violations == []


def test_organiser_opens_the_dashboard_and_downloads_counts(site, page):
    petition = Petition.objects.get(slug="justice-for-peru")
    for country in ["PE", "PE", "GB"]:
        signature = SignatureFactory(petition=petition, country=country)
        services.signature_confirm(signature_id=signature.pk, now=timezone.now())
    organiser = StaffUserFactory(username="organiser@example.org")
    organiser.groups.add(Group.objects.get(name="Organisers"))
    log_in(page, site, "organiser@example.org")
    page.get_by_role("link", name="Campaign dashboard").first.click()
    expect(page.get_by_role("heading", name="Campaign dashboard")).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Counts by country").first.click()
    download = download_info.value
    assert download.suggested_filename.startswith("justice-for-peru")
    rows = list(
        csv.reader(io.StringIO(open(download.path(), encoding="utf-8-sig").read()))
    )
    assert {row[0]: row[-1] for row in rows[1:]} == {"PE": "2", "GB": "1"}
    # No e-mail export for an organiser without the extra permission.
    expect(
        page.get_by_role("link", name="Delivery list with e-mail addresses")
    ).to_have_count(0)
    assert datetime.date.today().isoformat() in download.suggested_filename
