"""The sliding-window sign limits, against the real counters in PostgreSQL."""

import datetime
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from petitions import ratelimit
from petitions.ratelimit import Limit

pytestmark = pytest.mark.django_db

# A minute boundary: BASE is a multiple of 3600, so of every window below.
BASE = 1_800_000_000 - 1_800_000_000 % 3600
BURST = Limit("burst", 20, 60)
_clients = itertools.count()


def at(seconds: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(BASE + seconds, tz=datetime.UTC)


def hits(times, *, limits=(BURST,), client=None):
    """Send one request at each time; return the wait (None = allowed) of each."""
    client = client or f"client-{next(_clients)}"
    return [
        ratelimit.hit(scope="test", client=client, limits=list(limits), now=at(t))
        for t in times
    ]


def test_a_burst_across_a_minute_boundary_gets_no_second_helping():
    before = hits([59.0] * 20 + [61.0] * 20)
    assert before[:20] == [None] * 20
    # A fixed window let all of these through: a new minute had started.
    assert all(wait is not None for wait in before[20:])


def test_the_limit_holds_for_any_minute_not_just_clock_minutes():
    times = range(0, 300, 2)
    waits = hits(times, client="steady")
    allowed = [t for t, wait in zip(times, waits, strict=True) if wait is None]
    for t in allowed:
        assert sum(1 for other in allowed if t - 60 < other <= t) <= BURST.max_hits


def test_a_client_under_the_rate_is_never_refused():
    # 20 a minute is one every 3 s; one every 4 s is always fine.
    assert hits(range(0, 600, 4)) == [None] * 150


def test_retry_after_is_honest():
    client = "waiting"
    waits = hits([10.0] * 21, client=client)
    wait = waits[-1]
    assert wait is not None and 0 < wait <= 60 + 6
    assert hits([10.0 + wait - 1], client=client) != [None]
    assert hits([10.0 + wait], client=client) == [None]


def test_one_statement_for_every_limit(django_assert_num_queries):
    limits = [BURST, Limit("sustained", 200, 3600)]
    with django_assert_num_queries(1):
        ratelimit.hit(scope="test", client="one-trip", limits=limits, now=at(0))


def test_limits_are_counted_separately_per_client():
    hits([0.0] * 25, client="busy")
    assert hits([1.0], client="quiet") == [None]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    gaps=st.lists(
        st.integers(min_value=0, max_value=15) | st.just(0), min_size=1, max_size=60
    ),
    offset=st.integers(min_value=0, max_value=3599),
)
def test_no_window_of_the_limits_length_ever_lets_more_through(gaps, offset):
    limit = Limit("burst", 5, 60)
    client = f"property-{next(_clients)}"
    times = list(itertools.accumulate(gaps, initial=offset))
    waits = hits(times, limits=(limit,), client=client)
    allowed = [t for t, wait in zip(times, waits, strict=True) if wait is None]
    for t in allowed:
        window = [other for other in allowed if t - limit.window_seconds < other <= t]
        assert len(window) <= limit.max_hits
    # Nor stricter than it must be: after a window and a bucket without a
    # request, the next one passes.
    quiet = times[-1] + limit.window_seconds + limit.window_seconds // 10
    assert hits([quiet], limits=(limit,), client=client) == [None]
