"""The signature row as its own e-mail outbox.

The sign POST stores a signature with its confirmation e-mail due
(`email_due_at`); nothing else is written for the e-mail. Signing again with
the same address makes a new e-mail due on the same row, in the same
statement (services._signature_insert_or_repeat), and a withdrawal clears
it. The rest happens here, in the
`send_signature_emails` process (supervisord runs it beside the Procrastinate
worker):

    due --claim (lease)--> being sent --the server accepted it--> sent
                             |--temporary refusal or broken connection
                             |     --> due again after a back-off, the same
                             |         Message-ID; given up after MAX_ATTEMPTS
                             |--permanent refusal (5xx) --> given up
                             '--the worker died --> due again when the lease
                                 runs out, the same Message-ID

The same at-least-once rule as the newsletter's deliveries (newsletters.
delivery): a batch claims rows with SELECT ... FOR UPDATE SKIP LOCKED and
commits their lease before any SMTP traffic, so two workers never hold the
same row; it marks each row sent in its own committed UPDATE as soon as the
server has accepted it. A worker killed mid-batch leaves only the message it
was sending in doubt: the lease runs out, the row is claimed again and sent
under the same Message-ID (emails.signature_message_id), which the receiving
mailbox files as the same message.

The lease's end time is also the claim's token: a mark only applies while the
row still carries the lease this batch set. A row claimed again after its
lease ran out, or given a new e-mail by a repeat signing, is no longer ours,
and the mark changes nothing.

Logs carry signature ids and error classes, never addresses: SMTP errors can
quote the recipient.
"""

import datetime
import logging
import smtplib
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import get_connection
from django.db import connection
from django.utils import timezone

from core.emails import smtp_close, smtp_code

from .emails import build_signature_email
from .models import ProcessHeartbeat, Signature

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8  # sends in all, the first included
# 4**n seconds after the n-th failure: 4 s, 16 s, 1 min, 4 min, 17 min,
# 68 min, 4.6 h; the last attempt comes about 6 h after the first.
RETRY_BASE_SECONDS = 4


def backoff(attempts: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=RETRY_BASE_SECONDS**attempts)


@dataclass
class OutboxResult:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    gave_up: int = 0
    # Withdrawn or invalidated after the e-mail became due, so not sent.
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Claimed:
    signature_id: int
    kind: str
    attempts: int
    lease_until: datetime.datetime


# The ORDER BY and WHERE repeat the signature_email_due index's expression and
# condition (petitions.models), so the claim reads only that index's head.
_CLAIM_SQL = """
    WITH picked AS (
        SELECT id FROM petitions_signature
        WHERE email_due_at IS NOT NULL
          AND COALESCE(email_lease_until, email_due_at) <= statement_timestamp()
        ORDER BY COALESCE(email_lease_until, email_due_at)
        LIMIT %(size)s
        FOR UPDATE SKIP LOCKED
    )
    UPDATE petitions_signature s
    SET email_lease_until = statement_timestamp()
            + make_interval(secs => %(lease)s),
        email_attempts = s.email_attempts + 1
    FROM picked
    WHERE s.id = picked.id
    RETURNING s.id, s.email_kind, s.email_attempts, s.email_lease_until
"""


def _claim(*, size: int, lease_seconds: int) -> list[_Claimed]:
    """Lease up to `size` due rows; committed at once (autocommit)."""
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, {"size": size, "lease": lease_seconds})
        rows = [_Claimed(*row) for row in cursor.fetchall()]
    return sorted(rows, key=lambda row: row.signature_id)


def _mark(row: _Claimed, sql_set: str, params=()) -> bool:
    """Settle one claimed row, if it is still ours (see the module docstring)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE petitions_signature SET {sql_set}
            WHERE id = %s AND email_lease_until = %s
            """,
            [*params, row.signature_id, row.lease_until],
        )
        return cursor.rowcount == 1


def _mark_sent(row: _Claimed) -> bool:
    return _mark(
        row,
        "email_due_at = NULL, email_lease_until = NULL, "
        "email_sent_at = statement_timestamp(), email_last_error = ''",
    )


def _mark_done_without_sending(row: _Claimed, reason: str) -> bool:
    return _mark(
        row,
        "email_due_at = NULL, email_lease_until = NULL, email_last_error = %s",
        [reason[:64]],
    )


def _mark_failed(row: _Claimed, error: Exception, *, permanent: bool) -> str:
    """Back off, or give up after MAX_ATTEMPTS or a permanent refusal.
    Returns "retrying" or "gave_up"."""
    code = smtp_code(error)
    reason = type(error).__name__ + (f" {code}" if code else "")
    if permanent or row.attempts >= MAX_ATTEMPTS:
        _mark_done_without_sending(row, f"gave up: {reason}")
        logger.error(
            "Gave up the %s e-mail of signature %s after %s attempts (%s)",
            row.kind,
            row.signature_id,
            row.attempts,
            reason,
        )
        return "gave_up"
    delay = backoff(row.attempts)
    _mark(
        row,
        "email_lease_until = statement_timestamp() + make_interval(secs => %s), "
        "email_last_error = %s",
        [delay.total_seconds(), reason[:64]],
    )
    logger.warning(
        "Could not send the %s e-mail of signature %s (%s); attempt %s of %s, "
        "next in %s s",
        row.kind,
        row.signature_id,
        reason,
        row.attempts,
        MAX_ATTEMPTS,
        int(delay.total_seconds()),
    )
    return "retrying"


def _release(rows: list[_Claimed]) -> None:
    """Give back rows that were never handed to the server: due at once again,
    and the attempt not counted."""
    for row in rows:
        _mark(
            row,
            "email_lease_until = NULL, email_attempts = email_attempts - 1",
        )


def _is_permanent(error: Exception) -> bool:
    code = smtp_code(error) or 0
    return code >= 500


def signature_emails_send(
    *, size: int | None = None, lease_seconds: int | None = None
) -> OutboxResult:
    """Claim a batch of due signature e-mails and send them over one SMTP
    connection; what the `send_signature_emails` process does in a loop, and
    what tests call to run the outbox now."""
    size = size or settings.SIGNATURE_EMAIL_BATCH_SIZE
    lease_seconds = lease_seconds or settings.SIGNATURE_EMAIL_LEASE_SECONDS
    result = OutboxResult()
    rows = _claim(size=size, lease_seconds=lease_seconds)
    result.claimed = len(rows)
    if not rows:
        return result
    signatures = Signature.objects.select_related("petition").in_bulk(
        [row.signature_id for row in rows]
    )
    smtp = get_connection()
    try:
        smtp.open()
    except Exception as error:
        # Nothing was handed over: each row backs off as a failed attempt.
        for row in rows:
            outcome = _mark_failed(row, error, permanent=False)
            setattr(result, outcome, getattr(result, outcome) + 1)
        result.errors.append(type(error).__name__)
        return result
    # Each petition's e-mail rendered once per kind and language this batch.
    rendered = {}
    try:
        for index, row in enumerate(rows):
            signature = signatures.get(row.signature_id)
            if (
                signature is None
                or not signature.email
                or signature.status not in Signature.ACTIVE_STATUSES
            ):
                _mark_done_without_sending(row, "skipped: no longer active")
                result.skipped += 1
                continue
            message = build_signature_email(
                signature, row.kind, connection=smtp, rendered=rendered
            )
            try:
                smtp.send_messages([message])
            except Exception as error:
                outcome = _mark_failed(row, error, permanent=_is_permanent(error))
                setattr(result, outcome, getattr(result, outcome) + 1)
                result.errors.append(type(error).__name__)
                if smtp_code(error) is None or isinstance(
                    error, smtplib.SMTPServerDisconnected
                ):
                    # The connection is gone: the rest wait for the next batch.
                    _release(rows[index + 1 :])
                    break
                continue
            if _mark_sent(row):
                result.sent += 1
    finally:
        smtp_close(smtp)
    return result


def signature_emails_due() -> int:
    """How many signature e-mails are still to send (sent, stopped and given
    up ones are not)."""
    return Signature.objects.filter(email_due_at__isnull=False).count()


# Process kind of the outbox workers' heartbeat rows.
OUTBOX_PROCESS_KIND = "outbox"


def heartbeat_record(*, kind: str, process: str, now=None) -> None:
    """Note that this process is alive now (the operators' "outbox silent"
    alert reads these rows); one small upsert."""
    ProcessHeartbeat.objects.update_or_create(
        process=process[:100],
        defaults={"kind": kind, "seen_at": now or timezone.now()},
    )


def heartbeat_forget(*, process: str) -> None:
    """A process that stops cleanly takes its row away, so it is not
    mistaken for a silent one."""
    ProcessHeartbeat.objects.filter(process=process[:100]).delete()
