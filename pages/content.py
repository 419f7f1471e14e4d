"""Load pages and their timelines from content/pages/*.toml."""

import datetime
from pathlib import Path

from django.utils import timezone

from core.content import Children, LoadReport, load_translated, read_documents

from .models import Page


def load(content_dir: Path, report: LoadReport) -> None:
    for document in read_documents("pages", content_dir):
        events = Children(
            "events",
            document.get("events", []),
            text_keys=("date_label", "title", "body", "source_title"),
            match=("title_en", "title"),
            fields=lambda event, _position: {
                "date": event["date"],
                "source_url": event.get("source_url", ""),
            },
        )
        page = load_translated(
            Page,
            lookup={"slug": document["slug"]},
            document=document,
            text_keys=("title", "summary", "body"),
            children=(events,),
            report=report,
            label=f"page {document['slug']}",
        )
        _date_from_file(page, document)


def _date_from_file(page: Page, document: dict) -> None:
    """'Last updated' tells readers when the text was written: while the page
    still holds the file's text, that is the file's `updated` date, not the
    day it was loaded. A staff edit in the admin sets its own date."""
    written = document.get("updated")
    if not isinstance(written, datetime.date):
        return
    if page.body_en.strip() != document["body"].strip():
        return
    moment = timezone.make_aware(
        datetime.datetime.combine(written, datetime.time(12)),
    )
    Page.objects.filter(pk=page.pk).update(updated_at=moment)
