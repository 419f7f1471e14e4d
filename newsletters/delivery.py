"""Sending an issue: batches of deliveries, a lease rule, a shared throttle.

Every (issue, subscriber) pair has one Delivery row (a unique constraint), and
its state says what happened:

    queued --claim--> sending --the SMTP server accepted it--> sent
                        |--temporary refusal (4xx)--> queued, later (back-off),
                        |                             failed after MAX_ATTEMPTS
                        |--permanent refusal (5xx)--> failed, or bounced when the
                        |                             address itself is refused
                        '--the worker died or lost the server mid-message
                             --> queued again, same Message-ID (below),
                                 failed after MAX_ATTEMPTS
    queued or sending, subscriber gone --> cancelled
    sent --provider's bounce webhook--> bounced

What is exactly-once, and how:

SMTP alone cannot give it: the server may commit a message just before the
sender dies, before the sender can write down that it did. So the transport
is at-least-once and the receiving end is idempotent: every attempt at one
delivery carries the same Message-ID (emails.issue_message_id), which by
RFC 5322 makes a retransmission the same message, and Gmail and many mail
programs file a repeat of a Message-ID as one message. What the rules below
guarantee: each subscriber is sent one Message-ID per issue, at least once
(unless the server refuses it or MAX_ATTEMPTS runs out), and transmitted a
second time only after an interruption mid-message.

1. A batch claims rows with SELECT ... FOR UPDATE SKIP LOCKED and commits them
   as `sending`, with its own claim id and a lease, before any SMTP traffic;
   two workers never hold the same row.
2. It sends its rows one at a time, in id order, over one SMTP connection,
   and marks each `sent` in its own committed UPDATE as soon as the server
   has accepted it, before touching the next. `sent` is final: no code moves
   a sent row back to `queued`. So a row marked sent is never transmitted
   again.
3. Hence, in a claim whose worker died (its lease ran out without being
   renewed), the rows before the lowest-id row still `sending` are settled,
   the rows after it were never handed to SMTP, and only that one row is in
   doubt: the server may have accepted it just before the crash, or not.
4. The rule for an expired lease (`reconcile_expired`): the in-doubt row goes
   back to `queued`, counted in its `retransmitted` column, and the next
   batch transmits it again under the same Message-ID: nothing is dropped,
   and if the first transmission did arrive, the person still has one
   message. The rest of the claim goes back to `queued` as well. A row that
   has had MAX_ATTEMPTS is `failed` instead, so a message that kills its
   worker every time cannot loop. A connection that breaks mid-message in
   `send_batch` is the same doubt and is handled the same way (after a
   back-off). The admin's progress page shows how many were retransmitted.
5. A worker that was only slow and finds its lease taken (a mark or a lease
   renewal that updates no row) stops at once: after a reconciliation it can
   at most finish the one message it was already sending, which the rule has
   queued again: one more transmission of the same Message-ID, never a
   second message. A database restart is the same case: the mark fails, the
   worker stops, the lease runs out, the rule applies.

The throttle is a token bucket in one PostgreSQL row, refilled by the
database clock and taken from with one atomic UPDATE, so the provider's rate
holds across any number of workers and hosts.
"""

import datetime
import logging
import smtplib
import time
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import get_connection
from django.db import DatabaseError, connection, transaction
from procrastinate import exceptions as procrastinate_exceptions

from core.emails import smtp_code

from .emails import issue_message, issue_render
from .models import Issue

logger = logging.getLogger(__name__)

IN_DOUBT = "interrupted while sending: queued again with the same Message-ID"
GAVE_UP_IN_DOUBT = "gave up: interrupted while sending at every attempt"
MAX_ATTEMPTS = 6
THROTTLE_NAME = "smtp"
# pg_advisory_xact_lock key: one reconciler at a time, so a dead claim is
# never split between two, each finding a different "first" row.
RECONCILE_LOCK_KEY = 0x4E45_5753  # "NEWS"


def backoff(attempts: int) -> datetime.timedelta:
    """1, 2, 4, 8 ... minutes between attempts, at most an hour."""
    return datetime.timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 3600))


@dataclass
class Claimed:
    delivery_id: int
    subscriber_id: int
    attempts: int
    email: str
    language: str
    subscriber_status: str


@dataclass
class BatchResult:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    bounced: int = 0
    retrying: int = 0
    cancelled: int = 0
    # Interrupted mid-message, so queued again for the same Message-ID.
    in_doubt: int = 0
    released: int = 0
    errors: list[str] = field(default_factory=list)


class LeaseLost(Exception):
    """Another worker reconciled this claim: stop sending at once."""


# ------------------------------------------------------------------------------
# Claiming and marking rows; each statement commits on its own (autocommit).
# ------------------------------------------------------------------------------
_CLAIM_SQL = """
    WITH picked AS (
        SELECT d.id FROM newsletters_delivery d
        WHERE d.issue_id = %(issue_id)s AND d.state = 'queued'
          AND d.next_attempt_at <= statement_timestamp()
        ORDER BY d.id
        LIMIT %(size)s
        FOR UPDATE SKIP LOCKED
    )
    UPDATE newsletters_delivery d
    SET state = 'sending', claim = %(claim)s,
        lease_until = now() + make_interval(secs => %(lease)s),
        attempts = d.attempts + 1, updated_at = now()
    FROM picked, newsletters_subscriber s
    WHERE d.id = picked.id AND s.id = d.subscriber_id
    RETURNING d.id, d.subscriber_id, d.attempts, s.email, s.language, s.status
"""


def claim(
    *, issue_id: int, size: int, lease_seconds: int
) -> tuple[uuid.UUID, list[Claimed]]:
    claim_id = uuid.uuid4()
    with connection.cursor() as cursor:
        cursor.execute(
            _CLAIM_SQL,
            {
                "issue_id": issue_id,
                "size": size,
                "claim": claim_id,
                "lease": lease_seconds,
            },
        )
        rows = [Claimed(*row) for row in cursor.fetchall()]
    rows.sort(key=lambda row: row.delivery_id)
    return claim_id, rows


def _mark(delivery_id: int, claim_id: uuid.UUID, sql_set: str, params=()) -> None:
    """Settle one row of our claim, or raise LeaseLost if it is no longer ours."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE newsletters_delivery
            SET {sql_set}, claim = NULL, lease_until = NULL, updated_at = now()
            WHERE id = %s AND claim = %s AND state = 'sending'
            """,
            [*params, delivery_id, claim_id],
        )
        if cursor.rowcount != 1:
            raise LeaseLost(delivery_id)


def _renew(claim_id: uuid.UUID, lease_seconds: int, remaining: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE newsletters_delivery
            SET lease_until = now() + make_interval(secs => %s)
            WHERE claim = %s AND state = 'sending'
            """,
            [lease_seconds, claim_id],
        )
        if cursor.rowcount < remaining:
            raise LeaseLost(claim_id)


def _release(claim_id: uuid.UUID, *, delay: datetime.timedelta) -> int:
    """Give back the rows of our claim that were never handed to SMTP."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE newsletters_delivery
            SET state = CASE WHEN attempts >= %s THEN 'failed' ELSE 'queued' END,
                last_error = CASE WHEN attempts >= %s
                    THEN 'gave up: the mail server could not be reached'
                    ELSE last_error END,
                next_attempt_at = now() + make_interval(secs => %s),
                claim = NULL, lease_until = NULL, updated_at = now()
            WHERE claim = %s AND state = 'sending'
            """,
            [MAX_ATTEMPTS, MAX_ATTEMPTS, delay.total_seconds(), claim_id],
        )
        return cursor.rowcount


# ------------------------------------------------------------------------------
# The throttle
# ------------------------------------------------------------------------------
_TAKE_SQL = """
    UPDATE newsletters_sendthrottle t
    SET tokens = s.available - LEAST(%(want)s, FLOOR(s.available)),
        updated_at = s.at
    FROM (
        SELECT id, clock_timestamp() AS at,
               LEAST(%(burst)s, tokens + %(rate)s * GREATEST(0,
                   EXTRACT(EPOCH FROM clock_timestamp() - updated_at)))
                   AS available
        FROM newsletters_sendthrottle WHERE name = %(name)s FOR UPDATE
    ) s
    WHERE t.id = s.id
    RETURNING LEAST(%(want)s, FLOOR(s.available))::int, s.available
"""


def throttle_take(*, want: int, rate: float, name: str = THROTTLE_NAME) -> int:
    """Take up to `want` send permits from the shared bucket, waiting for at
    least one. The bucket holds at most one second's worth."""
    if rate <= 0:
        return want
    burst = max(1.0, rate)
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO newsletters_sendthrottle (name, tokens, updated_at) "
                "VALUES (%s, 0, clock_timestamp()) ON CONFLICT (name) DO NOTHING",
                [name],
            )
            cursor.execute(
                _TAKE_SQL, {"want": want, "rate": rate, "burst": burst, "name": name}
            )
            granted, available = cursor.fetchone()
        if granted > 0:
            return granted
        time.sleep(max(0.005, (1 - float(available)) / rate))


# ------------------------------------------------------------------------------
# One batch
# ------------------------------------------------------------------------------
def send_batch(
    *,
    issue: Issue,
    size: int | None = None,
    lease_seconds: int | None = None,
    rate: float | None = None,
    rendered_cache: dict | None = None,
) -> BatchResult:
    """Claim up to `size` deliveries of an issue and send them over one SMTP
    connection, within the shared rate. See the module docstring."""
    from . import services

    size = size or settings.NEWSLETTER_BATCH_SIZE
    lease_seconds = lease_seconds or settings.NEWSLETTER_LEASE_SECONDS
    rate = settings.NEWSLETTER_RATE_PER_SECOND if rate is None else rate
    rendered_cache = {} if rendered_cache is None else rendered_cache
    result = BatchResult()
    claim_id, rows = claim(issue_id=issue.pk, size=size, lease_seconds=lease_seconds)
    result.claimed = len(rows)
    if not rows:
        return result
    smtp = get_connection()
    try:
        smtp.open()
    except Exception as error:
        # Nothing was handed over: every row goes back, for later.
        logger.warning(
            "Issue %s: cannot reach the mail server (%s)",
            issue.pk,
            type(error).__name__,
        )
        result.released = _release(claim_id, delay=backoff(rows[0].attempts))
        result.errors.append(type(error).__name__)
        return result
    permits = 0
    renewed_at = time.monotonic()
    try:
        for index, row in enumerate(rows):
            if time.monotonic() - renewed_at > lease_seconds / 3:
                _renew(claim_id, lease_seconds, remaining=len(rows) - index)
                renewed_at = time.monotonic()
            if row.subscriber_status != "confirmed":
                _mark(row.delivery_id, claim_id, "state = 'cancelled'")
                result.cancelled += 1
                continue
            if permits == 0:
                permits = throttle_take(want=len(rows) - index, rate=rate)
            permits -= 1
            rendered = rendered_cache.get(row.language)
            if rendered is None:
                rendered = rendered_cache[row.language] = issue_render(
                    issue, row.language
                )
            message = issue_message(
                rendered, to=row.email, subscriber_id=row.subscriber_id, connection=smtp
            )
            try:
                smtp.send_messages([message])
            except (
                smtplib.SMTPRecipientsRefused,
                smtplib.SMTPResponseException,
            ) as error:
                code = smtp_code(error) or 0
                reason = f"{type(error).__name__} {code}"
                if 400 <= code < 500 and row.attempts < MAX_ATTEMPTS:
                    _mark(
                        row.delivery_id,
                        claim_id,
                        "state = 'queued', last_error = %s, "
                        "next_attempt_at = now() + make_interval(secs => %s)",
                        [reason, backoff(row.attempts).total_seconds()],
                    )
                    result.retrying += 1
                elif isinstance(error, smtplib.SMTPRecipientsRefused) and code >= 500:
                    _mark(
                        row.delivery_id,
                        claim_id,
                        "state = 'bounced', last_error = %s",
                        [reason],
                    )
                    services.subscriber_mark_undeliverable(
                        email=row.email, reason="bounced"
                    )
                    result.bounced += 1
                else:
                    _mark(
                        row.delivery_id,
                        claim_id,
                        "state = 'failed', last_error = %s",
                        [reason],
                    )
                    result.failed += 1
                if isinstance(error, smtplib.SMTPServerDisconnected):
                    break
                continue
            except Exception as error:
                # The connection broke mid-message: the server may or may not
                # have taken it. Transmit it again later with the same
                # Message-ID (see the module docstring).
                if row.attempts < MAX_ATTEMPTS:
                    _mark(
                        row.delivery_id,
                        claim_id,
                        "state = 'queued', last_error = %s, "
                        "retransmitted = retransmitted + 1, "
                        "next_attempt_at = now() + make_interval(secs => %s)",
                        [IN_DOUBT, backoff(row.attempts).total_seconds()],
                    )
                    result.in_doubt += 1
                else:
                    _mark(
                        row.delivery_id,
                        claim_id,
                        "state = 'failed', last_error = %s",
                        [GAVE_UP_IN_DOUBT],
                    )
                    result.failed += 1
                result.errors.append(type(error).__name__)
                logger.warning(
                    "Issue %s: delivery %s interrupted mid-message (%s); "
                    "queued again with the same Message-ID",
                    issue.pk,
                    row.delivery_id,
                    type(error).__name__,
                )
                break
            _mark(row.delivery_id, claim_id, "state = 'sent', sent_at = now()")
            result.sent += 1
    except LeaseLost:
        logger.error("Issue %s: claim %s was taken over; stopping", issue.pk, claim_id)
        result.errors.append("LeaseLost")
        return result
    finally:
        try:
            smtp.close()
        except Exception:
            # A connection that broke is closed either way.
            pass
    try:
        result.released = _release(claim_id, delay=datetime.timedelta(seconds=30))
    except DatabaseError:
        # The lease rule will give these rows back.
        logger.warning("Issue %s: could not release claim %s", issue.pk, claim_id)
    return result


# ------------------------------------------------------------------------------
# Whole sends
# ------------------------------------------------------------------------------
def reconcile_expired() -> tuple[int, int]:
    """Apply the lease rule to claims whose worker stopped renewing them.

    Returns (rows in doubt, queued again for the same Message-ID or failed
    after MAX_ATTEMPTS; the other rows of those claims, queued again).
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [RECONCILE_LOCK_KEY])
        if not cursor.fetchone()[0]:
            return 0, 0
        cursor.execute(
            """
            SELECT id, claim FROM newsletters_delivery
            WHERE state = 'sending' AND lease_until < statement_timestamp()
            ORDER BY claim, id
            FOR UPDATE
            """
        )
        in_doubt, requeue, seen = [], [], set()
        for delivery_id, claim_id in cursor.fetchall():
            if claim_id in seen:
                requeue.append(delivery_id)
            else:
                seen.add(claim_id)
                in_doubt.append(delivery_id)
        if in_doubt:
            cursor.execute(
                """
                UPDATE newsletters_delivery
                SET state = CASE WHEN attempts >= %(max)s
                        THEN 'failed' ELSE 'queued' END,
                    last_error = CASE WHEN attempts >= %(max)s
                        THEN %(gave_up)s ELSE %(in_doubt)s END,
                    retransmitted = retransmitted
                        + CASE WHEN attempts >= %(max)s THEN 0 ELSE 1 END,
                    next_attempt_at = now(), claim = NULL, lease_until = NULL,
                    updated_at = now()
                WHERE id = ANY(%(ids)s)
                """,
                {
                    "max": MAX_ATTEMPTS,
                    "gave_up": GAVE_UP_IN_DOUBT,
                    "in_doubt": IN_DOUBT,
                    "ids": in_doubt,
                },
            )
        if requeue:
            cursor.execute(
                """
                UPDATE newsletters_delivery
                SET state = 'queued', claim = NULL, lease_until = NULL,
                    next_attempt_at = now(), updated_at = now()
                WHERE id = ANY(%s)
                """,
                [requeue],
            )
    if in_doubt:
        logger.warning(
            "Reconciled %s expired claims: %s deliveries in doubt queued again "
            "with the same Message-ID (or failed after %s attempts), "
            "%s others queued again",
            len(in_doubt),
            len(in_doubt),
            MAX_ATTEMPTS,
            len(requeue),
        )
    return len(in_doubt), len(requeue)


def finish_if_done(issue_id: int) -> bool:
    """Mark a send finished once no delivery is queued or being sent."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE newsletters_issue SET status = 'sent', finished_at = now(),
                updated_at = now()
            WHERE id = %s AND status = 'sending' AND NOT EXISTS (
                SELECT 1 FROM newsletters_delivery
                WHERE issue_id = %s AND state IN ('queued', 'sending'))
            """,
            [issue_id, issue_id],
        )
        return cursor.rowcount == 1


def next_attempt_in(issue_id: int) -> float | None:
    """Seconds until the next queued delivery of an issue is due, or None."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT EXTRACT(EPOCH FROM MIN(next_attempt_at) - now())
            FROM newsletters_delivery WHERE issue_id = %s AND state = 'queued'
            """,
            [issue_id],
        )
        seconds = cursor.fetchone()[0]
    return None if seconds is None else max(0.0, float(seconds))


def send_issue(*, issue_id: int, **batch_options) -> BatchResult:
    """Send batches of an issue until none is due; what one task does.

    Several of these run side by side (on several workers); each claims its
    own rows. When only rows waiting for a retry remain, a task is scheduled
    for when the first is due.
    """
    total = BatchResult()
    issue = Issue.objects.filter(pk=issue_id).first()
    if issue is None or issue.status != Issue.Status.SENDING:
        return total
    rendered_cache: dict = {}
    while True:
        result = send_batch(issue=issue, rendered_cache=rendered_cache, **batch_options)
        for name in ("claimed", "sent", "failed", "bounced", "retrying", "cancelled",
                     "in_doubt", "released"):  # fmt: skip
            setattr(total, name, getattr(total, name) + getattr(result, name))
        total.errors += result.errors
        if not result.claimed or result.errors:
            break
    if finish_if_done(issue_id):
        logger.info("Issue %s: every delivery settled", issue_id)
        return total
    wait = next_attempt_in(issue_id)
    if wait is not None:
        start_batches(issue_id=issue_id, delay=max(wait, 1.0), parallel=1)
    return total


def start_batches(
    *, issue_id: int, parallel: int | None = None, delay: float | None = None
) -> int:
    """Defer the batch tasks of an issue, at most `parallel` waiting at once.

    Deferred through Django's connection: inside the caller's transaction,
    so the tasks exist if and only if the queued rows do.
    """
    from .tasks import send_issue_batches

    parallel = parallel or settings.NEWSLETTER_PARALLEL_BATCHES
    deferred = 0
    for lane in range(parallel):
        # One waiting task per lane; a retry for later has a lane of its own.
        lane_name = "later" if delay else lane
        options = {"queueing_lock": f"newsletter-issue-{issue_id}-{lane_name}"}
        if delay:
            options["schedule_in"] = {"seconds": int(delay)}
        try:
            with transaction.atomic():
                send_issue_batches.configure(**options).defer(issue_id=issue_id)
        except procrastinate_exceptions.AlreadyEnqueued:
            continue
        deferred += 1
    return deferred
