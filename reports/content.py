"""Load reports and their key concerns from content/reports/*.toml."""

from pathlib import Path

from core.content import Children, LoadReport, load_translated, read_documents

from .models import Report


def load(content_dir: Path, report: LoadReport) -> None:
    for document in read_documents("reports", content_dir):
        concerns = Children(
            "concerns",
            document.get("concerns", []),
            text_keys=("text",),
            match=("text_en", "text"),
            fields=lambda _concern, position: {"order": position},
        )
        load_translated(
            Report,
            lookup={"slug": document["slug"]},
            document=document,
            text_keys=("title", "publisher", "summary"),
            fields={
                "year": document["year"],
                "full_text_url": document["full_text_url"],
                "is_published": document.get("published", False),
            },
            children=(concerns,),
            report=report,
            label=f"report {document['slug']}",
        )
