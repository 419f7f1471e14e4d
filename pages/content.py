"""Load pages and their timelines from content/pages/*.toml."""

from pathlib import Path

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
        load_translated(
            Page,
            lookup={"slug": document["slug"]},
            document=document,
            text_keys=("title", "summary", "body"),
            children=(events,),
            report=report,
            label=f"page {document['slug']}",
        )
