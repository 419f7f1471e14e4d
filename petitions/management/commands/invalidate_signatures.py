"""Invalidate a petition's signatures that share an IP hash or an e-mail domain."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from petitions.models import Petition
from petitions.services import signatures_invalidate_matching


class Command(BaseCommand):
    help = "Invalidate signatures by IP hash or e-mail domain; the count follows."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--ip-hash")
        group.add_argument("--email-domain")

    def handle(self, *args, slug, ip_hash, email_domain, **options):
        petition = Petition.objects.filter(slug=slug).first()
        if petition is None:
            raise CommandError(f"No petition with slug {slug!r}.")
        try:
            number = signatures_invalidate_matching(
                petition=petition,
                ip_hash=ip_hash or "",
                email_domain=email_domain or "",
            )
        except ValidationError as error:
            raise CommandError(error.messages[0]) from error
        self.stdout.write(f"{number} signatures invalidated.")
