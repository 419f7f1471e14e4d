import re

import pytest

from .factories import ReportConcernFactory, ReportFactory

pytestmark = pytest.mark.django_db


def test_reports_page_lists_published_reports_newest_first(client):
    ReportFactory(title="Older report", year=2022)
    ReportFactory(title="Newer report", year=2023)
    ReportFactory(title="Hidden report", is_published=False)
    response = client.get("/reports/")
    html = response.content.decode()
    assert response.status_code == 200 and html.count("<h1") == 1
    assert html.index("Newer report") < html.index("Older report")
    assert "Hidden report" not in html


def test_report_page_shows_concerns_as_an_ordered_list_and_links_the_full_text(client):
    report = ReportFactory(
        title="Peru 2023", slug="peru-2023", summary="The **findings**."
    )
    ReportConcernFactory(report=report, text="Second concern.", order=2)
    ReportConcernFactory(report=report, text="First concern.", order=1)
    response = client.get("/reports/peru-2023/")
    html = response.content.decode()
    assert response.status_code == 200 and html.count("<h1") == 1
    assert "<strong>findings</strong>" in html
    items = re.search(r'<ol class="report-concerns">(.*?)</ol>', html, re.S).group(1)
    assert re.findall(r"<li>(.*?)</li>", items) == ["First concern.", "Second concern."]
    assert f'href="{report.full_text_url}"' in html


def test_unpublished_report_is_404(client):
    ReportFactory(slug="draft", is_published=False)
    assert client.get("/reports/draft/").status_code == 404


def test_report_summary_is_sanitised(client):
    ReportFactory(
        slug="hostile",
        summary="<script>alert(1)</script>[x](javascript:alert(1)) <img src=x onerror=alert(1)>",
    )
    html = client.get("/reports/hostile/").content.decode()
    article = html[html.index("<article") : html.index("</article>")]
    assert (
        "<script" not in article
        and "javascript:" not in article
        and "onerror" not in article
    )


def test_home_page_shows_the_newest_published_report(client):
    ReportFactory(title="Older report", year=2022)
    newest = ReportFactory(title="Newest report", year=2023)
    ReportFactory(title="Unpublished report", year=2024, is_published=False)
    html = client.get("/").content.decode()
    assert "Latest report" in html
    assert "Newest report" in html and newest.get_absolute_url() in html
    assert "Older report" not in html and "Unpublished report" not in html


def test_home_page_has_no_report_panel_without_reports(client):
    assert "Latest report" not in client.get("/").content.decode()


def test_sitemap_lists_published_reports_only(client):
    ReportFactory(slug="public-report")
    ReportFactory(slug="hidden-report", is_published=False)
    xml = client.get("/sitemap.xml").content.decode()
    assert "/reports/public-report/" in xml and "/reports/" in xml
    assert "/reports/hidden-report/" not in xml
