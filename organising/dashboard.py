"""The organisers' dashboard: a petition's figures and a chart that needs no script.

Six cheap queries whatever the number of signatures:

1. confirmed signatures per day (`exports.PER_DAY_SQL`, the query behind the
   by-day export, so the table and the file always agree), read from the
   (petition, status, confirmed_at) index; the confirmed totals for today,
   the last 7 days and the whole run are sums of it;
2. pending, withdrawn and invalidated signatures, in one GROUP BY that the
   same index narrows to those statuses, which are few;
3. the count by country (paper batches included) from the running counts
   the public page shows (a handful of rows per country;
   `reconcile_signature_counts` checks them against the signatures);
4. signatures on paper, the sum of a handful of batches;
5. the fraud watch's IP hashes and domains of the last 24 hours (that day's
   signatures only, found through a BRIN index on created_at);
6. confirmed signatures per source label, from a partial index holding only
   labelled signatures; "no source" is the rest of the confirmed total.

The chart is SVG drawn on the server: bars with a <title> each, and the same
figures in a table beside it for screen readers and for copying.
"""

import datetime
import math
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_countries import countries

from petitions import selectors
from petitions.models import Petition, Signature

from .exports import LABELLED_SOURCES_SQL, PER_DAY_SQL, per_day_until
from .fraud import signature_hotspots

# The SVG's own coordinate system; it scales to the page width.
CHART_WIDTH = 720
CHART_HEIGHT = 240
PLOT_LEFT = 56
PLOT_RIGHT = 8
PLOT_TOP = 12
PLOT_BOTTOM = 28


@dataclass(frozen=True)
class StatusLine:
    status: str
    label: str
    today: int
    last_7_days: int
    total: int


@dataclass(frozen=True)
class Bar:
    day: datetime.date
    count: int
    # Coordinates as strings: a template would localise floats ("1,5" in es).
    x: str
    y: str
    width: str
    height: str


@dataclass(frozen=True)
class Tick:
    label: int
    y: str


@dataclass(frozen=True)
class Chart:
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    plot_left: int = PLOT_LEFT
    plot_right: int = CHART_WIDTH - PLOT_RIGHT
    label_y: int = CHART_HEIGHT - 8
    bars: list[Bar] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)


@dataclass(frozen=True)
class CountryLine:
    code: str
    name: str
    count: int


@dataclass(frozen=True)
class Dashboard:
    statuses: list[StatusLine]
    days: list[tuple[datetime.date, int]]
    countries: list[CountryLine]
    # (source label, confirmed signatures), most first; "" is no source.
    sources: list[tuple[str, int]]
    # The fraud watch: most signatures per hour and IP hash or domain, 24 h.
    hotspots: list
    confirmed: int
    # Signatures on paper (organising.paper), counted in the total and the goal.
    paper: int
    goal: int
    chart: Chart

    @property
    def total(self) -> int:
        return self.confirmed + self.paper

    @property
    def percent_of_goal(self) -> int:
        return min(100, math.floor(100 * self.total / self.goal))


def confirmed_per_day(
    *, petition: Petition, until: datetime.date | None = None
) -> list[tuple[datetime.date, int]]:
    """Confirmed signatures per local day, first confirmation to last (or `until`)."""
    with connection.cursor() as cursor:
        cursor.execute(
            PER_DAY_SQL,
            {
                "petition_id": petition.pk,
                "confirmed": Signature.Status.CONFIRMED,
                "tz": settings.TIME_ZONE,
                "until": until,
            },
        )
        return [(day, int(count)) for day, count in cursor.fetchall()]


def confirmed_per_source(
    *, petition: Petition, confirmed: int
) -> list[tuple[str, int]]:
    """Confirmed signatures per source label, most first ("" for none).

    Only labelled signatures are counted (from a small partial index); those
    without a label are the rest of `confirmed`.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            LABELLED_SOURCES_SQL,
            {"petition_id": petition.pk, "confirmed": Signature.Status.CONFIRMED},
        )
        counts = {source: int(count) for source, count in cursor.fetchall()}
    unlabelled = confirmed - sum(counts.values())
    if unlabelled > 0:
        counts[""] = unlabelled
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def petition_dashboard(*, petition: Petition, now=None) -> Dashboard:
    now = now or timezone.now()
    today = timezone.localdate(now)
    week_first_day = today - datetime.timedelta(days=6)
    days = confirmed_per_day(petition=petition, until=per_day_until(petition, now))
    others = Signature.objects.filter(
        petition=petition,
        status__in=[
            Signature.Status.PENDING,
            Signature.Status.WITHDRAWN,
            Signature.Status.INVALIDATED,
        ],
    ).counts_by_status(
        today_start=_local_midnight(today), week_start=_local_midnight(week_first_day)
    )
    confirmed = sum(count for _day, count in days)
    statuses = []
    for status in Signature.Status:
        if status == Signature.Status.CONFIRMED:
            figures = {
                "today": sum(count for day, count in days if day == today),
                "last_7_days": sum(
                    count for day, count in days if day >= week_first_day
                ),
                "total": confirmed,
            }
        else:
            figures = others.get(status, {"today": 0, "last_7_days": 0, "total": 0})
        statuses.append(StatusLine(status=status, label=status.label, **figures))
    by_country, _updated_at = selectors.petition_counts_by_country(petition)
    paper = selectors.petition_paper_count(petition)
    return Dashboard(
        statuses=statuses,
        days=days,
        countries=[
            CountryLine(
                code=code,
                name=countries.name(code) if code else "Unknown",
                count=count,
            )
            for code, count in by_country.items()
        ],
        sources=confirmed_per_source(petition=petition, confirmed=confirmed),
        hotspots=signature_hotspots(
            petition=petition, since=now - datetime.timedelta(hours=24), limit=10
        ),
        confirmed=confirmed,
        paper=paper,
        goal=petition.goal_for(confirmed + paper),
        chart=bar_chart(days),
    )


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... that is at least `value`."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    raise AssertionError("unreachable")


def bar_chart(days: list[tuple[datetime.date, int]]) -> Chart:
    """Bars for each day, scaled to a round maximum, with three labelled lines."""
    if not days:
        return Chart()
    top = nice_ceiling(max(count for _day, count in days))
    plot_width = CHART_WIDTH - PLOT_LEFT - PLOT_RIGHT
    plot_height = CHART_HEIGHT - PLOT_TOP - PLOT_BOTTOM
    step = plot_width / len(days)
    # A gap between bars while they are wide enough to show one.
    bar_width = step * 0.8 if step >= 4 else step
    bars = []
    for index, (day, count) in enumerate(days):
        height = plot_height * count / top
        bars.append(
            Bar(
                day=day,
                count=count,
                x=f"{PLOT_LEFT + index * step:.2f}",
                y=f"{PLOT_TOP + plot_height - height:.2f}",
                width=f"{bar_width:.2f}",
                height=f"{height:.2f}",
            )
        )
    # A middle line only where it falls on a whole number (not for 1 or 5).
    values = [0, top // 2, top] if top % 2 == 0 else [0, top]
    ticks = [
        Tick(label=value, y=f"{PLOT_TOP + plot_height * (1 - value / top):.2f}")
        for value in values
    ]
    return Chart(bars=bars, ticks=ticks)
