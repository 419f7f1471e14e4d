"""Load pages and their timelines from content/pages/*.toml."""

import datetime
from pathlib import Path

from peru_campaign.content import LoadReport, read_documents

from .models import Page, TimelineEvent


def load(content_dir: Path, report: LoadReport) -> None:
    for document in read_documents("pages", content_dir):
        page, created = Page.objects.get_or_create(
            slug=document["slug"],
            defaults={
                "title": document["title"],
                "summary": document["summary"],
                "body": document["body"].strip(),
            },
        )
        report.add(f"page {page.slug}", created)
        if not created:
            continue
        TimelineEvent.objects.bulk_create(
            TimelineEvent(
                page=page,
                date=datetime.date.fromisoformat(str(event["date"])),
                date_label=event["date_label"],
                title=event["title"],
                body=event["body"].strip(),
                source_title=event.get("source_title", ""),
                source_url=event.get("source_url", ""),
            )
            for event in document.get("events", [])
        )
