import datetime
import xml.etree.ElementTree as ET

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from newsletters.models import Entry
from tests.staff.helpers import pass_second_factor

from .factories import EntryFactory, StaffUserFactory, make_editor

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/newsletters/entry/"
ADD = "/admin/newsletters/entry/add/"


def entry_form_data(**overrides):
    local = timezone.localtime(overrides.pop("pub_date", timezone.now()))
    data = {
        "title_en": "UN expert warns about the forestry law",
        "slug": "un-expert-warns-about-the-forestry-law",
        "month": "2024-02-01",
        "summary_en": "A UN expert says the reform could dispossess Indigenous Peoples.",
        "body_en": "The reform was adopted **without consultation**.",
        "pub_date_0": local.strftime("%Y-%m-%d"),
        "pub_date_1": local.strftime("%H:%M:%S"),
        "sources-TOTAL_FORMS": "1",
        "sources-INITIAL_FORMS": "0",
        "sources-MIN_NUM_FORMS": "0",
        "sources-MAX_NUM_FORMS": "1000",
        "sources-0-title_en": "OHCHR",
        "sources-0-url": "https://www.ohchr.org/en/special-procedures/sr-indigenous-peoples",
        "sources-0-order": "0",
        "_save": "Save",
    }
    if overrides.pop("is_published", False):
        data["is_published"] = "on"
    data.update(overrides)
    return data


@pytest.fixture
def editor_client(client):
    client.force_login(make_editor())
    return client


def test_changelist_shows_title_month_state_and_date(editor_client):
    EntryFactory(title="Public one", month=datetime.date(2024, 2, 1))
    EntryFactory(title="Scheduled one", scheduled=True)
    EntryFactory(title="Draft one", draft=True)
    html = editor_client.get(CHANGELIST).content.decode()
    for text in [
        "Public one",
        "February 2024",
        "Scheduled one",
        "Draft one",
        "Public",
        "Scheduled",
        "Draft",
    ]:
        assert text in html, text
    for column in [
        "column-title",
        "column-month_covered",
        "column-state",
        "column-pub_date",
    ]:
        assert column in html, column


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("year=2023", {"December"}),
        ("year=2024", {"February", "June draft", "July scheduled"}),
        ("state=public", {"December", "February"}),
        ("state=scheduled", {"July scheduled"}),
        ("state=draft", {"June draft"}),
        ("year=2024&state=public", {"February"}),
        ("q=forestry", {"February"}),
    ],
)
def test_changelist_filters_by_year_and_state_and_searches(
    editor_client, query, expected
):
    EntryFactory(title="December", month=datetime.date(2023, 12, 1))
    EntryFactory(
        title="February", month=datetime.date(2024, 2, 1), body="The forestry law."
    )
    EntryFactory(title="June draft", month=datetime.date(2024, 6, 1), draft=True)
    EntryFactory(
        title="July scheduled", month=datetime.date(2024, 7, 1), scheduled=True
    )
    response = editor_client.get(f"{CHANGELIST}?{query}")
    assert response.status_code == 200
    shown = {entry.title for entry in response.context["cl"].result_list}
    assert shown == expected


def test_add_form_prefills_the_slug_and_explains_every_field(editor_client):
    html = editor_client.get(ADD).content.decode()
    assert "django-admin-prepopulated-fields-constants" in html
    assert "&quot;id&quot;: &quot;#id_slug&quot;" in html and "#id_title" in html
    for help_text in [
        "It is filled in from the title; it must be unique within the month the entry covers.",
        "Any day of the month will do: it is saved as the first day.",
        "Choose a time in the future to schedule it",
        "Leave it unticked to keep the entry as a draft that only staff can preview.",
        "Scripts, styles, embedded frames and unsafe links are removed when it is shown.",
    ]:
        assert help_text in html, help_text


def test_editor_adds_an_entry_with_its_sources(editor_client):
    response = editor_client.post(ADD, entry_form_data(month="2024-02-19"))
    assert response.status_code == 302, (
        response.context["adminform"].form.errors if response.context else ""
    )
    entry = Entry.objects.get()
    assert entry.month == datetime.date(2024, 2, 1)
    assert not entry.is_published
    assert [(s.title, s.url) for s in entry.sources.all()] == [
        ("OHCHR", "https://www.ohchr.org/en/special-procedures/sr-indigenous-peoples")
    ]


def test_duplicate_slug_in_a_month_is_refused_with_a_clear_message(editor_client):
    EntryFactory(
        slug="un-expert-warns-about-the-forestry-law", month=datetime.date(2024, 2, 1)
    )
    response = editor_client.post(ADD, entry_form_data(month="2024-02-27"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Another entry for this month already uses this slug." in html
    assert "errornote" in html
    assert Entry.objects.count() == 1
    # The same slug in another month is fine.
    assert (
        editor_client.post(ADD, entry_form_data(month="2024-03-01")).status_code == 302
    )
    assert Entry.objects.count() == 2


def test_two_editors_saving_one_slug_at_once_get_a_message_not_a_500(
    editor_client, monkeypatch
):
    # The other editor's entry lands between this form's check and its save.
    EntryFactory(
        slug="un-expert-warns-about-the-forestry-law", month=datetime.date(2024, 2, 1)
    )
    real_check = Entry.validate_constraints
    calls = []

    def check_that_misses_the_race_once(self, *args, **kwargs):
        calls.append(1)
        if len(calls) > 1:
            real_check(self, *args, **kwargs)

    monkeypatch.setattr(Entry, "validate_constraints", check_that_misses_the_race_once)
    response = editor_client.post(ADD, entry_form_data(title_en="Typed with care"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Another entry for this month already uses this slug." in html
    assert 'value="Typed with care"' in html
    assert Entry.objects.count() == 1


def test_change_form_links_to_the_preview(editor_client):
    entry = EntryFactory(draft=True)
    html = editor_client.get(f"{CHANGELIST}{entry.pk}/change/").content.decode()
    # One preview per language.
    assert f'href="/news/preview/{entry.pk}/"' in html
    assert f'href="/es/news/preview/{entry.pk}/"' in html
    assert "Preview in English (opens a new tab)" in html
    assert "Preview in Spanish (opens a new tab)" in html
    # Django's "View on site" button goes to the preview too, since drafts have
    # no public address.
    assert f'<a href="/news/preview/{entry.pk}/" class="viewsitelink">' in html


def test_publish_action_publishes_the_selected_entries(editor_client):
    drafts = EntryFactory.create_batch(2, draft=True)
    already = EntryFactory()
    response = editor_client.post(
        CHANGELIST,
        {
            "action": "publish_entries",
            "_selected_action": [e.pk for e in [*drafts, already]],
        },
        follow=True,
    )
    html = response.content.decode()
    assert "2 entries published." in html
    assert "1 entry was already public and was left as it was." in html
    assert Entry.objects.published().count() == 3


def test_unpublish_action_turns_entries_back_into_drafts(editor_client):
    entries = EntryFactory.create_batch(2)
    response = editor_client.post(
        CHANGELIST,
        {"action": "unpublish_entries", "_selected_action": [e.pk for e in entries]},
        follow=True,
    )
    assert "2 entries unpublished: they are now drafts." in response.content.decode()
    assert not Entry.objects.published().exists()


def test_staff_without_the_publish_permission_can_write_but_not_publish(client):
    writer = StaffUserFactory()
    writer.user_permissions.add(
        *Permission.objects.filter(
            codename__in=[
                "view_entry",
                "add_entry",
                "change_entry",
                "add_entrysource",
                "change_entrysource",
                "view_entrysource",
            ]
        )
    )
    client.force_login(writer)
    entry = EntryFactory(draft=True)
    changelist = client.get(CHANGELIST).content.decode()
    assert "publish_entries" not in changelist
    response = client.post(
        CHANGELIST, {"action": "publish_entries", "_selected_action": [entry.pk]}
    )
    entry.refresh_from_db()
    assert not entry.is_published
    form = client.get(f"{CHANGELIST}{entry.pk}/change/").context["adminform"].form
    assert "is_published" not in form.fields
    response = client.post(ADD, entry_form_data(is_published=True, slug="sneaky"))
    assert response.status_code == 302
    assert not Entry.objects.get(slug="sneaky").is_published


def test_editor_writes_previews_schedules_and_the_entry_goes_public_on_time(
    client, monkeypatch
):
    """The issue's "done when": every step an editor takes, through the admin."""
    editor = make_editor(username="editor@example.org")
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "editor@example.org", "password": "a-long-test-password"},
    )
    assert response.status_code == 302
    assert editor.groups.filter(name="Editors").exists()
    # Editors see the subscriber list, so they pass a second factor too
    # (tests/staff tests that step itself).
    pass_second_factor(client, editor)

    # Write a draft.
    assert client.post(ADD, entry_form_data(title_en="Forestry law")).status_code == 302
    entry = Entry.objects.get()

    # Preview it.
    preview = client.get(f"/news/preview/{entry.pk}/")
    assert preview.status_code == 200 and "no-store" in preview["Cache-Control"]
    assert "<h1>Forestry law</h1>" in preview.content.decode()

    # Schedule it for tomorrow.
    go_live = timezone.now() + datetime.timedelta(days=1)
    response = client.post(
        f"{CHANGELIST}{entry.pk}/change/",
        entry_form_data(
            title_en="Forestry law",
            is_published=True,
            pub_date=go_live,
            **{
                "sources-TOTAL_FORMS": "1",
                "sources-INITIAL_FORMS": "1",
                "sources-0-id": str(entry.sources.get().pk),
                "sources-0-entry": str(entry.pk),
            },
        ),
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.is_scheduled
    client.logout()

    def visible_everywhere():
        found = {
            "page": client.get(entry.get_absolute_url()).status_code == 200,
            "news": "Forestry law" in client.get("/news/").content.decode(),
            "home": "Forestry law" in client.get("/").content.decode(),
            "sitemap": entry.get_absolute_url()
            in client.get("/sitemap.xml").content.decode(),
        }
        rss = ET.fromstring(client.get("/news/feed/").content)
        found["rss"] = "Forestry law" in [i.findtext("title") for i in rss.iter("item")]
        atom = ET.fromstring(client.get("/news/feed/atom/").content)
        found["atom"] = "Forestry law" in [
            e.findtext("{http://www.w3.org/2005/Atom}title")
            for e in atom.iter("{http://www.w3.org/2005/Atom}entry")
        ]
        return found

    assert not any(visible_everywhere().values())

    # Its time comes.
    later = go_live + datetime.timedelta(minutes=5)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert all(visible_everywhere().values()), visible_everywhere()
