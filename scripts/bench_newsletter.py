"""`make bench`, newsletter part: send rate, one copy each after a kill, queue scale.

Run from scripts/bench.sh (or alone: `.venv/bin/python scripts/bench_newsletter.py`):

1. Throughput: N subscribers (BENCH_NEWSLETTER_SUBSCRIBERS, default 5000), two
   Procrastinate workers (`manage.py procrastinate worker`), each batch over
   one reused SMTP connection to a local aiosmtpd sink in its own process;
   then a check of every subscriber's mailbox (below).
2. A kill: the same send again (a new issue), one worker killed with SIGKILL
   part-way; after the lease runs out the lease rule is applied (what the
   minute tick does) and a fresh worker finishes. The same mailbox check.

   The sink is a model of the subscribers' mailboxes: it records recipient,
   Message-ID and subject of every transmission it accepts. A mailbox holds
   one message per distinct Message-ID (what RFC 5322 and mail programs go
   by), so the check is: every subscriber has exactly one Message-ID for the
   issue, none has none, none has two different ones (a true duplicate), and
   no Message-ID reaches two people. Transport retransmissions of an already
   accepted Message-ID (0 or 1 per killed worker: the message in flight when
   it died) are counted and printed apart.
3. The throttle: NEWSLETTER_RATE_PER_SECOND=200 across both workers; the
   measured rate must not exceed it.
4. Scale: queuing one issue for 1,000,000 subscribers
   (BENCH_NEWSLETTER_QUEUE, default 1000000): seconds, and the peak memory
   of the process that queues it.

Uses the database of the environment (bench.sh sets peru_campaign_bench) and
removes what it added. Prints "newsletter ..." summary lines at the end.
"""

import asyncio
import ctypes
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
BENCH_CONSENT = "bench-newsletter"


# ------------------------------------------------------------------------------
# The SMTP sink: a separate process, so it does not share the senders' CPU time
# slice; it records "<recipient>\t<Message-ID>\t<subject>" per accepted message.
# ------------------------------------------------------------------------------
def run_sink(port: int, path: str) -> None:
    from email.parser import BytesHeaderParser
    from email.policy import compat32

    from aiosmtpd.controller import Controller

    out = open(path, "a", buffering=1)
    parser = BytesHeaderParser(policy=compat32)

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            headers = parser.parsebytes(envelope.content)
            message_id = " ".join(str(headers.get("Message-ID", "")).split())
            subject = " ".join(str(headers.get("Subject", "")).split())
            for recipient in envelope.rcpt_tos:
                out.write(f"{recipient}\t{message_id}\t{subject}\n")
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


def _die_with_this_script() -> None:
    """In each child: SIGKILL when this script ends, however it ends. The
    children run in sessions of their own (so that a kill reaches a worker's
    whole group); left running after an interrupted bench, two workers with
    a dead sink's address took the next run's batches and cut its rate to
    25 messages/s."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


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
        preexec_fn=_die_with_this_script,
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


def mailboxes(sink_path: str, label: str) -> dict[str, Counter]:
    """Per recipient, the transmissions of each Message-ID with this subject."""
    boxes: dict[str, Counter] = {}
    with open(sink_path) as handle:
        for line in handle:
            recipient, message_id, subject = line.rstrip("\n").split("\t", 2)
            if subject == label:
                boxes.setdefault(recipient, Counter())[message_id] += 1
    return boxes


@dataclass
class MailboxCheck:
    subscribers: int
    one: int  # exactly one distinct Message-ID: one message in the mailbox
    none: int  # no copy at all: a dropped newsletter
    several: int  # two or more distinct Message-IDs: a true duplicate
    shared: int  # Message-IDs found in more than one mailbox
    strangers: int  # recipients who are not bench subscribers
    transmissions: int
    retransmissions: int  # repeats of an already accepted Message-ID

    @property
    def ok(self) -> bool:
        return self.one == self.subscribers and not (
            self.none or self.several or self.shared or self.strangers
        )

    def __str__(self) -> str:
        return (
            f"{self.one}/{self.subscribers} mailboxes hold exactly one message "
            f"(one Message-ID), {self.none} none, {self.several} two different "
            f"Message-IDs, {self.shared} Message-IDs in two mailboxes; "
            f"{self.transmissions} transmissions, of which {self.retransmissions} "
            f"retransmitted an already accepted Message-ID"
        )


def check_mailboxes(sink_path: str, label: str, addresses: set[str]) -> MailboxCheck:
    boxes = mailboxes(sink_path, label)
    owners = Counter(message_id for box in boxes.values() for message_id in box)
    return MailboxCheck(
        subscribers=len(addresses),
        one=sum(1 for a in addresses if len(boxes.get(a, ())) == 1),
        none=sum(1 for a in addresses if not boxes.get(a)),
        several=sum(1 for a in addresses if len(boxes.get(a, ())) > 1),
        shared=sum(1 for n in owners.values() if n > 1),
        strangers=len(set(boxes) - addresses),
        transmissions=sum(n for box in boxes.values() for n in box.values()),
        retransmissions=sum(n - 1 for box in boxes.values() for n in box.values()),
    )


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
        preexec_fn=_die_with_this_script,
    )
    wait_for_port(port)
    setup_django(env)
    from django.db import connection

    from newsletters import delivery, services

    lines = []
    # Mailbox checks that failed: the script then exits 1 (and `make bench` too).
    wrong = []
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
        check = check_mailboxes(sink_path, issue.subject, bench_addresses)
        rate = queued / elapsed
        print(
            f"throughput: {queued} messages in {elapsed:.1f} s = {rate:.0f}/s "
            f"(2 workers, 1 SMTP connection per batch of 200); "
            f"{check}{'' if done else ' - DID NOT FINISH'}"
        )
        lines.append(
            f"newsletter send: {rate:.0f} messages/s to a local SMTP sink "
            f"({queued} recipients, 2 workers); exactly one message in each "
            f"mailbox: {'yes' if check.ok and done else 'NO'}"
        )
        if not (check.ok and done):
            wrong.append("throughput run")

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
        services.issue_batches_start(issue_id=issue.pk)
        workers.append(start_worker(env))
        done = wait_until(
            lambda: progress(issue.pk)["status"] == "sent", timeout=300, step=0.1
        )
        final = progress(issue.pk)
        # The workers' own minute tick may have applied the rule first.
        retransmitted = services.issue_retransmitted_count(issue=issue)
        check = check_mailboxes(sink_path, issue.subject, bench_addresses)
        print(
            f"kill: SIGKILL at {killed_at['sent']} sent; lease rule: {in_doubt} in "
            f"doubt and {requeued} others queued again (by this script; the "
            f"workers' minute tick may do it first), {retransmitted} delivery row(s) "
            f"queued again after an interruption; final {final}; "
            f"{check}{'' if done else ' - DID NOT FINISH'}"
        )
        lines.append(
            f"newsletter kill -9 mid-send: {check.one}/{subscribers} mailboxes "
            f"hold exactly one message, {check.none} none, {check.several} with "
            f"two different Message-IDs: {'yes' if check.ok and done else 'NO'}; "
            f"{check.retransmissions} transport retransmission(s) of an accepted "
            f"Message-ID (expected 0 or 1 for the 1 killed worker)"
        )
        if not (check.ok and done):
            wrong.append("kill run")
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
    if wrong:
        sys.exit(f"newsletter mailbox check FAILED: {', '.join(wrong)}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--sink":
        asyncio.set_event_loop(asyncio.new_event_loop())
        run_sink(int(sys.argv[2]), sys.argv[3])
    else:
        main()
