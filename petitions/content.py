"""Load the campaign petition from content/petitions/*.toml."""

from pathlib import Path

from core.content import LoadReport, load_translated, read_documents

from .models import Petition


def load(content_dir: Path, report: LoadReport) -> None:
    for document in read_documents("petitions", content_dir):
        load_translated(
            Petition,
            lookup={"slug": document["slug"]},
            document=document,
            text_keys=("title", "summary", "addressed_to", "body"),
            fields={"goal": document["goal"], "state": document["state"]},
            report=report,
            label=f"petition {document['slug']}",
        )
