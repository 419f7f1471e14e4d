"""Load reports and their key concerns from content/reports/*.toml."""

from pathlib import Path

from peru_campaign.content import LoadReport, read_documents

from .models import Report, ReportConcern


def load(content_dir: Path, report: LoadReport) -> None:
    for document in read_documents("reports", content_dir):
        obj, created = Report.objects.get_or_create(
            slug=document["slug"],
            defaults={
                "title": document["title"],
                "publisher": document["publisher"],
                "year": document["year"],
                "summary": document["summary"].strip(),
                "full_text_url": document["full_text_url"],
                "is_published": document.get("published", False),
            },
        )
        report.add(f"report {obj.slug}", created)
        if not created:
            continue
        ReportConcern.objects.bulk_create(
            ReportConcern(report=obj, text=text, order=i)
            for i, text in enumerate(document.get("concerns", []))
        )
