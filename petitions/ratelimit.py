"""Per-client rate limits kept in PostgreSQL, so every process and host shares them.

Each limit is a fixed window: one upsert per request bumps the counters of all
windows in a single round trip and returns their new values.
"""

import datetime
import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone

from core.client_ip import client_ip


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


def hit(*, scope: str, client: str, limits: list[Limit], now=None) -> int | None:
    """Count one request; return seconds to wait if any limit is exceeded, else None."""
    now = now or timezone.now()
    epoch = int(now.timestamp())
    rows = []
    for limit in limits:
        start = epoch - epoch % limit.window_seconds
        rows.append((f"{scope}:{limit.name}:{client}", start, limit))
    values_sql = ", ".join(["(%s, to_timestamp(%s), 1)"] * len(rows))
    params = [value for key, start, _limit in rows for value in (key, start)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO petitions_ratelimitcounter (key, window_start, hits)
            VALUES {values_sql}
            ON CONFLICT (key, window_start)
            DO UPDATE SET hits = petitions_ratelimitcounter.hits + 1
            RETURNING key, hits
            """,
            params,
        )
        hits_by_key = dict(cursor.fetchall())
    wait = None
    for key, start, limit in rows:
        if hits_by_key[key] > limit.max_hits:
            remaining = start + limit.window_seconds - epoch
            wait = max(wait or 0, remaining)
    return wait


def purge_expired(*, older_than_seconds: int) -> int:
    from .models import RateLimitCounter

    cutoff = timezone.now() - datetime.timedelta(seconds=older_than_seconds)
    deleted, _ = RateLimitCounter.objects.filter(window_start__lt=cutoff).delete()
    return deleted
