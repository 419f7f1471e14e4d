"""Export a petition's confirmed signatures as CSV, like the dashboard downloads.

    manage.py export_signatures justice-for-peru --kind delivery --output list.csv
    manage.py export_signatures justice-for-peru --kind by-day > by-day.csv
    manage.py export_signatures justice-for-peru --kind delivery-pdf --output pack.pdf

Runs the same code as the downloads (organising.exports), so the files are
identical, and records the export the same way, as "command line (<user>)".
Anyone who can run this command can read the database, so it checks no
permissions; --with-emails is still recorded.
"""

import getpass
from contextlib import closing, nullcontext

from django.core.management.base import BaseCommand, CommandError

from organising.exports import export_file
from organising.models import SignatureExport
from petitions.models import Petition


class Command(BaseCommand):
    help = "Write a CSV of a petition's confirmed signatures: counts or delivery list."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The petition's slug.")
        parser.add_argument(
            "--kind",
            required=True,
            choices=SignatureExport.Kind.values,
            help=(
                "by-day, by-country and by-source are counts; delivery is the "
                "list of names; delivery-pdf the printable delivery pack."
            ),
        )
        parser.add_argument(
            "--with-emails",
            action="store_true",
            help="Add signers' e-mail addresses (delivery list only).",
        )
        parser.add_argument(
            "--output", help="File to write; standard output when left out."
        )

    def handle(self, *args, slug, kind, with_emails, output, **options):
        petition = Petition.objects.filter(slug=slug).first()
        if petition is None:
            raise CommandError(f"No petition with slug {slug!r}.")
        if with_emails and kind != SignatureExport.Kind.DELIVERY:
            raise CommandError("--with-emails is only for --kind delivery.")
        if kind == SignatureExport.Kind.DELIVERY_PDF and not output:
            raise CommandError("The PDF needs --output: it is not text.")
        # The file is opened first, so a bad path fails before the export is
        # recorded; closing() ends the stream (and its record) on any error.
        try:
            target = open(output, "wb") if output else nullcontext()
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error.strerror}.") from None
        with target as file:
            record, chunks = export_file(
                petition=petition,
                kind=kind,
                with_emails=with_emails,
                requested_by=f"command line ({_system_user()})",
            )
            with closing(chunks):
                for chunk in chunks:
                    if file is not None:
                        file.write(chunk)
                    else:
                        # Blocks end at row ends, so each decodes on its own.
                        self.stdout.write(chunk.decode(), ending="")
        self.stdout.flush()
        record.refresh_from_db()
        self.stderr.write(
            f"{record.row_count} rows exported ({record.get_kind_display()})."
        )


def _system_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name, e.g. in a bare container
        return "unknown user"
