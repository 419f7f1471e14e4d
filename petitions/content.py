"""Load the campaign petition from content/petitions/*.toml."""

from pathlib import Path

from peru_campaign.content import (
    LoadReport,
    fill_blank_translations,
    read_documents,
    translated_values,
)

from .models import Petition

PETITION_TEXT = ("title", "summary", "addressed_to", "body")


def load(content_dir: Path, report: LoadReport) -> None:
    for document in read_documents("petitions", content_dir):
        label = f"petition {document['slug']}"
        values = translated_values(document, *PETITION_TEXT)
        petition, created = Petition.objects.get_or_create(
            slug=document["slug"],
            defaults={**values, "goal": document["goal"], "state": document["state"]},
        )
        report.add(label, created)
        if not created and fill_blank_translations(petition, values):
            report.translated.append(label)
