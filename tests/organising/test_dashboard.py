"""The organisers' dashboard: its figures, its chart, and its cost."""

import csv
import datetime
import io
import re
import zoneinfo

import pytest
from django.utils import timezone

from organising.dashboard import bar_chart, nice_ceiling, petition_dashboard
from organising.exports import export_csv
from petitions.models import Petition, Signature
from tests.petitions.factories import (
    ConfirmedSignatureFactory,
    PetitionFactory,
    many_confirmed,
)

from .factories import organiser, recount

pytestmark = pytest.mark.django_db

LONDON = zoneinfo.ZoneInfo("Europe/London")
NOW = datetime.datetime(2026, 3, 10, 15, 0, tzinfo=LONDON)


def _days_ago(days, hour=12):
    return (NOW - datetime.timedelta(days=days)).replace(hour=hour)


@pytest.fixture
def petition():
    petition = PetitionFactory(slug="justice", goal=10)
    # Confirmed: two today, one 3 days ago, one 20 days ago.
    for days, country in [(0, "PE"), (0, "GB"), (3, "PE"), (20, "PE")]:
        ConfirmedSignatureFactory(
            petition=petition, created_at=_days_ago(days), country=country
        )
    # Pending: signed today and 10 days ago.
    for days in (0, 10):
        ConfirmedSignatureFactory(
            petition=petition,
            status=Signature.Status.PENDING,
            created_at=_days_ago(days),
        )
    # Withdrawn 2 days ago, after signing a month ago.
    ConfirmedSignatureFactory(
        petition=petition,
        status=Signature.Status.WITHDRAWN,
        created_at=_days_ago(30),
        withdrawn_at=_days_ago(2),
        country="",
    )
    # Invalidated today, 8 days ago.
    for days in (0, 8):
        ConfirmedSignatureFactory(
            petition=petition,
            status=Signature.Status.INVALIDATED,
            created_at=_days_ago(40),
            invalidated_at=_days_ago(days),
        )
    recount(petition)
    return petition


def test_status_figures_for_today_the_last_7_days_and_the_whole_run(petition):
    dashboard = petition_dashboard(petition=petition, now=NOW)
    assert {
        line.status: (line.today, line.last_7_days, line.total)
        for line in dashboard.statuses
    } == {
        "pending": (1, 1, 2),
        "confirmed": (2, 3, 4),
        "withdrawn": (0, 1, 1),
        "invalidated": (1, 1, 2),
    }


def test_the_figures_match_the_database_exactly(petition):
    dashboard = petition_dashboard(petition=petition, now=NOW)
    signatures = Signature.objects.filter(petition=petition)
    for line in dashboard.statuses:
        assert line.total == signatures.filter(status=line.status).count()
    assert dashboard.confirmed == signatures.confirmed().count()
    assert {line.code: line.count for line in dashboard.countries} == {
        "PE": signatures.confirmed().filter(country="PE").count(),
        "GB": signatures.confirmed().filter(country="GB").count(),
    }


def test_last_7_days_means_today_and_the_six_days_before(petition):
    ConfirmedSignatureFactory(petition=petition, created_at=_days_ago(6, hour=0))
    ConfirmedSignatureFactory(petition=petition, created_at=_days_ago(7, hour=23))
    confirmed = petition_dashboard(petition=petition, now=NOW).statuses[1]
    assert (confirmed.status, confirmed.last_7_days) == ("confirmed", 4)


def test_every_day_is_in_the_series_up_to_today_while_the_petition_is_open(petition):
    days = petition_dashboard(petition=petition, now=NOW).days
    assert days[0] == (_days_ago(20).date(), 1)
    assert days[-1] == (NOW.date(), 2)
    assert len(days) == 21
    assert sum(count for _day, count in days) == 4


def test_the_series_ends_at_the_last_signature_once_the_petition_has_closed(
    petition,
):
    petition.state = Petition.State.CLOSED
    petition.save()
    days = petition_dashboard(petition=petition, now=NOW + datetime.timedelta(30)).days
    assert days[-1] == (NOW.date(), 2)


def test_the_per_day_figures_are_those_of_the_by_day_export(petition):
    petition.state = Petition.State.CLOSED
    petition.save()
    _record, chunks = export_csv(petition=petition, kind="by-day", requested_by="t")
    exported = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig"))))
    dashboard = petition_dashboard(petition=petition, now=NOW)
    assert exported[1:] == [
        [day.isoformat(), str(count)] for day, count in dashboard.days
    ]


def test_countries_come_most_first(petition):
    countries = petition_dashboard(petition=petition, now=NOW).countries
    assert [(line.code, line.name, line.count) for line in countries] == [
        ("PE", "Peru", 3),
        ("GB", "United Kingdom", 1),
    ]


def test_progress_to_the_goal_doubles_the_goal_once_reached():
    petition = PetitionFactory(goal=3)
    ConfirmedSignatureFactory.create_batch(4, petition=petition)
    dashboard = petition_dashboard(petition=petition)
    assert (dashboard.confirmed, dashboard.goal, dashboard.percent_of_goal) == (
        4,
        6,
        66,
    )


def test_an_empty_petition_has_an_empty_dashboard():
    dashboard = petition_dashboard(petition=PetitionFactory())
    assert dashboard.days == [] and dashboard.countries == []
    assert dashboard.confirmed == 0 and dashboard.chart.bars == []


# ------------------------------------------------------------------------------
# The chart
# ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "ceiling"),
    [(0, 1), (1, 1), (2, 2), (3, 5), (7, 10), (10, 10), (11, 20), (4_100, 5_000)],
)
def test_the_chart_scale_rounds_up_to_1_2_or_5(value, ceiling):
    assert nice_ceiling(value) == ceiling


def test_bars_are_as_tall_as_their_counts():
    day = datetime.date(2026, 3, 1)
    chart = bar_chart([(day, 10), (day + datetime.timedelta(1), 5)])
    full, half = (float(bar.height) for bar in chart.bars)
    assert full == pytest.approx(2 * half)
    assert float(chart.bars[0].y) < float(chart.bars[1].y)
    assert [tick.label for tick in chart.ticks] == [0, 5, 10]


# ------------------------------------------------------------------------------
# The page
# ------------------------------------------------------------------------------
def test_the_page_shows_the_chart_and_the_same_figures_in_a_table(client, petition):
    client.force_login(organiser())
    page = client.get("/admin/petitions/petition/dashboard/justice/").content.decode()
    assert "<svg" in page
    today = timezone.localdate()
    days = petition_dashboard(petition=petition).days
    assert page.count('<rect class="chart-bar"') == len(days)
    for day, count in days:
        assert (
            f'<time datetime="{day:%Y-%m-%d}">{day:%a} {day.day} {day:%b %Y}</time>'
            f'</th><td class="number">{count}</td>'
        ) in page
    assert days[-1][0] == today
    assert re.search(r'<tr id="status-confirmed">\s*<th scope="row">Confirmed', page)


def test_the_page_works_without_script_or_inline_style(client, petition):
    client.force_login(organiser())
    page = client.get("/admin/petitions/petition/dashboard/justice/").content.decode()
    content = page.split('id="content-main"', 1)[1]
    assert "<script" not in content
    assert "style=" not in page  # the Content Security Policy would block it
    assert "/static/css/dashboard.css" in page


def test_the_dashboard_opens_on_the_featured_petition_and_lists_the_others(
    client, petition
):
    other = PetitionFactory(title="An older petition", state=Petition.State.CLOSED)
    client.force_login(organiser())
    page = client.get("/admin/petitions/petition/dashboard/").content.decode()
    assert f'<h2 class="dashboard-title">{petition.title} ' in page
    assert f'href="/admin/petitions/petition/dashboard/{other.slug}/"' in page


def test_drafts_have_no_dashboard(client):
    draft = PetitionFactory(state=Petition.State.DRAFT)
    client.force_login(organiser())
    url = f"/admin/petitions/petition/dashboard/{draft.slug}/"
    assert client.get(url).status_code == 404


def test_the_dashboard_costs_the_same_few_queries_at_any_size(
    client, django_assert_max_num_queries
):
    petition = PetitionFactory(slug="big")
    client.force_login(organiser())
    url = "/admin/petitions/petition/dashboard/big/"
    client.get(url)  # warm the session and permission caches
    # Session, user, the second-factor device, two for permissions, petitions,
    # then the dashboard's six:
    # per day, other statuses, countries, paper, fraud watch, sources;
    # the newsletter's subscriber totals and the last retention run.
    with django_assert_max_num_queries(14):
        assert client.get(url).status_code == 200
    many_confirmed(petition, 20_000, every=datetime.timedelta(minutes=3))
    recount(petition)
    with django_assert_max_num_queries(14):
        page = client.get(url).content.decode()
    assert "20,000 confirmed signatures" in page
