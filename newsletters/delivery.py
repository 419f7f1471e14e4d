"""The delivery engine: batches of delivery rows, a lease rule, a shared throttle.

It sends two kinds of e-mail, each from its own table of delivery rows
described by an `Outbox`: newsletter issues (Delivery, one row per issue and
subscriber) and milestone notes (organising's MilestoneNote, one row per
milestone and signature). A row's state says what happened:

    queued --claim--> sending --the SMTP server accepted it--> sent
                        |--temporary refusal (4xx)--> queued, later (back-off),
                        |                             failed after MAX_ATTEMPTS
                        |--permanent refusal (5xx)--> failed, or bounced when the
                        |                             address itself is refused
                        '--the worker died or lost the server mid-message
                             --> queued again, same Message-ID (below),
                                 failed after MAX_ATTEMPTS
    queued or sending, recipient no longer wants it --> cancelled
    sent --provider's bounce webhook--> bounced

What is exactly-once, and how:

SMTP alone cannot give it: the server may commit a message just before the
sender dies, before the sender can write down that it did. So the transport
is at-least-once and the receiving end is idempotent: every attempt at one
delivery carries the same Message-ID (core.emails.stable_message_id), which
by RFC 5322 makes a retransmission the same message, and Gmail and many mail
programs file a repeat of a Message-ID as one message. What the rules below
guarantee: each recipient is sent one Message-ID per issue or note, at least
once (unless the server refuses it or MAX_ATTEMPTS runs out), and
transmitted a second time only after an interruption mid-message.

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
holds across any number of workers and hosts, for issues and notes together.

Why a description of each table rather than one table with a kind: a note's
row points at a milestone and a signature, which live in apps above this one
(the dependency order is in docs/architecture.md), so one shared table could
not hold real foreign keys to both kinds of parent and recipient. Each table
keeps its own constraints and indexes; the SQL that moves rows between states
is written once, here.
"""

import datetime
import logging
import smtplib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import DatabaseError, connection, transaction
from django.db.models import QuerySet

from core.emails import smtp_close, smtp_code

from . import services
from .emails import issue_message, issue_render
from .models import Issue, Subscriber

logger = logging.getLogger(__name__)

IN_DOUBT = "interrupted while sending: queued again with the same Message-ID"
GAVE_UP_IN_DOUBT = "gave up: interrupted while sending at every attempt"
MAX_ATTEMPTS = 6
THROTTLE_NAME = "smtp"


@dataclass(frozen=True)
class Outbox:
    """A table of delivery rows and how to send one of them.

    The table has the columns of newsletters.models.Delivery (state, attempts,
    next_attempt_at, claim, lease_until, sent_at, last_error, retransmitted,
    updated_at), a parent column (what is sent) and a recipient column (to
    whom), unique together.
    """

    # Names the parent in log lines ("Issue 12: ...").
    label: str
    table: str
    parent_column: str
    recipient_column: str
    # pg_advisory_xact_lock key: one reconciler per table at a time, so a
    # dead claim is never split between two, each finding a different
    # "first" row.
    reconcile_lock_key: int
    # The recipients who still want the parent's message (a queryset of the
    # recipient rows). A claimed row whose recipient is not among them is
    # cancelled rather than sent.
    recipients: Callable[[Any], QuerySet]
    # The message for one recipient: (parent, recipient, cache), where the
    # cache lives as long as one send and holds what is the same for many
    # recipients (an issue rendered once per language).
    message: Callable[[Any, Any, dict], EmailMessage]


def _issue_message(issue: Issue, subscriber: Subscriber, cache: dict) -> EmailMessage:
    rendered = cache.get(subscriber.language)
    if rendered is None:
        rendered = cache[subscriber.language] = issue_render(issue, subscriber.language)
    return issue_message(rendered, to=subscriber.email, subscriber_id=subscriber.pk)


ISSUES = Outbox(
    label="Issue",
    table="newsletters_delivery",
    parent_column="issue_id",
    recipient_column="subscriber_id",
    reconcile_lock_key=0x4E45_5753,  # "NEWS"
    recipients=lambda issue: Subscriber.objects.receiving(),
    message=_issue_message,
)


def backoff(attempts: int) -> datetime.timedelta:
    """1, 2, 4, 8 ... minutes between attempts, at most an hour."""
    return datetime.timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 3600))


@dataclass
class Claimed:
    delivery_id: int
    recipient_id: int
    attempts: int


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

    def add(self, other: "BatchResult") -> None:
        for counter in fields(self):
            setattr(
                self,
                counter.name,
                getattr(self, counter.name) + getattr(other, counter.name),
            )


class LeaseLost(Exception):
    """Another worker reconciled this claim: stop sending at once."""


# ------------------------------------------------------------------------------
# Claiming and marking rows; each statement commits on its own (autocommit).
# Table and column names come from an Outbox, never from input.
# ------------------------------------------------------------------------------
_CLAIM_SQL = """
    WITH picked AS (
        SELECT d.id FROM {table} d
        WHERE d.{parent} = %(parent_id)s AND d.state = 'queued'
          AND d.next_attempt_at <= statement_timestamp()
        ORDER BY d.id
        LIMIT %(size)s
        FOR UPDATE SKIP LOCKED
    )
    UPDATE {table} d
    SET state = 'sending', claim = %(claim)s,
        lease_until = now() + make_interval(secs => %(lease)s),
        attempts = d.attempts + 1, updated_at = now()
    FROM picked
    WHERE d.id = picked.id
    RETURNING d.id, d.{recipient}, d.attempts
"""


def claim(
    outbox: Outbox, *, parent_id: int, size: int, lease_seconds: int
) -> tuple[uuid.UUID, list[Claimed]]:
    claim_id = uuid.uuid4()
    with connection.cursor() as cursor:
        cursor.execute(
            _CLAIM_SQL.format(
                table=outbox.table,
                parent=outbox.parent_column,
                recipient=outbox.recipient_column,
            ),
            {
                "parent_id": parent_id,
                "size": size,
                "claim": claim_id,
                "lease": lease_seconds,
            },
        )
        rows = [Claimed(*row) for row in cursor.fetchall()]
    rows.sort(key=lambda row: row.delivery_id)
    return claim_id, rows


def _mark(
    outbox: Outbox, delivery_id: int, claim_id: uuid.UUID, sql_set: str, params=()
) -> None:
    """Settle one row of our claim, or raise LeaseLost if it is no longer ours."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {outbox.table}
            SET {sql_set}, claim = NULL, lease_until = NULL, updated_at = now()
            WHERE id = %s AND claim = %s AND state = 'sending'
            """,
            [*params, delivery_id, claim_id],
        )
        if cursor.rowcount != 1:
            raise LeaseLost(delivery_id)


def _renew(
    outbox: Outbox, claim_id: uuid.UUID, lease_seconds: int, remaining: int
) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {outbox.table}
            SET lease_until = now() + make_interval(secs => %s)
            WHERE claim = %s AND state = 'sending'
            """,
            [lease_seconds, claim_id],
        )
        if cursor.rowcount < remaining:
            raise LeaseLost(claim_id)


def _release(outbox: Outbox, claim_id: uuid.UUID, *, delay: datetime.timedelta) -> int:
    """Give back the rows of our claim that were never handed to SMTP."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {outbox.table}
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
    outbox: Outbox,
    *,
    parent,
    size: int | None = None,
    lease_seconds: int | None = None,
    rate: float | None = None,
    cache: dict | None = None,
) -> BatchResult:
    """Claim up to `size` rows of a parent (an issue, a milestone) and send
    them over one SMTP connection, within the shared rate. See the module
    docstring."""
    size = size or settings.NEWSLETTER_BATCH_SIZE
    lease_seconds = lease_seconds or settings.NEWSLETTER_LEASE_SECONDS
    rate = settings.NEWSLETTER_RATE_PER_SECOND if rate is None else rate
    cache = {} if cache is None else cache
    result = BatchResult()
    claim_id, rows = claim(
        outbox, parent_id=parent.pk, size=size, lease_seconds=lease_seconds
    )
    result.claimed = len(rows)
    if not rows:
        return result
    wanted = outbox.recipients(parent).in_bulk([row.recipient_id for row in rows])
    smtp = get_connection()
    try:
        smtp.open()
    except Exception as error:
        # Nothing was handed over: every row goes back, for later.
        logger.warning(
            "%s %s: cannot reach the mail server (%s)",
            outbox.label,
            parent.pk,
            type(error).__name__,
        )
        result.released = _release(outbox, claim_id, delay=backoff(rows[0].attempts))
        result.errors.append(type(error).__name__)
        return result
    permits = 0
    renewed_at = time.monotonic()
    try:
        for index, row in enumerate(rows):
            if time.monotonic() - renewed_at > lease_seconds / 3:
                _renew(outbox, claim_id, lease_seconds, remaining=len(rows) - index)
                renewed_at = time.monotonic()
            recipient = wanted.get(row.recipient_id)
            if recipient is None:
                _mark(outbox, row.delivery_id, claim_id, "state = 'cancelled'")
                result.cancelled += 1
                continue
            if permits == 0:
                permits = throttle_take(want=len(rows) - index, rate=rate)
            permits -= 1
            message = outbox.message(parent, recipient, cache)
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
                        outbox,
                        row.delivery_id,
                        claim_id,
                        "state = 'queued', last_error = %s, "
                        "next_attempt_at = now() + make_interval(secs => %s)",
                        [reason, backoff(row.attempts).total_seconds()],
                    )
                    result.retrying += 1
                elif isinstance(error, smtplib.SMTPRecipientsRefused) and code >= 500:
                    _mark(
                        outbox,
                        row.delivery_id,
                        claim_id,
                        "state = 'bounced', last_error = %s",
                        [reason],
                    )
                    services.subscriber_mark_undeliverable(
                        email=recipient.email, reason="bounced"
                    )
                    result.bounced += 1
                else:
                    _mark(
                        outbox,
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
                        outbox,
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
                        outbox,
                        row.delivery_id,
                        claim_id,
                        "state = 'failed', last_error = %s",
                        [GAVE_UP_IN_DOUBT],
                    )
                    result.failed += 1
                result.errors.append(type(error).__name__)
                logger.warning(
                    "%s %s: delivery %s interrupted mid-message (%s); "
                    "queued again with the same Message-ID",
                    outbox.label,
                    parent.pk,
                    row.delivery_id,
                    type(error).__name__,
                )
                break
            _mark(outbox, row.delivery_id, claim_id, "state = 'sent', sent_at = now()")
            result.sent += 1
    except LeaseLost:
        logger.error(
            "%s %s: claim %s was taken over; stopping",
            outbox.label,
            parent.pk,
            claim_id,
        )
        result.errors.append("LeaseLost")
        return result
    finally:
        smtp_close(smtp)
    try:
        result.released = _release(
            outbox, claim_id, delay=datetime.timedelta(seconds=30)
        )
    except DatabaseError:
        # The lease rule will give these rows back.
        logger.warning(
            "%s %s: could not release claim %s", outbox.label, parent.pk, claim_id
        )
    return result


def send_due(outbox: Outbox, *, parent, **batch_options) -> BatchResult:
    """Send batches of a parent's rows until none is due or one meets an
    error (the caller decides when to come back)."""
    total = BatchResult()
    cache: dict = {}
    while True:
        result = send_batch(outbox, parent=parent, cache=cache, **batch_options)
        total.add(result)
        if not result.claimed or result.errors:
            return total


# ------------------------------------------------------------------------------
# Whole sends
# ------------------------------------------------------------------------------
def reconcile_expired(outbox: Outbox = ISSUES) -> tuple[int, int]:
    """Apply the lease rule to claims whose worker stopped renewing them.

    Returns (rows in doubt, queued again for the same Message-ID or failed
    after MAX_ATTEMPTS; the other rows of those claims, queued again).
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_try_advisory_xact_lock(%s)", [outbox.reconcile_lock_key]
        )
        if not cursor.fetchone()[0]:
            return 0, 0
        cursor.execute(
            f"""
            SELECT id, claim FROM {outbox.table}
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
                f"""
                UPDATE {outbox.table}
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
                f"""
                UPDATE {outbox.table}
                SET state = 'queued', claim = NULL, lease_until = NULL,
                    next_attempt_at = now(), updated_at = now()
                WHERE id = ANY(%s)
                """,
                [requeue],
            )
    if in_doubt:
        logger.warning(
            "Reconciled %s expired claims of %s: %s deliveries in doubt queued "
            "again with the same Message-ID (or failed after %s attempts), "
            "%s others queued again",
            len(in_doubt),
            outbox.table,
            len(in_doubt),
            MAX_ATTEMPTS,
            len(requeue),
        )
    return len(in_doubt), len(requeue)


def next_attempt_in(outbox: Outbox, parent_id: int) -> float | None:
    """Seconds until the next queued row of a parent is due, or None."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT EXTRACT(EPOCH FROM MIN(next_attempt_at) - now())
            FROM {outbox.table}
            WHERE {outbox.parent_column} = %s AND state = 'queued'
            """,
            [parent_id],
        )
        seconds = cursor.fetchone()[0]
    return None if seconds is None else max(0.0, float(seconds))


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


def send_issue(*, issue_id: int, **batch_options) -> BatchResult:
    """Send batches of an issue until none is due; what one task does.

    Several of these run side by side (on several workers); each claims its
    own rows. When only rows waiting for a retry remain, a task is scheduled
    for when the first is due.
    """
    issue = Issue.objects.filter(pk=issue_id).first()
    if issue is None or issue.status != Issue.Status.SENDING:
        return BatchResult()
    total = send_due(ISSUES, parent=issue, **batch_options)
    if finish_if_done(issue_id):
        logger.info("Issue %s: every delivery settled", issue_id)
        return total
    wait = next_attempt_in(ISSUES, issue_id)
    if wait is not None:
        services.issue_batches_start(
            issue_id=issue_id, delay=max(wait, 1.0), parallel=1
        )
    return total
