import pytest

from reports.models import Report
from tests.newsletters.factories import make_editor

from .factories import ReportFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(client):
    client.force_login(make_editor())
    return client


def report_form_data(**overrides):
    data = {
        "title_en": "Peru 2023",
        "slug": "peru-2023",
        "publisher_en": "Amnesty International",
        "year": "2023",
        "summary_en": "What the report found.",
        "full_text_url": "https://www.amnesty.org/en/location/americas/south-america/peru/report-peru/",
        "is_published": "on",
        "concerns-TOTAL_FORMS": "2",
        "concerns-INITIAL_FORMS": "0",
        "concerns-MIN_NUM_FORMS": "0",
        "concerns-MAX_NUM_FORMS": "1000",
        "concerns-0-text_en": "Excessive force against protesters.",
        "concerns-0-order": "1",
        "concerns-1-text_en": "No reparations for the oil spill.",
        "concerns-1-order": "2",
        "_save": "Save",
    }
    data.update(overrides)
    return data


def test_editor_adds_a_report_with_its_concerns_inline(editor_client):
    form = editor_client.get("/admin/reports/report/add/").content.decode()
    assert "concerns-TOTAL_FORMS" in form and "#id_slug" in form
    response = editor_client.post("/admin/reports/report/add/", report_form_data())
    assert response.status_code == 302
    report = Report.objects.get()
    assert [c.text for c in report.concerns.all()] == [
        "Excessive force against protesters.",
        "No reparations for the oil spill.",
    ]
    assert (
        "No reparations for the oil spill."
        in editor_client.get("/reports/peru-2023/").content.decode()
    )


def test_duplicate_report_slug_is_refused(editor_client):
    ReportFactory(slug="peru-2023")
    response = editor_client.post("/admin/reports/report/add/", report_form_data())
    assert response.status_code == 200
    assert "Report with this Slug already exists." in response.content.decode()
    assert Report.objects.count() == 1


def test_changelist_shows_and_filters_reports(editor_client):
    ReportFactory(title="Shown report", is_published=True)
    ReportFactory(title="Draft report", is_published=False)
    response = editor_client.get("/admin/reports/report/?is_published__exact=0")
    assert [r.title for r in response.context["cl"].result_list] == ["Draft report"]
    html = editor_client.get("/admin/reports/report/").content.decode()
    for column in [
        "column-title",
        "column-publisher",
        "column-year",
        "column-is_published",
    ]:
        assert column in html
