"""Load newsletter entries and their sources from content/newsletters/*.toml."""

from pathlib import Path

from core.content import Children, LoadReport, load_translated, read_documents

from .models import Entry


def load(content_dir: Path, report: LoadReport) -> None:
    for document in read_documents("newsletters", content_dir):
        month = document["month"].replace(day=1)  # TOML dates arrive as dates
        sources = Children(
            "sources",
            document.get("sources", []),
            text_keys=("title",),
            match=("url", "url"),
            fields=lambda source, position: {"url": source["url"], "order": position},
        )
        load_translated(
            Entry,
            lookup={"slug": document["slug"], "month": month},
            document=document,
            text_keys=("title", "summary", "body"),
            fields={
                "pub_date": document["pub_date"],
                "is_published": document.get("published", False),
            },
            children=(sources,),
            report=report,
            label=f"newsletter entry {month:%Y-%m} {document['slug']}",
        )
