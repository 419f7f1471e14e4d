"""Who may do what: the Editors group, staff without it, and the public."""

import datetime

import pytest
from django.apps import apps
from django.contrib.auth.models import Group

from newsletters.models import Entry
from reports.models import Report

from .factories import EntryFactory, StaffUserFactory, make_editor

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(client):
    client.force_login(make_editor())
    return client


def test_editors_group_has_exactly_the_content_permissions():
    permissions = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Group.objects.get(name="Editors").permissions.select_related(
            "content_type"
        )
    }
    assert permissions == {
        *(
            f"newsletters.{a}_entry"
            for a in ("add", "change", "delete", "view", "publish")
        ),
        *(f"newsletters.{a}_entrysource" for a in ("add", "change", "delete", "view")),
        *(f"reports.{a}_report" for a in ("add", "change", "delete", "view")),
        *(f"reports.{a}_reportconcern" for a in ("add", "change", "delete", "view")),
        "pages.change_page",
        "pages.view_page",
        *(f"pages.{a}_timelineevent" for a in ("add", "change", "delete", "view")),
        # Issues of the newsletter: prepare and send; counts of the list only.
        *(
            f"newsletters.{a}_issue"
            for a in ("add", "change", "delete", "view", "send")
        ),
        "newsletters.view_delivery",
        "newsletters.view_subscriber",
    }
    assert not any(p.startswith(("auth.", "petitions.", "axes.")) for p in permissions)


def test_an_editor_can_publish_an_entry(editor_client):
    entry = EntryFactory(draft=True, title="Ready to go")
    response = editor_client.post(
        "/admin/newsletters/entry/",
        {"action": "publish_entries", "_selected_action": [entry.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert list(Entry.objects.published()) == [entry]
    assert "Ready to go" in editor_client.get("/news/").content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/admin/newsletters/entry/",
        "/admin/newsletters/entry/add/",
        "/admin/reports/report/",
        "/admin/reports/report/add/",
        "/admin/pages/page/",
    ],
)
def test_an_editor_can_reach_the_content_admin(editor_client, path):
    assert editor_client.get(path).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/admin/auth/user/",
        "/admin/auth/user/add/",
        "/admin/auth/group/",
        "/admin/pages/page/add/",
    ],
)
def test_an_editor_is_refused_everything_else(editor_client, path):
    assert editor_client.get(path).status_code == 403


@pytest.mark.skipif(
    not apps.is_installed("petitions"),
    reason="The petitions app is not installed on this branch yet.",
)
@pytest.mark.parametrize(
    "path", ["/admin/petitions/signature/", "/admin/petitions/signature/add/"]
)
def test_an_editor_gets_403_on_signature_data(editor_client, path):
    assert editor_client.get(path).status_code == 403


def test_staff_outside_the_editors_group_cannot_touch_entries(client):
    client.force_login(StaffUserFactory())
    assert client.get("/admin/newsletters/entry/").status_code == 403
    assert client.get("/admin/reports/report/").status_code == 403


def test_an_anonymous_visitor_sees_only_published_entries_and_reports(client):
    EntryFactory(title="Public entry", slug="public", month=datetime.date(2024, 6, 1))
    draft = EntryFactory(
        title="Draft entry", slug="draft", month=datetime.date(2024, 6, 1), draft=True
    )
    scheduled = EntryFactory(
        title="Scheduled entry",
        slug="later",
        month=datetime.date(2024, 6, 1),
        scheduled=True,
    )
    Report.objects.create(
        title="Draft report", slug="draft-report", publisher="Amnesty International",
        year=2024, summary="Not yet.", full_text_url="https://www.amnesty.org/",
    )  # fmt: skip
    html = client.get("/news/").content.decode()
    assert "Public entry" in html
    assert "Draft entry" not in html and "Scheduled entry" not in html
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert client.get(scheduled.get_absolute_url()).status_code == 404
    assert client.get("/reports/draft-report/").status_code == 404
    assert "Draft report" not in client.get("/reports/").content.decode()
    assert client.get("/admin/newsletters/entry/").status_code == 302
