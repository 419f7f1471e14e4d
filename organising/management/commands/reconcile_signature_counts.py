"""Rebuild the public signature counts exactly from the confirmed signatures.

The counts are kept up to date as signatures are confirmed, withdrawn and
invalidated; this command is the check (and the repair) that they agree.
"""

from django.core.management.base import BaseCommand, CommandError

from organising.paper import signature_counts_reconcile
from petitions.models import Petition


class Command(BaseCommand):
    help = "Recount confirmed signatures and rewrite the public counts."

    def add_arguments(self, parser):
        parser.add_argument(
            "slugs", nargs="*", help="Petitions to recount (all if none)."
        )

    def handle(self, *args, slugs, **options):
        petitions = Petition.objects.order_by("pk")
        if slugs:
            petitions = petitions.filter(slug__in=slugs)
            missing = set(slugs) - set(petitions.values_list("slug", flat=True))
            if missing:
                raise CommandError(
                    f"No petition with slug: {', '.join(sorted(missing))}"
                )
        for petition in petitions:
            before, after = signature_counts_reconcile(petition=petition)
            note = "unchanged" if before == after else f"was {before}"
            self.stdout.write(f"{petition.slug}: {after} confirmed ({note})")
