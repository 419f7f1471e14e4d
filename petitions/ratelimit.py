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
"""

import datetime
import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone

from core.client_ip import client_ip

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


def ip_hash(ip: str) -> str:
    """A keyed hash of an IP address: cheap (one HMAC), and useless without the key."""
    digest = hmac.new(settings.IP_HASH_KEY, ip.encode(), hashlib.sha256).hexdigest()
    return digest[:32]


def request_ip_hash(request) -> str:
    return ip_hash(client_ip(request))


BUCKETS = 10


def _bucket_seconds(limit: Limit) -> int:
    return max(1, limit.window_seconds // BUCKETS)


def hit(*, scope: str, client: str, limits: list[Limit], now=None) -> int | None:
    """Count one request; return seconds to wait if any limit is exceeded, else None."""
    now = now or timezone.now()
    epoch = int(now.timestamp())
    rows = []
    for limit in limits:
        bucket = _bucket_seconds(limit)
        start = epoch - epoch % bucket
        rows.append((f"{scope}:{limit.name}:{client}", start, bucket, limit))
    table = RateLimitCounter._meta.db_table
    values_sql = ", ".join(["(%s, to_timestamp(%s), 1)"] * len(rows))
    history_sql = " OR ".join(
        [
            "(key = %s AND window_start >= to_timestamp(%s) "
            "AND window_start < to_timestamp(%s))"
        ]
        * len(rows)
    )
    params = [value for key, start, _b, _l in rows for value in (key, start)]
    for key, start, bucket, _limit in rows:
        params += [key, start - BUCKETS * bucket, start]
    with connection.cursor() as cursor:
        # The history query reads the table as it was before this statement,
        # which is why it stops short of the bucket being bumped.
        cursor.execute(
            f"""
            WITH bumped AS (
                INSERT INTO {table} (key, window_start, hits)
                VALUES {values_sql}
                ON CONFLICT (key, window_start)
                DO UPDATE SET hits = {table}.hits + 1
                RETURNING key, window_start, hits
            )
            SELECT key, extract(epoch FROM window_start)::bigint, hits FROM bumped
            UNION ALL
            SELECT key, extract(epoch FROM window_start)::bigint, hits FROM {table}
            WHERE {history_sql}
            """,
            params,
        )
        hits_by_key = {}
        for key, start, hits in cursor.fetchall():
            hits_by_key.setdefault(key, {})[int(start)] = hits
    wait = None
    for key, start, bucket, limit in rows:
        buckets = hits_by_key[key]
        if sum(buckets.values()) > limit.max_hits:
            wait = max(
                wait or 0, _seconds_until_allowed(buckets, start, bucket, limit, epoch)
            )
    return wait


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
