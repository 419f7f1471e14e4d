import pytest

from reports.models import Report
from tests.newsletters.factories import StaffUserFactory, make_editor

from .factories import ReportFactory

pytestmark = pytest.mark.django_db


def test_an_editor_can_publish_a_report(client):
    report = ReportFactory(slug="peru-2023", is_published=False)
    client.force_login(make_editor())
    change = client.get(f"/admin/reports/report/{report.pk}/change/")
    assert change.status_code == 200
    data = {
        "title_en": report.title,
        "slug": report.slug,
        "publisher_en": report.publisher,
        "year": report.year,
        "summary_en": report.summary,
        "full_text_url": report.full_text_url,
        "is_published": "on",
        "concerns-TOTAL_FORMS": "0",
        "concerns-INITIAL_FORMS": "0",
        "concerns-MIN_NUM_FORMS": "0",
        "concerns-MAX_NUM_FORMS": "1000",
    }
    assert (
        client.post(f"/admin/reports/report/{report.pk}/change/", data).status_code
        == 302
    )
    assert Report.objects.published().filter(pk=report.pk).exists()
    client.logout()
    assert client.get("/reports/peru-2023/").status_code == 200


def test_staff_outside_the_editors_group_cannot_change_reports(client):
    report = ReportFactory()
    client.force_login(StaffUserFactory())
    assert client.get(f"/admin/reports/report/{report.pk}/change/").status_code == 403


def test_anonymous_visitors_are_sent_to_log_in_for_the_report_admin(client):
    response = client.get("/admin/reports/report/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
