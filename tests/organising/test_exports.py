"""CSV exports: exact figures, spreadsheet safety, streaming, the record, the command."""

import csv
import datetime
import io
import tracemalloc
import zoneinfo

import pytest
from django.core.management import CommandError, call_command
from django.http import StreamingHttpResponse
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from organising.exports import CHUNK_BYTES, export_csv, export_filename
from organising.models import SignatureExport
from petitions.models import Petition, Signature
from tests.newsletters.factories import SubscriberFactory
from tests.petitions.factories import (
    ConfirmedSignatureFactory,
    PetitionFactory,
    many_confirmed,
    staff_user,
)

from .factories import organiser

pytestmark = pytest.mark.django_db

LONDON = zoneinfo.ZoneInfo("Europe/London")


def _at(*args):
    return datetime.datetime(*args, tzinfo=LONDON)


def _rows(chunks) -> list[list[str]]:
    text = b"".join(chunks).decode("utf-8")
    assert text.startswith("\ufeff"), "a byte-order mark, for Excel"
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def _export(petition, kind, with_emails=False) -> list[list[str]]:
    _record, chunks = export_csv(
        petition=petition, kind=kind, with_emails=with_emails, requested_by="test"
    )
    return _rows(chunks)


@pytest.fixture
def petition():
    # Closed, as when the list is delivered; open ones are tested apart.
    petition = PetitionFactory(slug="justice", state=Petition.State.CLOSED)
    ConfirmedSignatureFactory(
        petition=petition,
        full_name="José Huamán",
        email="jose@example.org",
        country="PE",
        postcode="",
        created_at=_at(2026, 3, 1, 9),
    )
    ConfirmedSignatureFactory(
        petition=petition,
        full_name="Ana Smith",
        email="ana@example.org",
        country="GB",
        postcode="SW1A 1AA",
        created_at=_at(2026, 3, 3, 12),
    )
    ConfirmedSignatureFactory(
        petition=petition,
        full_name="Rosa Mamani",
        country="PE",
        postcode="15001",
        created_at=_at(2026, 3, 3, 18),
    )
    # Never in an export: not confirmed.
    ConfirmedSignatureFactory(
        petition=petition,
        full_name="Pending Person",
        status=Signature.Status.PENDING,
        country="FR",
    )
    ConfirmedSignatureFactory(
        petition=petition,
        full_name="",
        email="",
        email_normalised=None,
        status=Signature.Status.WITHDRAWN,
        country="",
        withdrawn_at=_at(2026, 3, 4, 9),
    )
    ConfirmedSignatureFactory(
        petition=petition,
        full_name="Fake Name",
        status=Signature.Status.INVALIDATED,
        country="US",
        invalidated_at=_at(2026, 3, 4, 9),
    )
    # Another petition's signature.
    ConfirmedSignatureFactory(country="PE", created_at=_at(2026, 3, 2, 9))
    return petition


def test_counts_by_day_cover_every_day_and_only_confirmed_signatures(petition):
    assert _export(petition, "by-day") == [
        ["Date", "Confirmed signatures"],
        ["2026-03-01", "1"],
        ["2026-03-02", "0"],
        ["2026-03-03", "2"],
    ]


def test_counts_by_day_of_an_open_petition_run_to_today():
    petition = PetitionFactory()
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    ConfirmedSignatureFactory(
        petition=petition,
        created_at=timezone.make_aware(
            datetime.datetime.combine(yesterday, datetime.time(12))
        ),
    )
    assert _export(petition, "by-day")[1:] == [
        [yesterday.isoformat(), "1"],
        [timezone.localdate().isoformat(), "0"],
    ]


def test_counts_by_day_use_the_site_time_zone():
    petition = PetitionFactory(state=Petition.State.CLOSED)
    # 23:30 UTC on 30 June is 00:30 on 1 July in London (summer time).
    ConfirmedSignatureFactory(
        petition=petition,
        created_at=datetime.datetime(2026, 6, 30, 23, 30, tzinfo=datetime.UTC),
    )
    assert _export(petition, "by-day")[1:] == [["2026-07-01", "1"]]


def test_counts_by_country_most_first_with_names(petition):
    assert _export(petition, "by-country") == [
        ["Country code", "Country", "Confirmed signatures"],
        ["PE", "Peru", "2"],
        ["GB", "United Kingdom", "1"],
    ]


def test_delivery_list_has_names_countries_postcodes_and_dates_but_no_emails(
    petition,
):
    assert _export(petition, "delivery") == [
        ["Full name", "Country", "Postcode", "Confirmed on"],
        ["José Huamán", "Peru", "", "2026-03-01"],
        ["Ana Smith", "United Kingdom", "SW1A 1AA", "2026-03-03"],
        ["Rosa Mamani", "Peru", "15001", "2026-03-03"],
    ]


def test_delivery_dates_are_iso_whatever_the_servers_date_style(petition):
    # The dates are written by COPY, in the session's DateStyle, which the
    # export sets; a server configured for another style changes nothing.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET DateStyle TO 'SQL, DMY'")
    try:
        dates = [row[3] for row in _export(petition, "delivery")[1:]]
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET DateStyle TO ISO")
    assert dates == ["2026-03-01", "2026-03-03", "2026-03-03"]


def test_a_country_code_without_a_name_is_written_as_the_code(petition):
    ConfirmedSignatureFactory(petition=petition, full_name="Ana X", country="XK")
    assert ["Ana X", "XK"] in [row[:2] for row in _export(petition, "delivery")]


def test_delivery_list_with_emails_adds_the_address_as_typed(petition):
    rows = _export(petition, "delivery", with_emails=True)
    assert rows[0] == ["Full name", "Country", "Postcode", "Confirmed on", "E-mail"]
    assert [row[4] for row in rows[1:3]] == ["jose@example.org", "ana@example.org"]


def test_only_the_delivery_list_can_include_emails(petition):
    with pytest.raises(ValueError, match="Only the delivery list"):
        export_csv(petition=petition, kind="by-day", with_emails=True)


def test_exports_match_the_database_exactly_at_volume():
    petition = PetitionFactory(state=Petition.State.CLOSED)
    many_confirmed(petition, 3000, start=_at(2026, 1, 31, 23, 59, 30))
    ConfirmedSignatureFactory.create_batch(
        7, petition=petition, status=Signature.Status.PENDING
    )
    confirmed = Signature.objects.confirmed().filter(petition=petition)
    by_day = _export(petition, "by-day")[1:]
    # One a minute from 00:00:30 on 1 February: 1,440 a day.
    assert by_day == [
        ["2026-02-01", "1440"],
        ["2026-02-02", "1440"],
        ["2026-02-03", "120"],
    ]
    assert sum(int(count) for _day, count in by_day) == confirmed.count()
    assert _export(petition, "by-country")[1:] == [["PE", "Peru", "3000"]]
    delivery = _export(petition, "delivery")[1:]
    assert len(delivery) == confirmed.count() == 3000
    assert [row[0] for row in delivery] == list(
        confirmed.order_by("confirmed_at", "pk").values_list("full_name", flat=True)
    )


# ------------------------------------------------------------------------------
# Spreadsheet safety
# ------------------------------------------------------------------------------
HOSTILE = [
    '=HYPERLINK("http://evil.example","click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_cells_that_a_spreadsheet_would_run_are_neutralised(value):
    petition = PetitionFactory()
    ConfirmedSignatureFactory(
        petition=petition,
        full_name=value,
        postcode=value[:16],
        email=value,
    )
    name, _country, postcode, _date, email = _export(
        petition, "delivery", with_emails=True
    )[1]
    assert name == "'" + value
    assert postcode == "'" + value[:16]
    assert email == "'" + value


@pytest.mark.parametrize("value", ["O'Brien", "Ana = Rosa", "Jean-Luc", "a@b", "1+1"])
def test_harmless_cells_are_left_alone(value):
    petition = PetitionFactory()
    ConfirmedSignatureFactory(petition=petition, full_name=value)
    assert _export(petition, "delivery")[1][0] == value


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    names=st.lists(
        # PostgreSQL text cannot hold NUL; surrogates are not UTF-8.
        st.text(
            alphabet=st.characters(
                blacklist_categories=["Cs"], blacklist_characters="\x00"
            ),
            max_size=30,
        ),
        min_size=1,
        max_size=8,
    )
)
def test_any_name_survives_the_csv_and_never_starts_a_formula(db, names):
    petition = PetitionFactory()
    for name in names:
        ConfirmedSignatureFactory(petition=petition, full_name=name)
    exported = [row[0] for row in _export(petition, "delivery")[1:]]
    expected = [
        "'" + name if name[:1] in ("=", "+", "-", "@", "\t", "\r") else name
        for name in names
    ]
    assert exported == expected


# ------------------------------------------------------------------------------
# Streaming
# ------------------------------------------------------------------------------
def _peak_memory_while_exporting(petition) -> tuple[int, int, int]:
    """Peak Python memory while the export runs, the bytes written, the blocks."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        _record, chunks = export_csv(petition=petition, kind="delivery")
        size = blocks = 0
        for chunk in chunks:
            size += len(chunk)
            blocks += 1
            assert len(chunk) < CHUNK_BYTES + 1024
        return tracemalloc.get_traced_memory()[1], size, blocks
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_number_of_rows():
    small, large = PetitionFactory(), PetitionFactory()
    many_confirmed(small, 2_000)
    many_confirmed(large, 40_000)
    small_peak, small_size, _blocks = _peak_memory_while_exporting(small)
    large_peak, large_size, blocks = _peak_memory_while_exporting(large)
    assert large_size > 15 * small_size
    assert blocks > 15
    # Twenty times the rows, but about the same peak: a few blocks at a time.
    assert large_peak < 2 * small_peak + 256 * 1024
    assert large_peak < large_size / 4


def test_the_download_is_a_streaming_response(client):
    petition = PetitionFactory(slug="justice")
    many_confirmed(petition, 5_000)
    client.force_login(organiser())
    response = client.post("/admin/petitions/petition/dashboard/justice/delivery.csv")
    assert isinstance(response, StreamingHttpResponse)
    blocks = list(response.streaming_content)
    assert len(blocks) > 1
    assert len(_rows(blocks)) == 5_001


def test_the_download_has_a_csv_type_and_a_file_name_with_petition_and_date(
    client, petition
):
    client.force_login(organiser())
    response = client.post("/admin/petitions/petition/dashboard/justice/by-country.csv")
    b"".join(response.streaming_content)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="justice-by-country-{today}.csv"'
    )


def test_file_names_say_which_petition_what_and_when(petition):
    day = datetime.date(2026, 5, 1)
    assert (
        export_filename(petition=petition, kind="delivery", with_emails=True, today=day)
        == "justice-delivery-with-emails-2026-05-01.csv"
    )


def test_unknown_kinds_and_petitions_are_not_found(client, petition):
    client.force_login(organiser(permissions=["organising.export_emails"]))
    base = "/admin/petitions/petition/dashboard"
    assert client.post(f"{base}/justice/everything.csv").status_code == 404
    assert client.post(f"{base}/nope/delivery.csv").status_code == 404
    emails = {"emails": "1"}
    assert client.post(f"{base}/justice/by-day.csv", emails).status_code == 404


DELIVERY = "/admin/petitions/petition/dashboard/justice/delivery.csv"


def test_a_download_is_never_taken_by_a_get(client, petition):
    # Another site's link or <img> makes the organiser's browser GET, with
    # their session: that must neither send rows nor fill the export log.
    client.force_login(organiser(permissions=["organising.export_emails"]))
    for url in (
        DELIVERY,
        f"{DELIVERY}?emails=1",
        DELIVERY.replace("delivery", "by-day"),
    ):
        response = client.get(url, headers={"referer": "https://elsewhere.example/"})
        assert response.status_code == 405
        assert response["Allow"] == "POST"
        assert b"Ana" not in response.content
    assert not SignatureExport.objects.exists()


def test_a_download_posted_without_the_csrf_token_is_refused(petition):
    # A form on another site can POST, but cannot know the CSRF token.
    client = Client(enforce_csrf_checks=True)
    client.force_login(organiser(permissions=["organising.export_emails"]))
    response = client.post(DELIVERY, {"emails": "1"})
    assert response.status_code == 403
    assert b"ana@example.org" not in response.content
    assert not SignatureExport.objects.exists()


def test_the_dashboard_form_posts_a_download_with_its_csrf_token(petition):
    client = Client(enforce_csrf_checks=True)
    client.force_login(organiser(permissions=["organising.export_emails"]))
    page = client.get("/admin/petitions/petition/dashboard/justice/")
    token = page.context["csrf_token"]
    response = client.post(DELIVERY, {"emails": "1", "csrfmiddlewaretoken": token})
    assert response.status_code == 200
    assert "ana@example.org" in b"".join(response.streaming_content).decode()
    assert SignatureExport.objects.get().with_emails is True


# ------------------------------------------------------------------------------
# The record of exports
# ------------------------------------------------------------------------------
def test_every_download_is_recorded_with_user_kind_and_row_count(client, petition):
    user = organiser(permissions=["organising.export_emails"])
    client.force_login(user)
    response = client.post(
        "/admin/petitions/petition/dashboard/justice/delivery.csv", {"emails": "1"}
    )
    b"".join(response.streaming_content)
    record = SignatureExport.objects.get()
    assert record.petition == petition
    assert record.user == user
    assert record.requested_by == user.username
    assert record.kind == "delivery"
    assert record.with_emails is True
    assert record.row_count == 3
    assert record.finished is True
    assert record.finished_at >= record.created_at


def test_a_cancelled_download_stays_recorded_as_unfinished():
    petition = PetitionFactory()
    many_confirmed(petition, 20_000)
    record, chunks = export_csv(petition=petition, kind="delivery", requested_by="t")
    first = next(chunks)
    chunks.close()  # what the web server does when the browser goes away
    record.refresh_from_db()
    assert record.finished is False
    assert record.row_count == first.count(b"\n") - 1  # less the header
    assert 0 < record.row_count < 20_000


def test_counts_exports_record_their_row_count(petition):
    record, chunks = export_csv(petition=petition, kind="by-country", requested_by="t")
    b"".join(chunks)
    record.refresh_from_db()
    assert (record.row_count, record.finished) == (2, True)


def test_exports_are_listed_in_the_admin(admin_client, petition):
    _record, chunks = export_csv(petition=petition, kind="by-day", requested_by="x")
    b"".join(chunks)
    page = admin_client.get("/admin/organising/signatureexport/").content.decode()
    assert "Counts by day" in page
    assert "x" in page


# ------------------------------------------------------------------------------
# The command
# ------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["by-day", "by-country", "delivery"])
def test_the_command_writes_the_same_file_as_the_download(
    client, petition, tmp_path, kind
):
    output = tmp_path / "out.csv"
    call_command(
        "export_signatures",
        "justice",
        "--kind",
        kind,
        "--output",
        str(output),
        stderr=io.StringIO(),
    )
    client.force_login(organiser())
    response = client.post(f"/admin/petitions/petition/dashboard/justice/{kind}.csv")
    assert output.read_bytes() == b"".join(response.streaming_content)


def test_the_command_writes_to_standard_output_and_records_the_export(petition):
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command(
        "export_signatures",
        "justice",
        "--kind",
        "delivery",
        "--with-emails",
        stdout=stdout,
        stderr=stderr,
    )
    rows = list(csv.reader(io.StringIO(stdout.getvalue().lstrip("\ufeff"))))
    assert rows[0][-1] == "E-mail"
    assert len(rows) == 4
    assert "3 rows exported" in stderr.getvalue()
    record = SignatureExport.objects.get()
    assert record.user is None
    assert record.requested_by.startswith("command line")
    assert (record.kind, record.with_emails, record.row_count) == ("delivery", True, 3)


def test_the_command_refuses_unknown_petitions_and_emails_with_counts(petition):
    with pytest.raises(CommandError, match="No petition"):
        call_command("export_signatures", "nope", "--kind", "by-day")
    with pytest.raises(CommandError, match="only for --kind delivery"):
        call_command(
            "export_signatures", "justice", "--kind", "by-day", "--with-emails"
        )
    with pytest.raises(CommandError):
        call_command("export_signatures", "justice", "--kind", "everything")
    assert not SignatureExport.objects.exists()


def test_the_command_reports_a_file_it_cannot_write(petition, tmp_path):
    with pytest.raises(CommandError, match="Cannot write"):
        call_command(
            "export_signatures",
            "justice",
            "--kind",
            "by-day",
            "--output",
            str(tmp_path / "missing-folder" / "x.csv"),
        )
    assert not SignatureExport.objects.exists()


def test_the_subscriber_export_is_in_the_export_log(client):
    """Issue 22, item 10e: every copy of addresses leaving the database is on file."""
    subscribers = [SubscriberFactory(email=f"reader-{n}@example.org") for n in range(3)]
    user = staff_user(
        "exporter@example.org",
        permissions=["newsletters.view_subscriber", "organising.export_emails"],
    )
    client.force_login(user)
    response = client.post(
        "/admin/newsletters/subscriber/",
        {
            "action": "export_addresses",
            "_selected_action": [subscriber.pk for subscriber in subscribers],
        },
    )
    body = b"".join(response.streaming_content).decode()
    assert "reader-0@example.org" in body
    record = SignatureExport.objects.get(kind=SignatureExport.Kind.SUBSCRIBERS)
    assert record.user == user
    assert record.with_emails
    assert record.petition is None
    assert record.row_count == 3
    assert record.finished


def test_the_delivery_list_leaves_out_a_withheld_name_and_its_postcode(petition):
    ConfirmedSignatureFactory(
        petition=petition,
        full_name="Carmen Withheld",
        country="PE",
        postcode="PUNO 1",
        name_withheld=True,
        created_at=_at(2026, 3, 4, 9),
    )
    rows = _export(petition, "delivery")
    assert "Carmen Withheld" not in str(rows) and "PUNO 1" not in str(rows)
    assert rows[-1] == [
        "(name withheld at the signer's request)",
        "Peru",
        "",
        "2026-03-04",
    ]
    assert rows[1][0] == "José Huamán"
