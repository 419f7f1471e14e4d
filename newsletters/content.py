"""Load newsletter entries and their sources from content/newsletters/*.toml."""

import datetime
from pathlib import Path

from peru_campaign.content import (
    LoadReport,
    fill_blank_translations,
    fill_blank_translations_of_rows,
    read_documents,
    translated_values,
)

from .models import Entry, EntrySource

ENTRY_TEXT = ("title", "summary", "body")


def _as_date(value) -> datetime.date:
    return (
        value
        if isinstance(value, datetime.date)
        else datetime.date.fromisoformat(str(value))
    )


def load(content_dir: Path, report: LoadReport) -> None:
    for document in read_documents("newsletters", content_dir):
        month = _as_date(document["month"]).replace(day=1)
        label = f"newsletter entry {month:%Y-%m} {document['slug']}"
        values = translated_values(document, *ENTRY_TEXT)
        entry, created = Entry.objects.get_or_create(
            slug=document["slug"],
            month=month,
            defaults={
                **values,
                "pub_date": document["pub_date"],
                "is_published": document.get("published", False),
            },
        )
        report.add(label, created)
        sources = document.get("sources", [])
        if created:
            EntrySource.objects.bulk_create(
                EntrySource(
                    entry=entry,
                    url=source["url"],
                    order=i,
                    **translated_values(source, "title"),
                )
                for i, source in enumerate(sources)
            )
            continue
        filled = fill_blank_translations(entry, values)
        filled |= fill_blank_translations_of_rows(
            entry.sources.all(),
            sources,
            row_key="url",
            item_key="url",
            text_keys=("title",),
        )
        if filled:
            report.translated.append(label)
