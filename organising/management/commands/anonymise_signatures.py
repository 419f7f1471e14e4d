"""Delete signers' personal data once a petition has been closed long enough.

The privacy notice (content/pages/privacy.toml) promises that six months after
a petition closes, the names, e-mail addresses and postcodes of everyone who
signed it are deleted (names written on paper batches too), leaving only
anonymous totals. The job worker does this every hour by itself
(organising.services.retention_run, through purge_expired_data); this
command does it now, for any date, for example six months back:

    manage.py anonymise_signatures --closed-before "$(date -d '6 months ago' +%F)"

Add --dry-run to see how many signatures would be anonymised. What "closed"
means is in petitions.services.petitions_closed_before; the counts by day and
by country stay exact, because status, country and dates are kept.
"""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from organising.paper import paper_batch_names_delete
from petitions.services import petitions_closed_before, signatures_anonymise


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date like 2026-05-31.") from None


class Command(BaseCommand):
    help = "Delete the personal data of signatures of petitions closed before a date."

    def add_arguments(self, parser):
        parser.add_argument(
            "--closed-before",
            required=True,
            type=_date,
            help="A date (YYYY-MM-DD, site time zone): petitions closed before "
            "its start are anonymised.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Print how many signatures would be anonymised; change nothing.",
        )

    def handle(self, *args, closed_before, dry_run, **options):
        cutoff = timezone.make_aware(
            datetime.datetime.combine(closed_before, datetime.time.min)
        )
        if cutoff > timezone.now():
            raise CommandError("--closed-before cannot be in the future.")
        slugs = ", ".join(
            petitions_closed_before(cutoff)
            .order_by("slug")
            .values_list("slug", flat=True)
        )
        number = signatures_anonymise(closed_before=cutoff, dry_run=dry_run)
        batches = paper_batch_names_delete(closed_before=cutoff, dry_run=dry_run)
        if dry_run:
            self.stdout.write(
                f"Would anonymise {number} signatures and the names of {batches} "
                f"paper batches of petitions closed before {closed_before}: "
                f"{slugs or 'none'}. Nothing was changed."
            )
        else:
            self.stdout.write(
                f"Anonymised {number} signatures and the names of {batches} paper "
                f"batches of petitions closed before {closed_before}: "
                f"{slugs or 'none'}."
            )
