"""Database steps of `make bench` (scripts/bench.sh), run through manage.py shell."""

import time

from django.db import connection, transaction
from procrastinate.contrib.django.models import ProcrastinateJob

from petitions.models import Petition, RateLimitCounter, Signature
from petitions.services import signature_counts_reconcile

BENCH_SLUG = "bench"
IN_FLIGHT_LIMIT = 16  # wrk's connections


def bench_petition() -> Petition:
    petition, _ = Petition.objects.get_or_create(
        slug=BENCH_SLUG,
        defaults={
            "title": "Benchmark petition",
            "summary": "Used by make bench only.",
            "addressed_to": "Nobody",
            "body": "A petition that exists only for the benchmark.",
            "goal": 1000,
            "state": Petition.State.OPEN,
        },
    )
    return petition


@transaction.atomic
def reset() -> None:
    """Start from an empty bench petition: no signatures, counts or queued e-mail."""
    petition = bench_petition()
    Signature.objects.filter(petition=petition).delete()
    signature_counts_reconcile(petition=petition)
    with connection.cursor() as cursor:
        # Procrastinate's models are read-only; its tables are plain SQL.
        cursor.execute("DELETE FROM procrastinate_jobs")
    RateLimitCounter.objects.all().delete()


def settle() -> None:
    """Vacuum what reset() deleted, so autovacuum does not run during a timing."""
    with connection.cursor() as cursor:
        for table in (
            Signature._meta.db_table,
            ProcrastinateJob._meta.db_table,
            RateLimitCounter._meta.db_table,
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")


def check_signing(accepted: int) -> None:
    petition = bench_petition()
    tasks_table = ProcrastinateJob._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT count(*),
                   count(*) FILTER (WHERE NOT EXISTS (
                       SELECT 1 FROM {tasks_table} t
                       WHERE t.task_name = 'petitions.tasks.send_signature_email'
                         AND (t.args ->> 'signature_id')::bigint
                             = s.id))
            FROM petitions_signature s WHERE s.petition_id = %s
            """,
            [petition.pk],
        )
        rows, without_email = cursor.fetchone()
    # wrk stops at its deadline with up to one request in flight per
    # connection: those were received and stored, but their responses were
    # never counted, so rows may exceed accepted responses by at most that.
    abandoned = rows - accepted
    ok = 0 <= abandoned <= IN_FLIGHT_LIMIT and without_email == 0
    print(
        f"{rows} rows for {accepted} accepted responses "
        f"(+{abandoned} cut off in flight by wrk), {without_email} rows without "
        f"a queued e-mail: {'zero lost' if ok else 'LOST SIGNATURES'}"
    )


def wait_for_email_queue(timeout: float = 600) -> None:
    """Let the worker drain the confirmation e-mails before timing pages again."""
    deadline = time.monotonic() + timeout
    while (
        ProcrastinateJob.objects.filter(status="todo").exists()
        and time.monotonic() < deadline
    ):
        time.sleep(1)


def seed(total: int) -> None:
    """Bring the bench petition to `total` confirmed signatures, with COPY-speed SQL."""
    petition = bench_petition()
    existing = Signature.objects.filter(
        petition=petition, consent_version="bench"
    ).count()
    missing = total - existing
    if missing > 0:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO petitions_signature
                    (petition_id, status, full_name, email, email_normalised, country,
                     postcode, ip_hash, consent_version, consent_language,
                     wants_updates, show_publicly, created_at, confirmed_at,
                     repeat_emails_sent)
                SELECT %s, 'confirmed', 'Seeded Signer ' || g,
                       'seed-' || g || '@example.org', 'seed-' || g || '@example.org',
                       (ARRAY['GB','PE','ES','US','FR','DE','CL','MX'])[1 + g %% 8],
                       CASE WHEN g %% 3 = 0 THEN 'SW1A 1AA' ELSE '' END,
                       substr(md5(g::text), 1, 32), 'bench', 'en', false, false,
                       now() - make_interval(mins => g %% 525600),
                       now() - make_interval(mins => g %% 525600), 0
                FROM generate_series(%s, %s) AS g
                """,
                [petition.pk, existing + 1, existing + missing],
            )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE petitions_signature")
    signature_counts_reconcile(petition=petition)
