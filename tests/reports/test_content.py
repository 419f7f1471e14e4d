import pytest
from django.core.management import call_command

from reports.models import Report, ReportConcern

pytestmark = pytest.mark.django_db

SLUG = "amnesty-international-peru-2023"


def test_loader_creates_amnestys_2023_report_with_its_eight_concerns(
    client, campaign_content
):
    report = Report.objects.published().get(slug=SLUG)
    assert report.publisher == "Amnesty International" and report.year == 2023
    assert (
        report.full_text_url
        == "https://www.amnesty.org/en/location/americas/south-america/peru/report-peru/"
    )
    concerns = [c.text for c in report.concerns.all()]
    assert len(concerns) == 8
    for concern, words in zip(
        concerns,
        [
            ("excessive force", "Indigenous"),
            ("La Pampilla", "oil spill", "reparations"),
            ("Human rights defenders",),
            ("Sexual and gender-based violence",),
            ("children", "abortion"),
            ("Gender equality",),
            ("LGBTI", "violence", "discriminatory laws"),
            ("Venezuelans", "protection"),
        ],
        strict=True,
    ):
        for word in words:
            assert word in concern, (word, concern)
    html = client.get(report.get_absolute_url()).content.decode()
    assert html.count("<li>") >= 8 and "La Pampilla" in html
    assert report.title in client.get("/").content.decode()


def test_loader_is_idempotent_and_keeps_editors_changes(campaign_content):
    report = Report.objects.get(slug=SLUG)
    report.summary = "Edited by an editor."
    report.save()
    report.concerns.first().delete()
    call_command("load_campaign_content", verbosity=0, stdout=open("/dev/null", "w"))
    report.refresh_from_db()
    assert report.summary == "Edited by an editor."
    assert ReportConcern.objects.count() == 7
    assert Report.objects.count() == 1
