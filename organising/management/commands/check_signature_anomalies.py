"""E-mail organisers when one IP hash or e-mail domain brings too many signatures.

    manage.py check_signature_anomalies [--threshold N] [--dry-run]

The worker runs the same check every hour (organising.tasks
.check_signature_anomalies); each alert is sent once, however often it runs. The
threshold is settings.FRAUD_ALERT_THRESHOLD (env FRAUD_ALERT_THRESHOLD) unless
given here. See organising.fraud.
"""

from django.core.management.base import BaseCommand

from organising.fraud import signature_anomalies_check


class Command(BaseCommand):
    help = "Alert organisers to unusual numbers of signatures from one source."

    def add_arguments(self, parser):
        parser.add_argument("--threshold", type=int, help="Signatures per hour.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="List what is past the threshold; record and send nothing.",
        )

    def handle(self, *args, threshold, dry_run, **options):
        found = signature_anomalies_check(threshold=threshold, dry_run=dry_run)
        for hotspot in found:
            self.stdout.write(
                f"{hotspot.hour:%Y-%m-%d %H:00} petition {hotspot.petition_id} "
                f"{hotspot.kind} {hotspot.value}: {hotspot.count}"
            )
        verb = "past the threshold" if dry_run else "new alert(s) sent"
        self.stderr.write(f"{len(found)} {verb}.")
