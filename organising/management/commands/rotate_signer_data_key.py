"""Re-encrypt supporters' personal data under the current SIGNER_DATA_KEY.

After a new key is put first in SIGNER_DATA_KEY (the old ones kept after it),
this re-encrypts, batch by batch, every signature and subscriber still under
an old key or in plain text, and recomputes their blind indexes and domain
labels under the new key. Each batch is its own short transaction that skips
rows the site holds locked, so it runs while the site runs. Once it reports
nothing left, the old keys can be removed from SIGNER_DATA_KEY.
"""

import time

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from core import encryption

# The tables with encrypted columns, as core.encryption.rows_reencrypt takes them.
TABLES = [
    {
        "table": "petitions_signature",
        "columns": ["full_name", "email", "postcode"],
        "email_column": "email",
        "domain_column": "email_domain_label",
    },
    {"table": "newsletters_subscriber", "columns": ["email"], "email_column": "email"},
]


class Command(BaseCommand):
    help = (
        "Re-encrypt signers' and subscribers' personal data under the current "
        "SIGNER_DATA_KEY, in small batches, while the site runs."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument(
            "--pause",
            type=float,
            default=0.0,
            help="Seconds to wait between batches, to leave the database room.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Only report how many rows are still under old keys.",
        )

    def handle(self, *args, batch_size, pause, dry_run, **options):
        for table in TABLES:
            changed = 0
            while not dry_run:
                with transaction.atomic(), connection.cursor() as cursor:
                    done = encryption.rows_reencrypt(
                        cursor, **table, batch_size=batch_size
                    )
                if not done:
                    break
                changed += done
                time.sleep(pause)
            with connection.cursor() as cursor:
                remaining = encryption.rows_under_old_keys(
                    cursor, table=table["table"], columns=table["columns"]
                )
            self.stdout.write(
                f"{table['table']}: {changed} re-encrypted, "
                f"{remaining} still under old keys."
            )
