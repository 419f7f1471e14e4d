"""Take a pgBackRest backup now (make backup).

python manage.py backup              incremental, or full when there is none
python manage.py backup --type full  full (or diff, incr)
python manage.py backup --info       when the last backup finished
"""

from django.core.management.base import BaseCommand, CommandError

from core import backups


class Command(BaseCommand):
    help = "Take a backup of the database now with pgBackRest (docs/operations.md)."

    def add_arguments(self, parser):
        parser.add_argument("--type", choices=backups.BACKUP_KINDS, dest="kind")
        parser.add_argument(
            "--info", action="store_true", help="Only say when the last backup ended."
        )

    def handle(self, *args, kind=None, info=False, **options):
        try:
            if not info:
                if kind is None:
                    kind = "incr" if backups.backup_info() else "full"
                label = backups.backup_create(kind=kind)
                self.stdout.write(f"backup: {kind} backup {label} finished")
            finished_at = backups.backup_latest_finished_at()
        except backups.BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"backup: the last backup finished at {finished_at:%Y-%m-%d %H:%M:%S%z}"
            if finished_at
            else "backup: the repository holds no backup yet"
        )
