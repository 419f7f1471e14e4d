"""Time the 1,000,000-signature delivery-list export against PostgreSQL's own COPY.

    DJANGO_ENV=development .venv/bin/python scripts/bench_export.py [--rows N]

Seeds a petition "bench-delivery-list" with N confirmed signatures (once; kept
between runs), then measures:

- PostgreSQL: `COPY (SELECT <the same columns>) TO STDOUT WITH CSV`, read to
  the end by psycopg in this process and thrown away;
- the command: `manage.py export_signatures bench-delivery-list --kind
  delivery --output /dev/null`, run as a child process, with its wall time and
  its peak resident memory.

The targets (the organisers' issue): at most 3 times PostgreSQL's time, and
under 150 MB. It also times the dashboard's queries for the same petition
(target: well under a second), and the PDF delivery pack of the same names
(`--kind delivery-pdf`; target: under 150 MB). Exits with status 1 when a
target is missed, so `make bench` fails.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peru_campaign.settings")
os.environ.setdefault("DJANGO_ENV", "development")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from core import encryption  # noqa: E402
from organising.dashboard import petition_dashboard  # noqa: E402
from organising.management.commands.rotate_signer_data_key import (  # noqa: E402
    TABLES,
)
from organising.paper import signature_counts_reconcile  # noqa: E402
from petitions.models import Petition, Signature  # noqa: E402

SLUG = "bench-delivery-list"
MAX_RATIO = 3.0
# The target for the export's own cost (in process, beside COPY).
TARGET_RATIO = 1.5
MAX_PEAK_MB = 150
MAX_DASHBOARD_SECONDS = 0.5

# Plausible names with accents, and one in a thousand hostile to spreadsheets,
# so the neutralisation is part of what is timed.
SEED_SQL = """
INSERT INTO petitions_signature (
    petition_id, status, full_name, email, email_normalised, country, postcode,
    ip_hash, consent_version, consent_language, wants_updates, show_publicly,
    created_at, confirmed_at, repeat_emails_sent
)
SELECT
    %(petition_id)s,
    'confirmed',
    CASE WHEN i %% 1000 = 0 THEN '=HYPERLINK("http://example.com")'
         ELSE (ARRAY['José','María','Ana','Luis','Rosa','Juan','Carmen','Jorge',
                     'Lucía','Pedro','Sofía','Miguel'])[1 + i %% 12]
              || ' ' ||
              (ARRAY['Quispe','Mamani','Huamán','Flores','Rodríguez','Sánchez',
                     'García','Rojas','Chávez','Torres','Díaz'])[1 + i %% 11]
              || ' ' || i::text
    END,
    'signer' || i || '@example.org',
    'signer' || i || '@example.org',
    (ARRAY['PE','PE','PE','GB','ES','US','DE','FR','CL','BO','AR','MX'])[1 + i %% 12],
    CASE WHEN i %% 3 = 0 THEN '' ELSE 'SW1A ' || (i %% 10)::text || 'AA' END,
    md5(i::text)::varchar(32),
    'bench', 'es', i %% 2 = 0, false,
    %(start)s::timestamptz + (i * interval '7 seconds'),
    %(start)s::timestamptz + (i * interval '7 seconds') + interval '5 minutes',
    0
FROM generate_series(1, %(rows)s::int) AS i
"""

# The same columns the delivery list has, in the same order, straight from
# PostgreSQL (the name and postcode as their ciphertext): the fastest this
# export could possibly be.
BASELINE_SQL = """
COPY (
    SELECT full_name, country, postcode,
           (confirmed_at AT TIME ZONE '{tz}')::date
    FROM petitions_signature
    WHERE petition_id = {petition_id} AND status = 'confirmed'
    ORDER BY confirmed_at, id
) TO STDOUT WITH CSV HEADER
"""


def seed(rows: int) -> Petition:
    petition, _ = Petition.objects.get_or_create(
        slug=SLUG,
        defaults={
            "title": "Benchmark petition",
            "summary": "Seeded by scripts/bench_export.py.",
            "body": "Benchmark.",
            "addressed_to": "Nobody",
            "goal": 1_000_000,
        },
    )
    # A draft: kept off the public pages of a local `make run`.
    Petition.objects.filter(pk=petition.pk).update(state=Petition.State.DRAFT)
    existing = Signature.objects.filter(petition=petition).count()
    if existing == rows:
        _encrypt_seeded()
        return petition
    print(f"Seeding {rows:,} confirmed signatures (once)…", flush=True)
    Signature.objects.filter(petition=petition).delete()
    with connection.cursor() as cursor:
        cursor.execute(
            SEED_SQL,
            {"petition_id": petition.pk, "rows": rows, "start": "2026-01-05T09:00Z"},
        )
    signature_counts_reconcile(petition=petition)
    _encrypt_seeded()
    with connection.cursor() as cursor:
        # Fresh statistics and visibility map, as autovacuum would leave them.
        cursor.execute("VACUUM ANALYZE petitions_signature")
    return petition


def _encrypt_seeded() -> None:
    """Encrypt the seeded rows as the site stores them (the rotation
    command's routine: plain text in, ciphertext and blind index out), so
    the export decrypts real ciphertext. Once; later runs find nothing."""
    table = TABLES[0]
    with connection.cursor() as cursor:
        if not encryption.rows_under_old_keys(
            cursor, table=table["table"], columns=table["columns"]
        ):
            return
    print("Encrypting the seeded signatures (once)…", flush=True)
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            if not encryption.rows_reencrypt(cursor, **table, batch_size=5000):
                break


def time_copy(petition: Petition) -> tuple[float, int]:
    sql = BASELINE_SQL.format(tz=settings.TIME_ZONE, petition_id=int(petition.pk))
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor, for copy()
        started = time.perf_counter()
        size = 0
        with raw.copy(sql) as copy:
            for chunk in copy:
                size += len(chunk)
        return time.perf_counter() - started, size


def time_export_in_process(petition: Petition) -> float:
    """export_csv read to the end in this process, like COPY above: the
    export's own cost, without the command's interpreter and Django start."""
    from organising.exports import export_csv

    started = time.perf_counter()
    _record, chunks = export_csv(
        petition=petition, kind="delivery", requested_by="make bench"
    )
    for _chunk in chunks:
        pass
    return time.perf_counter() - started


def time_dashboard(petition: Petition) -> float:
    started = time.perf_counter()
    petition_dashboard(petition=petition)
    return time.perf_counter() - started


def time_command(kind: str = "delivery") -> tuple[float, float]:
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            str(BASE_DIR / "manage.py"),
            "export_signatures",
            SLUG,
            "--kind",
            kind,
            "--output",
            os.devnull,
        ],
        cwd=BASE_DIR,
    )
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"export_signatures failed with status {process.returncode}")
    # ru_maxrss is in kilobytes on Linux.
    return elapsed, usage.ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="Best of N runs.")
    args = parser.parse_args()

    call_command("migrate", verbosity=0, interactive=False)
    petition = seed(args.rows)
    # Warm the cache once, so neither side pays for reading the table from disk.
    time_copy(petition)
    copy_runs = [time_copy(petition) for _ in range(args.repeat)]
    in_process_seconds = min(
        time_export_in_process(petition) for _ in range(args.repeat)
    )
    dashboard_seconds = min(time_dashboard(petition) for _ in range(args.repeat))
    connection.close()
    command_runs = [time_command() for _ in range(args.repeat)]
    # The PDF delivery pack: one run is enough, it is memory that matters.
    pack_seconds, pack_mb = time_command("delivery-pdf")

    copy_seconds = min(seconds for seconds, _size in copy_runs)
    command_seconds = min(seconds for seconds, _rss in command_runs)
    peak_mb = max(rss for _seconds, rss in command_runs)
    ratio = command_seconds / copy_seconds
    print()
    print(f"Delivery list, {args.rows:,} signatures (best of {args.repeat})")
    print(f"{'':34}{'time':>9}{'peak memory':>14}")
    print(f"{'PostgreSQL COPY … TO STDOUT CSV':34}{copy_seconds:>8.2f}s{'—':>14}")
    print(f"{'export_csv() in one process':34}{in_process_seconds:>8.2f}s{'—':>14}")
    print(
        f"{'manage.py export_signatures':34}{command_seconds:>8.2f}s{peak_mb:>11.0f} MB"
    )
    print(
        f"Ratio in process {in_process_seconds / copy_seconds:.2f}× "
        f"(target {TARGET_RATIO}×); "
        f"ratio of the command {ratio:.2f}× (limit {MAX_RATIO:.0f}×); "
        f"peak {peak_mb:.0f} MB (limit {MAX_PEAK_MB} MB)"
    )
    print(
        f"{'Delivery pack (PDF), one run':34}{pack_seconds:>8.2f}s{pack_mb:>11.0f} MB"
        f" (limit {MAX_PEAK_MB} MB)"
    )
    print(
        f"Dashboard queries {dashboard_seconds * 1000:.0f} ms "
        f"(limit {MAX_DASHBOARD_SECONDS * 1000:.0f} ms)"
    )
    ok = (
        ratio <= MAX_RATIO
        and peak_mb < MAX_PEAK_MB
        and pack_mb < MAX_PEAK_MB
        and dashboard_seconds < MAX_DASHBOARD_SECONDS
    )
    print("OK" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
