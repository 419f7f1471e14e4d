"""Load the campaign's content from content/ into the database.

Idempotent: what exists already (matched by slug) is kept as it is, so a second
run changes nothing and edits made by staff in the admin survive; only
translations still empty in the database are filled in from the files.
"""

from importlib import import_module
from pathlib import Path

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.module_loading import module_has_submodule

from core.content import CONTENT_DIR, LoadReport


def content_loaders() -> list:
    """The `load` function of every installed app's `content` module.

    core sits below the apps and names none of them: each app that has
    campaign content offers `<app>/content.py` with a `load(content_dir,
    report)`. They run in INSTALLED_APPS order, which matters: the home page
    and the petition refer to pages loaded before them.
    """
    loaders = []
    for app_config in apps.get_app_configs():
        if not module_has_submodule(app_config.module, "content"):
            continue
        load = getattr(import_module(f"{app_config.name}.content"), "load", None)
        if load is not None:
            loaders.append(load)
    return loaders


class Command(BaseCommand):
    help = "Create the campaign's pages, petition, newsletter entries and report."

    def add_arguments(self, parser):
        parser.add_argument(
            "--content-dir", default=str(CONTENT_DIR), help="Folder of TOML files."
        )

    def handle(self, *args, content_dir, **options):
        report = LoadReport()
        with transaction.atomic():
            for load in content_loaders():
                load(Path(content_dir), report)
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
