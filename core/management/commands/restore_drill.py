"""Restore the latest backup into a scratch cluster and compare it with the
live database (make restore-drill, docs/operations.md).

Every table of the public schema: its row count and a checksum of its primary
keys. The last line says OK or FAILED; any difference exits non-zero. The
scratch cluster (its own folder and socket) is removed afterwards.
"""

import datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core import backups


class Command(BaseCommand):
    help = "Restore the latest backup into a scratch cluster and compare it."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scratch",
            type=Path,
            help="Folder for the scratch cluster (default var/restore-drill/<time>).",
        )

    def handle(self, *args, scratch=None, **options):
        stamp = datetime.datetime.now(tz=datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
        scratch = scratch or Path(settings.BASE_DIR) / "var" / "restore-drill" / stamp
        try:
            # A cluster the worker has not backed up yet (a fresh checkout)
            # gets its first full backup here, as the worker would take it.
            if backups.backup_create_first() is not None:
                self.stdout.write("restore drill: no backup yet, took a full one first")
            result = backups.restore_drill_run(scratch=scratch)
        except backups.BackupError as error:
            raise CommandError(f"restore drill: FAILED, {error}") from error
        if not result.ok:
            raise CommandError(result.summary())
        self.stdout.write(result.summary())
