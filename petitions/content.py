"""Load the campaign petition from content/petitions/*.toml."""

from pathlib import Path

from peru_campaign.content import LoadReport, read_documents

from .models import Petition


def load(content_dir: Path, report: LoadReport) -> None:
    for document in read_documents("petitions", content_dir):
        petition, created = Petition.objects.get_or_create(
            slug=document["slug"],
            defaults={
                "title": document["title"],
                "summary": document["summary"],
                "addressed_to": document["addressed_to"],
                "body": document["body"].strip(),
                "goal": document["goal"],
                "state": document["state"],
            },
        )
        report.add(f"petition {petition.slug}", created)
