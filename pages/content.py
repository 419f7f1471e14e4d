"""Load pages and their timelines from content/pages/*.toml."""

import datetime
from pathlib import Path

from peru_campaign.content import (
    LoadReport,
    fill_blank_translations,
    fill_blank_translations_of_rows,
    read_documents,
    translated_values,
)

from .models import Page, TimelineEvent

PAGE_TEXT = ("title", "summary", "body")
EVENT_TEXT = ("date_label", "title", "body", "source_title")


def load(content_dir: Path, report: LoadReport) -> None:
    for document in read_documents("pages", content_dir):
        label = f"page {document['slug']}"
        page, created = Page.objects.get_or_create(
            slug=document["slug"], defaults=translated_values(document, *PAGE_TEXT)
        )
        report.add(label, created)
        events = document.get("events", [])
        if created:
            TimelineEvent.objects.bulk_create(
                TimelineEvent(
                    page=page,
                    date=datetime.date.fromisoformat(str(event["date"])),
                    source_url=event.get("source_url", ""),
                    **translated_values(event, *EVENT_TEXT),
                )
                for event in events
            )
            continue
        filled = fill_blank_translations(page, translated_values(document, *PAGE_TEXT))
        filled |= fill_blank_translations_of_rows(
            page.events.all(),
            events,
            row_key="title_en",
            item_key="title",
            text_keys=EVENT_TEXT,
        )
        if filled:
            report.translated.append(label)
