"""Mark addresses from a provider's bounce or complaint list as undeliverable.

    manage.py import_bounces bounces.csv
    manage.py import_bounces complaints.csv --complaints
    manage.py import_bounces bounces.csv --dry-run

The file is CSV with one address per row: the column named "email" (or
"address", "recipient") if there is a header row, else the first column.
No further issue is sent to a marked address. Prints counts only, never an
address.
"""

import csv

from django.core.management.base import BaseCommand, CommandError

from newsletters.models import Subscriber
from newsletters.services import subscriber_mark_undeliverable

_COLUMNS = ("email", "address", "recipient", "email_address")


def _addresses(handle):
    reader = csv.reader(handle)
    column = 0
    for number, row in enumerate(reader):
        if not row:
            continue
        if number == 0:
            header = [cell.strip().lower() for cell in row]
            named = [header.index(name) for name in _COLUMNS if name in header]
            if named:
                column = named[0]
                continue
        if column < len(row) and "@" in row[column]:
            yield row[column].strip()


class Command(BaseCommand):
    help = "Mark the addresses in a CSV bounce (or complaint) list as undeliverable."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The CSV file.")
        parser.add_argument(
            "--complaints",
            action="store_true",
            help="The file lists spam complaints rather than hard bounces.",
        )
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, path, complaints, dry_run, **options):
        reason = (
            Subscriber.Status.COMPLAINED if complaints else Subscriber.Status.BOUNCED
        )
        try:
            with open(path, newline="", encoding="utf-8-sig") as handle:
                addresses = list(_addresses(handle))
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}") from None
        except UnicodeDecodeError:
            raise CommandError(f"{path} is not UTF-8 text.") from None
        if dry_run:
            self.stdout.write(f"Read {len(addresses)} addresses; nothing changed.")
            return
        marked = sum(
            subscriber_mark_undeliverable(email=address, reason=reason)
            for address in addresses
        )
        self.stdout.write(
            f"Read {len(addresses)} addresses; marked {marked} subscribers as "
            f"{reason}; the rest were not on the list or already marked."
        )
