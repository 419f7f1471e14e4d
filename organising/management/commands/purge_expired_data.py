"""Apply the retention rules of the privacy notice (organising.services.retention_run).

- signatures never confirmed, SIGNATURE_PENDING_RETENTION_DAYS after signing,
  when their link has expired;
- the personal data of signatures of petitions closed SIGNATURE_RETENTION_MONTHS
  ago, and the names on their paper batches;
- the personal data of invalidated signatures, once the invalidation can no
  longer be undone (BULK_INVALIDATION_UNDO_DAYS);
- newsletter subscriptions never confirmed, and unsubscribed addresses, the
  same number of days after (newsletters.services.subscribers_purge);
- rate-limit counters past every window.

The job worker runs the same service every hour (organising.tasks.
purge_expired_data), in development and production alike, and each run is
recorded for the dashboard. Run it by hand with --dry-run to see the counts.
"""

from django.core.management.base import BaseCommand

from organising.services import retention_run


class Command(BaseCommand):
    help = "Apply the privacy notice's retention rules now."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, dry_run, **options):
        run = retention_run(dry_run=dry_run)
        self.stdout.write(run.summary(dry_run=dry_run))
