"""Delete what the privacy notice says we do not keep.

- signatures never confirmed, SIGNATURE_PENDING_RETENTION_DAYS after signing;
- rate-limit counters older than a day;
- newsletter subscriptions never confirmed, and unsubscribed addresses, the
  same number of days after (newsletters.services.subscribers_purge).

The job worker runs it every hour (organising.tasks.purge_expired_data), in
development and production alike; finished jobs are pruned there too
(core.tasks.remove_old_jobs). Run it by hand with --dry-run to see the count.
"""

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from newsletters.services import subscribers_purge
from petitions import ratelimit
from petitions.models import Signature


class Command(BaseCommand):
    help = "Delete unconfirmed signatures and old rate-limit counters."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, dry_run, **options):
        cutoff = timezone.now() - datetime.timedelta(
            days=settings.SIGNATURE_PENDING_RETENTION_DAYS
        )
        pending = Signature.objects.filter(
            status=Signature.Status.PENDING, created_at__lt=cutoff
        )
        if dry_run:
            self.stdout.write(f"Would delete {pending.count()} unconfirmed signatures.")
            self.stdout.write(
                f"Would delete {subscribers_purge(dry_run=True)} newsletter "
                "addresses (unconfirmed or unsubscribed)."
            )
            return
        deleted, _ = pending.delete()
        counters = ratelimit.purge_expired(older_than_seconds=86400)
        subscribers = subscribers_purge()
        self.stdout.write(
            f"Deleted {deleted} unconfirmed signatures and {counters} rate-limit "
            "counters."
        )
        self.stdout.write(
            f"Deleted {subscribers} newsletter addresses (unconfirmed or unsubscribed)."
        )
