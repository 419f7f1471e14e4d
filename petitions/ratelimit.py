"""Per-client rate limits kept in PostgreSQL, so every process and host shares them.

Each limit is a sliding window kept as BUCKETS counters, each covering a
tenth of the window. A request is refused when the current bucket and the
BUCKETS before it together hold more than the limit: that span is always at
least the whole window, so no stretch of `window_seconds`, wherever it falls,
lets more than `max_hits` through. A fixed window let twice the limit through
across its boundary (a burst just before it and one just after); this costs
at most a tenth of a window of extra memory of old hits.

One statement per request, whatever the number of limits: it bumps each
limit's current bucket and reads the buckets before it.

Besides the per-client limits there is one per mailbox: confirmation e-mails
to one mailbox (core.email_addresses.mailbox_key, so every +tag of it, at
any domain) are limited, so nobody can flood a person's inbox by signing or
subscribing with their address.
"""

import datetime
import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import ngettext

from core.client_ip import client_key
from core.email_addresses import mailbox_key

from .models import RateLimitCounter


@dataclass(frozen=True)
class Limit:
    name: str
    max_hits: int
    window_seconds: int


def sign_limits() -> list[Limit]:
    return [
        Limit("burst", settings.SIGN_RATE_BURST, settings.SIGN_RATE_BURST_SECONDS),
        Limit(
            "sustained",
            settings.SIGN_RATE_SUSTAINED,
            settings.SIGN_RATE_SUSTAINED_SECONDS,
        ),
    ]


def mailbox_limits() -> list[Limit]:
    return [
        Limit(
            "emails",
            settings.MAILBOX_EMAIL_LIMIT,
            settings.MAILBOX_EMAIL_WINDOW_SECONDS,
        )
    ]


def counters_kept_seconds() -> int:
    """How long a counter matters: the longest window and the bucket before it."""
    longest = max(limit.window_seconds for limit in sign_limits() + mailbox_limits())
    return longest + _bucket_seconds(Limit("", 0, longest))


def mailbox_hit(*, email: str) -> "Hit":
    """The count of one e-mail to this address's mailbox. The counter's key is
    a keyed hash, so the counters table holds no address."""
    digest = hmac.new(
        settings.IP_HASH_KEY, f"mailbox:{mailbox_key(email)}".encode(), hashlib.sha256
    ).hexdigest()
    return Hit(
        scope="mailbox", client=digest[:32], limits=mailbox_limits(), name="mail"
    )


def ip_hash(ip: str) -> str:
    """A keyed hash of an IP address: cheap (one HMAC), and useless without the key."""
    digest = hmac.new(settings.IP_HASH_KEY, ip.encode(), hashlib.sha256).hexdigest()
    return digest[:32]


def request_ip_hash(request) -> str:
    """The hash every limit and the fraud watch key on: an IPv6 client's /64."""
    return ip_hash(client_key(request))


BUCKETS = 10


def _bucket_seconds(limit: Limit) -> int:
    return max(1, limit.window_seconds // BUCKETS)


class RateLimited(Exception):
    """Raised where a write is refused by a rate limit checked in the same statement."""

    def __init__(self, wait: int):
        super().__init__(wait)
        self.wait = wait


@dataclass(frozen=True)
class Hit:
    """One request to count: the SQL of its counting, to run alone (hit) or as
    the first part of a larger statement (petitions.services.signature_create),
    so that a refused request writes nothing else and an accepted one costs no
    extra round trip."""

    scope: str
    client: str
    limits: list[Limit]
    # The prefix of the CTEs' names, so that two counts share one statement.
    name: str = "rate"

    def count(self, now=None) -> int | None:
        """Count this request alone; seconds to wait if over a limit, else None."""
        sql, params, counted = self.sql(now)
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH {sql} SELECT key, start, hits FROM {self.name}_hits", params
            )
            return counted.wait(cursor.fetchall())

    def sql(self, now=None, *, only_if: str = "true") -> tuple[str, list, "_Counted"]:
        """CTEs `<name>_hits` (key, start, hits) and `<name>_allowed` (ok), and
        params. The request is counted only where the SQL `only_if` holds (a
        condition on earlier CTEs), but the window is read either way."""
        now = now or timezone.now()
        epoch = int(now.timestamp())
        rows = []
        for limit in self.limits:
            bucket = _bucket_seconds(limit)
            start = epoch - epoch % bucket
            rows.append(
                (f"{self.scope}:{limit.name}:{self.client}", start, bucket, limit)
            )
        table = RateLimitCounter._meta.db_table
        values_sql = ", ".join(["(%s, to_timestamp(%s), 1)"] * len(rows))
        history_sql = " OR ".join(
            [
                "(key = %s AND window_start >= to_timestamp(%s) "
                "AND window_start < to_timestamp(%s))"
            ]
            * len(rows)
        )
        limits_sql = ", ".join(["(%s::text, %s::bigint)"] * len(rows))
        params = [value for key, start, _b, _l in rows for value in (key, start)]
        for key, start, bucket, _limit in rows:
            params += [key, start - BUCKETS * bucket, start]
        for key, _start, _bucket, limit in rows:
            params += [key, limit.max_hits]
        # The history query reads the table as it was before this statement,
        # which is why it stops short of the bucket being bumped.
        name = self.name
        sql = f"""
            {name}_bumped AS (
                INSERT INTO {table} (key, window_start, hits)
                SELECT * FROM (VALUES {values_sql}) AS bump WHERE {only_if}
                ON CONFLICT (key, window_start)
                DO UPDATE SET hits = {table}.hits + 1
                RETURNING key, window_start, hits
            ),
            {name}_hits AS (
                SELECT key, extract(epoch FROM window_start)::bigint AS start, hits
                FROM {name}_bumped
                UNION ALL
                SELECT key, extract(epoch FROM window_start)::bigint, hits
                FROM {table} WHERE {history_sql}
            ),
            {name}_allowed AS (
                SELECT coalesce(bool_and(counted.total <= max_hits), true) AS ok
                FROM (SELECT key, sum(hits) AS total FROM {name}_hits GROUP BY key)
                    AS counted
                JOIN (VALUES {limits_sql}) AS rate_limits (key, max_hits)
                USING (key)
            )"""
        return sql, params, _Counted(rows=rows, epoch=epoch)


@dataclass(frozen=True)
class _Counted:
    rows: list
    epoch: int

    def wait(self, fetched) -> int | None:
        """Seconds to wait from the fetched (key, start, hits), or None if allowed."""
        hits_by_key = {}
        for key, start, hits in fetched:
            hits_by_key.setdefault(key, {})[int(start)] = hits
        wait = None
        for key, start, bucket, limit in self.rows:
            buckets = hits_by_key.get(key, {})
            if sum(buckets.values()) > limit.max_hits:
                wait = max(
                    wait or 0,
                    _seconds_until_allowed(buckets, start, bucket, limit, self.epoch),
                )
        return wait


def hit(*, scope: str, client: str, limits: list[Limit], now=None) -> int | None:
    """Count one request; return seconds to wait if any limit is exceeded, else None."""
    return Hit(scope=scope, client=client, limits=limits).count(now)


def _seconds_until_allowed(
    buckets: dict[int, int], start: int, bucket: int, limit: Limit, epoch: int
) -> int:
    """When the next request would pass, if no other came in before it."""
    for ahead in range(1, BUCKETS + 2):
        future_start = start + ahead * bucket
        counted = sum(
            hits
            for bucket_start, hits in buckets.items()
            if bucket_start >= future_start - BUCKETS * bucket
        )
        if counted + 1 <= limit.max_hits:
            return future_start - epoch
    return start + (BUCKETS + 1) * bucket - epoch


def purge_expired(*, older_than_seconds: int) -> int:
    cutoff = timezone.now() - datetime.timedelta(seconds=older_than_seconds)
    deleted, _ = RateLimitCounter.objects.filter(window_start__lt=cutoff).delete()
    return deleted


def signing_paused_message(wait_seconds: int) -> str:
    """What a signer refused by the sign limits reads, on the site and in the
    widget."""
    minutes = max(1, round(wait_seconds / 60))
    return ngettext(
        "A great many signatures have come from your network in a short "
        "time, so we have paused signing from it. Please try again in "
        "%(minutes)s minute.",
        "A great many signatures have come from your network in a short "
        "time, so we have paused signing from it. Please try again in "
        "%(minutes)s minutes.",
        minutes,
    ) % {"minutes": minutes}
