"""Load the campaign's content from content/ into the database.

Idempotent: what exists already (matched by slug) is kept as it is, so a second
run changes nothing and edits made by staff in the admin survive; only
translations still empty in the database are filled in from the files.
"""

from importlib import import_module

from django.core.management.base import BaseCommand
from django.db import transaction

from core.content import CONTENT_DIR, LoadReport

# Order matters: the home page and petition refer to pages loaded before them.
CONTENT_LOADERS = [
    "pages.content",
    "petitions.content",
    "newsletters.content",
    "reports.content",
]


class Command(BaseCommand):
    help = "Create the campaign's pages, petition, newsletter entries and report."

    def add_arguments(self, parser):
        parser.add_argument(
            "--content-dir", default=str(CONTENT_DIR), help="Folder of TOML files."
        )

    def handle(self, *args, content_dir, **options):
        from pathlib import Path

        report = LoadReport()
        with transaction.atomic():
            for module_path in CONTENT_LOADERS:
                import_module(module_path).load(Path(content_dir), report)
        for label in report.created:
            self.stdout.write(f"created {label}")
        for label in report.translated:
            self.stdout.write(f"added missing translations to {label}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Campaign content: {len(report.created)} created, "
                f"{len(report.kept)} already present and left as they were"
                f" (missing translations added to {len(report.translated)})."
            )
        )
