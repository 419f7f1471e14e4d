"""Staff at work in a real browser: an editor publishes, an organiser exports."""

import csv
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from playwright.sync_api import expect

from newsletters.models import Entry
from staff.selectors import user_needs_second_factor
from tests.e2e.steps import add_confirmed_signatures
from tests.newsletters.factories import StaffUserFactory
from tests.staff.helpers import confirmed_totp_device, current_code

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
PASSWORD = "a-long-test-password"
DOWNLOADS = [
    "Counts by day",
    "Counts by country",
    "Counts by source",
    "Delivery list",
    "Delivery pack (PDF)",
]
EMAIL_DOWNLOAD = "Delivery list with e-mail addresses"


def log_in(page, site, username):
    """Password, then the app's code for staff who can see personal data."""
    user = get_user_model().objects.get(username=username)
    device = (
        confirmed_totp_device(user) if user_needs_second_factor(user=user) else None
    )
    page.goto(site + "/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    if device is not None:
        expect(page).to_have_url(re.compile(r"/admin/second-factor/\?"))
        page.get_by_label("Code from your authenticator app").fill(current_code(device))
        page.get_by_role("button", name="Verify").click()


def make_organiser(username, *, may_export_emails=False):
    organiser = StaffUserFactory(username=username)
    organiser.groups.add(Group.objects.get(name="Organisers"))
    if may_export_emails:
        organiser.user_permissions.add(Permission.objects.get(codename="export_emails"))
    return organiser


def download_csv(page, link_name):
    """Click a download's button; the file's name and its rows, header first.

    Strict parsing and equal row lengths make a malformed file fail here.
    """
    with page.expect_download() as download_info:
        page.get_by_role("button", name=link_name, exact=True).click()
    download = download_info.value
    data = open(download.path(), "rb").read()
    assert data.startswith("\ufeff".encode()), "no byte-order mark for Excel"
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), strict=True))
    assert len({len(row) for row in rows}) == 1, rows
    return download.suggested_filename, rows


def test_editor_writes_previews_and_publishes_an_entry(site, page, csp_violations):
    editor = StaffUserFactory(username="editor@example.org")
    editor.groups.add(Group.objects.get(name="Editors"))
    log_in(page, site, "editor@example.org")
    page.goto(site + "/admin/newsletters/entry/add/")
    # Each text in English and in Spanish, side by side.
    page.get_by_label("Title [en]").press_sequentially("Families march in Lima")
    expect(page.get_by_label("Slug")).to_have_value("families-march-in-lima")
    page.get_by_label("Title [es]").fill("Las familias marchan en Lima")
    page.locator("#id_month").fill("2024-08-01")
    page.get_by_label("Summary [en]").fill(
        "Relatives of the victims walked to the Congress."
    )
    page.get_by_label("Summary [es]").fill(
        "Familiares de las víctimas caminaron hasta el Congreso."
    )
    page.get_by_label("Body [en]").fill(
        "They asked for **justice**.<script>alert(1)</script>"
    )
    page.get_by_label("Body [es]").fill("Pidieron **justicia**.")
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
    preview.goto(f"{site}/es/news/preview/{entry.pk}/")
    expect(preview.get_by_role("heading", level=1)).to_have_text(
        "Las familias marchan en Lima"
    )
    expect(preview.locator("strong", has_text="justicia")).to_be_visible()

    # Not public yet, then published by the action.
    anonymous = page.context.browser.new_page()
    anonymous.goto(site + "/news/")
    expect(anonymous.get_by_text("Families march in Lima")).to_have_count(0)
    assert (
        "Families march in Lima"
        not in anonymous.request.get(site + "/news/feed/").text()
    )
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
    # And in the feeds that readers subscribe to.
    for feed in ["/news/feed/", "/news/feed/atom/"]:
        response = anonymous.request.get(site + feed)
        assert response.ok
        assert "xml" in response.headers["content-type"]
        assert "<title>Families march in Lima</title>" in response.text()
        assert entry.get_absolute_url() in response.text()
    anonymous.goto(site + "/es/news/")
    expect(
        anonymous.get_by_role("link", name="Las familias marchan en Lima")
    ).to_be_visible()
    spanish_feed = anonymous.request.get(site + "/es/news/feed/").text()
    assert "<title>Las familias marchan en Lima</title>" in spanish_feed
    assert csp_violations == []


def test_organiser_downloads_every_csv_the_dashboard_offers(site, page):
    for country, name, postcode in [
        ("PE", "Ana Quispe", ""),
        ("PE", "Rosa Huamán", ""),
        ("GB", "Tom Smith", "SW1A 1AA"),
    ]:
        add_confirmed_signatures(1, country=country, full_name=name, postcode=postcode)
    today = timezone.localdate().isoformat()
    make_organiser("organiser@example.org")
    log_in(page, site, "organiser@example.org")
    page.get_by_role("link", name="Campaign dashboard").first.click()
    expect(page.get_by_role("heading", name="Campaign dashboard")).to_be_visible()
    offered = page.locator(".dashboard-downloads").get_by_role("button")
    # No e-mail export for an organiser without the extra permission.
    expect(offered).to_have_text(DOWNLOADS)

    filename, rows = download_csv(page, "Counts by day")
    assert filename == f"justice-for-peru-by-day-{today}.csv"
    assert rows == [["Date", "Confirmed signatures"], [today, "3"]]

    filename, rows = download_csv(page, "Counts by country")
    assert filename == f"justice-for-peru-by-country-{today}.csv"
    assert rows == [
        ["Country code", "Country", "Confirmed signatures"],
        ["PE", "Peru", "2"],
        ["GB", "United Kingdom", "1"],
    ]

    filename, rows = download_csv(page, "Delivery list")
    assert filename == f"justice-for-peru-delivery-{today}.csv"
    assert rows == [
        ["Full name", "Country", "Postcode", "Confirmed on"],
        ["Ana Quispe", "Peru", "", today],
        ["Rosa Huamán", "Peru", "", today],
        ["Tom Smith", "United Kingdom", "SW1A 1AA", today],
    ]
    # Nor may the organiser post for it by hand, with a valid CSRF token.
    token = page.locator("input[name=csrfmiddlewaretoken]").first.input_value()
    response = page.request.post(
        site + "/admin/petitions/petition/dashboard/justice-for-peru/delivery.csv",
        form={"emails": "1", "csrfmiddlewaretoken": token},
    )
    assert response.status == 403
    assert "CSRF" not in response.text()


def test_only_a_user_given_the_extra_permission_downloads_email_addresses(site, page):
    add_confirmed_signatures(1, full_name="Ana Quispe", email="ana@example.org")
    make_organiser("delivery@example.org", may_export_emails=True)
    log_in(page, site, "delivery@example.org")
    page.goto(site + "/admin/petitions/petition/dashboard/")
    offered = page.locator(".dashboard-downloads").get_by_role("button")
    # The e-mail list comes right after the delivery list it extends.
    expect(offered).to_have_text([*DOWNLOADS[:4], EMAIL_DOWNLOAD, DOWNLOADS[4]])

    filename, rows = download_csv(page, EMAIL_DOWNLOAD)
    today = timezone.localdate().isoformat()
    assert filename == f"justice-for-peru-delivery-with-emails-{today}.csv"
    assert rows == [
        ["Full name", "Country", "Postcode", "Confirmed on", "E-mail"],
        ["Ana Quispe", "Peru", "", today, "ana@example.org"],
    ]
