import pytest

from reports.models import Report

from .factories import ReportConcernFactory, ReportFactory

pytestmark = pytest.mark.django_db


def test_published_excludes_reports_that_are_switched_off():
    public = ReportFactory()
    ReportFactory(is_published=False)
    assert list(Report.objects.published()) == [public]


def test_newest_report_comes_first():
    ReportFactory(year=2022)
    newest = ReportFactory(year=2023)
    assert Report.objects.published().first() == newest


def test_concerns_keep_the_editors_order():
    report = ReportFactory()
    third = ReportConcernFactory(report=report, order=3)
    first = ReportConcernFactory(report=report, order=1)
    second = ReportConcernFactory(report=report, order=2)
    assert list(report.concerns.all()) == [first, second, third]


def test_absolute_url_uses_the_slug():
    assert ReportFactory(slug="peru-2023").get_absolute_url() == "/reports/peru-2023/"
