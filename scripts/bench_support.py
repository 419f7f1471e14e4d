"""Database steps of `make bench` (scripts/bench.sh), run through manage.py shell."""

import json
import time
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from procrastinate.contrib.django.models import ProcrastinateJob

from organising.paper import signature_counts_reconcile
from petitions import tokens
from petitions.models import Petition, RateLimitCounter, Signature

BENCH_SLUG = "bench"
CEILING_SLUG = "bench-ceiling"  # scripts/bench_urls.py writes its rows here
CEILING_DIR = "bench-ceiling"  # under STATIC_ROOT
IN_FLIGHT_LIMIT = 16  # wrk's connections


def bench_petition(slug: str = BENCH_SLUG) -> Petition:
    petition, _ = Petition.objects.get_or_create(
        slug=slug,
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
    """Start from an empty bench petition: no signatures, counts or queued jobs."""
    petition = bench_petition()
    # One statement: the ORM's delete() would first fetch every id (a million
    # after a full run) for its signal handlers, beyond PostgreSQL's parameter
    # limit.
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {Signature._meta.db_table} WHERE petition_id = ANY(%s)",
            [[petition.pk, bench_petition(CEILING_SLUG).pk]],
        )
    signature_counts_reconcile(petition=petition)
    # Keep the bench petition the featured one, so the home page shows it.
    Petition.objects.filter(pk=petition.pk).update(
        state=Petition.State.OPEN, created_at=timezone.now()
    )
    with connection.cursor() as cursor:
        # Procrastinate's models are read-only; its tables are emptied directly.
        cursor.execute(
            "TRUNCATE procrastinate_periodic_defers, procrastinate_events, "
            "procrastinate_jobs"
        )
    RateLimitCounter.objects.all().delete()
    # Rendered pages too: a copy left by a server with a longer
    # PAGE_CACHE_SECONDS would otherwise outlive every change the run makes.
    cache.clear()


def settle() -> None:
    """Vacuum what reset() deleted, so autovacuum does not run during a timing."""
    with connection.cursor() as cursor:
        for table in (
            Signature._meta.db_table,
            ProcrastinateJob._meta.db_table,
            "procrastinate_events",
            RateLimitCounter._meta.db_table,
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")


def check_signing(accepted: int) -> None:
    petition = bench_petition()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*),
                   count(*) FILTER (WHERE email_due_at IS NULL
                                      AND email_sent_at IS NULL)
            FROM petitions_signature WHERE petition_id = %s
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
        f"their e-mail due or sent: {'zero lost' if ok else 'LOST SIGNATURES'}"
    )


def wait_for_email_queue(timeout: float = 600) -> None:
    """Let the outbox send the confirmation e-mails before timing pages again."""
    deadline = time.monotonic() + timeout
    due = Signature.objects.filter(email_due_at__isnull=False)
    while due.exists() and time.monotonic() < deadline:
        time.sleep(0.5)


EMAIL_P99_TARGET = 5.0  # seconds from the signature's row to its e-mail sent


def email_latency() -> None:
    """Seconds from each signature of the signing run (created_at) to its
    confirmation e-mail accepted by the mail backend (email_sent_at)."""
    wait_for_email_queue()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*),
                   percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY s),
                   max(s)
            FROM (SELECT extract(epoch FROM email_sent_at - created_at) AS s
                  FROM petitions_signature
                  WHERE petition_id = %s AND consent_version <> 'bench'
                    AND email_sent_at IS NOT NULL) AS sent
            """,
            [bench_petition().pk],
        )
        sent, (p50, p99), longest = cursor.fetchone()
    ok = sent > 0 and p99 <= EMAIL_P99_TARGET
    print(
        f"{sent} confirmation e-mails, created to sent: p50 {p50:.2f} s, "
        f"p99 {p99:.2f} s, max {longest:.2f} s: "
        + ("within" if ok else "OVER")
        + f" the {EMAIL_P99_TARGET:.0f} s target"
    )


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
                FROM generate_series(%s::int, %s::int) AS g
                """,
                [petition.pk, existing + 1, existing + missing],
            )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE petitions_signature")
    signature_counts_reconcile(petition=petition)


def write_ceiling_files(paths: list[str], *, compressed: bool = False) -> None:
    """For each page, a static file of the same size, for the server in front
    to serve as the ceiling of what that page could do. Prints, per path,
    `path size static-url`.

    compressed: the size of the page as a browser gets it (gzip), in a file
    nginx sends as it is (.bin: no type nginx would compress again)."""
    root = Path(settings.STATIC_ROOT) / CEILING_DIR
    root.mkdir(parents=True, exist_ok=True)
    client = Client()
    headers = {"accept_encoding": "gzip"} if compressed else {}
    for path in paths:
        response = client.get(path, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"bench: {path} answered {response.status_code}")
        if compressed and response.get("Content-Encoding") != "gzip":
            raise SystemExit(f"bench: {path} did not come compressed")
        size = len(response.content)
        name = f"{size}.bin" if compressed else f"{size}.html"
        (root / name).write_bytes(b"x" * size)
        print(path, size, f"{settings.STATIC_URL}{CEILING_DIR}/{name}")


def freshness(base_url: str, timeout: float = 10) -> None:
    """Confirm one pending bench signature through the server and time how long
    until the JSON, the petition page and the home page all show it."""
    petition = bench_petition()
    signature = (
        Signature.objects.filter(petition=petition, status="pending")
        .order_by("pk")
        .first()
    )
    if signature is None:
        raise SystemExit("bench: no pending signature left to confirm")
    json_url = f"{base_url}/petitions/{BENCH_SLUG}.json"

    def count() -> int:
        with urllib.request.urlopen(json_url) as response:
            return json.load(response)["signature_count"]

    def page_shows(url: str, number: int) -> bool:
        with urllib.request.urlopen(url) as response:
            html = response.read().decode()
        return f'<strong class="count-number">{number:,}</strong>' in html

    before = count()
    body = f"t={tokens.make_token(signature.pk, 'confirm')}".encode()
    request = urllib.request.Request(
        f"{base_url}/petitions/confirm/",
        data=body,
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    started = time.monotonic()
    try:
        urllib.request.urlopen(request)
    except urllib.error.HTTPError as error:
        if error.code != 303:
            raise
    waits = {}
    pending = {
        "json": lambda: count() > before,
        "page": lambda: page_shows(f"{base_url}/petitions/{BENCH_SLUG}/", before + 1),
        "home": lambda: page_shows(f"{base_url}/", before + 1),
    }
    while pending and time.monotonic() - started < timeout:
        for name, shows in list(pending.items()):
            if shows():
                waits[name] = time.monotonic() - started
                del pending[name]
        time.sleep(0.02)
    figures = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in waits.items())
    late = ", ".join(pending)
    print(f"{figures}" + (f"; NOT SHOWN after {timeout:.0f}s: {late}" if late else ""))
