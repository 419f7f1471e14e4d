"""Load newsletter entries and their sources from content/newsletters/*.toml."""

import datetime
from pathlib import Path

from peru_campaign.content import LoadReport, read_documents

from .models import Entry, EntrySource


def _as_date(value) -> datetime.date:
    return (
        value
        if isinstance(value, datetime.date)
        else datetime.date.fromisoformat(str(value))
    )


def load(content_dir: Path, report: LoadReport) -> None:
    for document in read_documents("newsletters", content_dir):
        month = _as_date(document["month"]).replace(day=1)
        entry, created = Entry.objects.get_or_create(
            slug=document["slug"],
            month=month,
            defaults={
                "title": document["title"],
                "summary": document["summary"],
                "body": document["body"].strip(),
                "pub_date": document["pub_date"],
                "is_published": document.get("published", False),
            },
        )
        report.add(f"newsletter entry {month:%Y-%m} {entry.slug}", created)
        if not created:
            continue
        EntrySource.objects.bulk_create(
            EntrySource(entry=entry, title=source["title"], url=source["url"], order=i)
            for i, source in enumerate(document.get("sources", []))
        )
