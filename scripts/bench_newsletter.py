"""`make bench`, newsletter part: send rate, exactly-once after a kill, queue scale.

Run from scripts/bench.sh (or alone: `.venv/bin/python scripts/bench_newsletter.py`):

1. Throughput: N subscribers (BENCH_NEWSLETTER_SUBSCRIBERS, default 5000), two
   Procrastinate workers (`manage.py procrastinate worker`), each batch over
   one reused SMTP connection to a local aiosmtpd sink in its own process;
   then a check that every subscriber received exactly one copy.
2. A kill: the same send again (a new issue), one worker killed with SIGKILL
   part-way; after the lease runs out the lease rule is applied (what the
   minute tick does) and a fresh worker finishes. Counts of copies per
   subscriber: duplicates must be 0; at most one delivery per killed worker
   may be "in doubt" (0 or 1 copy, shown in the admin).
3. The throttle: NEWSLETTER_RATE_PER_SECOND=200 across both workers; the
   measured rate must not exceed it.
4. Scale: queuing one issue for 1,000,000 subscribers
   (BENCH_NEWSLETTER_QUEUE, default 1000000): seconds, and the peak memory
   of the process that queues it.

Uses the database of the environment (bench.sh sets peru_campaign_bench) and
removes what it added. Prints "newsletter ..." summary lines at the end.
"""

import asyncio
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
BENCH_CONSENT = "bench-newsletter"


# ------------------------------------------------------------------------------
# The SMTP sink: a separate process, so it does not share the senders' CPU time
# slice; it records "<subject> <recipient>" per accepted message.
# ------------------------------------------------------------------------------
def run_sink(port: int, path: str) -> None:
    from aiosmtpd.controller import Controller

    out = open(path, "a", buffering=1)

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            subject = b""
            for line in envelope.content.split(b"\r\n", 40):
                if line.startswith(b"Subject: "):
                    subject = line[9:]
                    break
            for recipient in envelope.rcpt_tos:
                out.write(f"{subject.decode(errors='replace')} {recipient}\n")
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    signal.signal(signal.SIGTERM, lambda *_: (controller.stop(), sys.exit(0)))
    while True:
        time.sleep(3600)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int) -> None:
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the SMTP sink did not start")


# ------------------------------------------------------------------------------
# Django side
# ------------------------------------------------------------------------------
def setup_django(env: dict) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peru_campaign.settings")
    import django

    django.setup()


def seed_subscribers(total: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM newsletters_subscriber WHERE consent_version = %s",
            [BENCH_CONSENT],
        )
        existing = cursor.fetchone()[0]
        if total > existing:
            cursor.execute(
                """
                INSERT INTO newsletters_subscriber
                    (email, email_normalised, language, source, status,
                     consent_version, consent_language, created_at, confirmed_at,
                     status_changed_at, confirm_emails_sent)
                SELECT 'nl-' || g || '@bench.example', 'nl-' || g || '@bench.example',
                       CASE WHEN g %% 3 = 0 THEN 'es' ELSE 'en' END, 'form',
                       'confirmed', %s, 'en', now(), now(), now(), 0
                FROM generate_series(%s::int, %s::int) AS g
                """,
                [BENCH_CONSENT, existing + 1, total],
            )
        cursor.execute("ANALYZE newsletters_subscriber")


def make_issue(label: str):
    from django.utils import timezone

    from newsletters.models import Entry, Issue

    entry, _ = Entry.objects.get_or_create(
        slug="bench-newsletter",
        month=timezone.now().date().replace(day=1),
        defaults={
            "title": "Benchmark entry",
            "title_es": "Entrada de prueba",
            "summary": "Used by make bench only.",
            "body": "A paragraph of **Markdown** with [a link](https://example.org/).",
            "body_es": "Un párrafo de **Markdown** con [un enlace](https://example.org/).",
            "is_published": True,
            "pub_date": timezone.now() - timezone.timedelta(days=1),
        },
    )
    issue = Issue.objects.create(subject=label, subject_es=label)
    issue.entries.set([entry])
    return issue


def cleanup(issue_ids) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM newsletters_delivery WHERE issue_id = ANY(%s)", [issue_ids]
        )
        cursor.execute(
            "DELETE FROM newsletters_issue_entries WHERE issue_id = ANY(%s)",
            [issue_ids],
        )
        cursor.execute("DELETE FROM newsletters_issue WHERE id = ANY(%s)", [issue_ids])
        cursor.execute("DELETE FROM procrastinate_jobs WHERE queue_name = 'newsletter'")


def start_worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [
            PYTHON,
            "manage.py",
            "procrastinate",
            "worker",
            "--queues",
            "newsletter",
            "--concurrency",
            "1",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop(process: subprocess.Popen, sig=signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def progress(issue_id: int) -> dict:
    from newsletters import services
    from newsletters.models import Issue

    issue = Issue.objects.get(pk=issue_id)
    return {**services.issue_progress(issue=issue), "status": issue.status}


def wait_until(predicate, timeout: float, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return None


def copies(sink_path: str, label: str) -> Counter:
    counts = Counter()
    with open(sink_path) as handle:
        for line in handle:
            subject, _space, recipient = line.rstrip("\n").rpartition(" ")
            if subject == label:
                counts[recipient] += 1
    return counts


def main() -> None:
    subscribers = int(os.environ.get("BENCH_NEWSLETTER_SUBSCRIBERS", "5000"))
    queue_size = int(os.environ.get("BENCH_NEWSLETTER_QUEUE", "1000000"))
    port = free_port()
    sink_path = tempfile.mktemp(prefix="newsletter-sink-", suffix=".txt")
    env = {
        **os.environ,
        "DJANGO_ENV": os.environ.get("DJANGO_ENV", "development"),
        "EMAIL_URL": f"smtp://127.0.0.1:{port}",
        "NEWSLETTER_RATE_PER_SECOND": "0",  # no throttle: measure SMTP
        "NEWSLETTER_LEASE_SECONDS": "3",
        "NEWSLETTER_BATCH_SIZE": "200",
        "NEWSLETTER_PARALLEL_BATCHES": "4",
    }
    sink = subprocess.Popen(
        [PYTHON, __file__, "--sink", str(port), sink_path],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    wait_for_port(port)
    setup_django(env)
    from django.db import connection

    from newsletters import delivery, services

    lines = []
    issues = []
    workers = []
    try:
        seed_subscribers(subscribers)
        bench_addresses = {f"nl-{n}@bench.example" for n in range(1, subscribers + 1)}

        # 1. Throughput ---------------------------------------------------------
        workers = [start_worker(env) for _ in range(2)]
        time.sleep(3)  # let the workers start and listen
        issue = make_issue(f"bench-{int(time.time())}-a")
        issues.append(issue.pk)
        started = time.monotonic()
        queued = services.issue_queue(issue=issue)
        done = wait_until(
            lambda: progress(issue.pk)["status"] == "sent", timeout=600, step=0.1
        )
        elapsed = time.monotonic() - started
        counts = copies(sink_path, issue.subject)
        exact = sum(1 for address in bench_addresses if counts[address] == 1)
        duplicates = sum(1 for n in counts.values() if n > 1)
        rate = queued / elapsed
        print(
            f"throughput: {queued} messages in {elapsed:.1f} s = {rate:.0f}/s "
            f"(2 workers, 1 SMTP connection per batch of 200); "
            f"{exact}/{subscribers} bench subscribers got exactly one copy, "
            f"{duplicates} duplicates{'' if done else ' - DID NOT FINISH'}"
        )
        lines.append(
            f"newsletter send: {rate:.0f} messages/s to a local SMTP sink "
            f"({queued} recipients, 2 workers); exactly one copy each: "
            f"{'yes' if exact == subscribers and not duplicates else 'NO'}"
        )

        # 2. A worker killed mid-send -----------------------------------------
        issue = make_issue(f"bench-{int(time.time())}-b")
        issues.append(issue.pk)
        services.issue_queue(issue=issue)
        wait_until(
            lambda: progress(issue.pk)["sent"] >= queued // 3, timeout=300, step=0.01
        )
        victim = workers.pop(0)
        stop(victim, signal.SIGKILL)
        killed_at = progress(issue.pk)
        # The surviving worker drains what is claimable; the dead claim waits
        # for its lease (3 s here) and the minute tick's rule.
        wait_until(lambda: progress(issue.pk)["queued"] == 0, timeout=300, step=0.1)
        time.sleep(3.5)
        in_doubt, requeued = delivery.reconcile_expired()
        delivery.start_batches(issue_id=issue.pk)
        workers.append(start_worker(env))
        done = wait_until(
            lambda: progress(issue.pk)["status"] == "sent", timeout=300, step=0.1
        )
        final = progress(issue.pk)
        # The workers' own minute tick may have applied the rule first.
        in_doubt = services.issue_in_doubt_count(issue=issue)
        counts = copies(sink_path, issue.subject)
        duplicates = sum(1 for n in counts.values() if n > 1)
        zero = [a for a in bench_addresses if counts[a] == 0]
        exact = sum(1 for a in bench_addresses if counts[a] == 1)
        print(
            f"kill: SIGKILL at {killed_at['sent']} sent; lease rule: {in_doubt} in "
            f"doubt, {requeued} queued again (by this script; the workers' minute "
            f"tick may do it first); final {final}; "
            f"{exact}/{subscribers} exactly one copy, {len(zero)} none, "
            f"{duplicates} duplicates{'' if done else ' - DID NOT FINISH'}"
        )
        ok = duplicates == 0 and len(zero) <= in_doubt <= 1 and bool(done)
        lines.append(
            f"newsletter kill -9 mid-send: {duplicates} duplicates, "
            f"{exact}/{subscribers} exactly one copy, {len(zero)} in doubt and "
            f"not delivered (the at-most-once rule, shown in the admin): "
            f"{'as designed' if ok else 'UNEXPECTED'}"
        )
        for worker in workers:
            stop(worker)
        workers = []

        # 3. The shared throttle ----------------------------------------------
        throttled_env = {**env, "NEWSLETTER_RATE_PER_SECOND": "200"}
        workers = [start_worker(throttled_env) for _ in range(2)]
        time.sleep(3)
        issue = make_issue(f"bench-{int(time.time())}-c")
        issues.append(issue.pk)
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM newsletters_sendthrottle")
        started = time.monotonic()
        services.issue_queue(issue=issue)
        sample = min(2000, queued)
        wait_until(lambda: progress(issue.pk)["sent"] >= sample, timeout=300, step=0.05)
        elapsed = time.monotonic() - started
        sent = progress(issue.pk)["sent"]
        throttled = sent / elapsed
        print(f"throttle: limit 200/s over 2 workers, measured {throttled:.0f}/s")
        lines.append(
            f"newsletter throttle: limit 200/s shared by 2 workers, measured "
            f"{throttled:.0f}/s ({'held' if throttled <= 200 * 1.05 else 'EXCEEDED'})"
        )
        for worker in workers:
            stop(worker)
        workers = []
        cleanup(issues)
        issues = []

        # 4. Queuing a million ------------------------------------------------
        if queue_size:
            seeding = time.monotonic()
            seed_subscribers(queue_size)
            print(
                f"seeded {queue_size} subscribers in {time.monotonic() - seeding:.1f} s"
            )
            issue = make_issue(f"bench-{int(time.time())}-d")
            issues.append(issue.pk)
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            started = time.monotonic()
            queued = services.issue_queue(issue=issue)
            elapsed = time.monotonic() - started
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(
                f"queue: {queued} deliveries in {elapsed:.1f} s; process peak "
                f"{peak:.0f} MB (was {before:.0f} MB before)"
            )
            lines.append(
                f"newsletter queue of {queued} recipients: {elapsed:.1f} s, "
                f"peak memory of the queuing process {peak:.0f} MB "
                f"(+{peak - before:.0f} MB)"
            )
    finally:
        for worker in workers:
            stop(worker)
        if issues:
            cleanup(issues)
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM newsletters_subscriber WHERE consent_version = %s",
                [BENCH_CONSENT],
            )
        stop(sink)
        Path(sink_path).unlink(missing_ok=True)
    print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--sink":
        asyncio.set_event_loop(asyncio.new_event_loop())
        run_sink(int(sys.argv[2]), sys.argv[3])
    else:
        main()
