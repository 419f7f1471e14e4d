"""CSV exports of a petition's confirmed signatures, for the web and the command line.

One code path: `export_csv()` records the export and returns the bytes of the
file as an iterator. The download view wraps it in a StreamingHttpResponse;
`manage.py export_signatures` writes it to a file or to standard output.

Streaming: each kind is one SELECT that PostgreSQL itself turns into CSV with
`COPY (SELECT ...) TO STDOUT`. The server sends the rows one at a time as it
produces them (the COPY protocol is a server-side cursor without the round
trips), and they are passed on in blocks of about 64 kB, so memory stays flat
whatever the number of rows, and the time stays close to what PostgreSQL alone
needs (`make bench` compares the two).

Spreadsheet safety: because PostgreSQL writes the CSV, every text cell is
neutralised in the SQL itself (`_spreadsheet_safe`): a cell beginning with
`=`, `+`, `-`, `@`, a tab or a carriage return gets a leading apostrophe, so
Excel, LibreOffice and Google Sheets show it as text instead of running it as
a formula. The sign form already refuses such names; this protects the file
from anything that reached the table another way.

The files are UTF-8 with a byte-order mark, because without it Excel reads
"José Huamán" as "JosÃ© HuamÃ¡n"; other programs skip the mark.
"""

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from psycopg.types.json import Jsonb

from core.encryption import decryptor
from core.spreadsheets import FORMULA_PREFIXES
from petitions.models import Petition, Signature

from .models import SignatureExport

Kind = SignatureExport.Kind

# Blocks handed to the web server or the file: big enough that the per-block
# overhead vanishes, small enough that memory stays flat.
CHUNK_BYTES = 64 * 1024
BOM = "\ufeff".encode()

# The organisers' permissions, in one place (the Organisers group's data
# migration, 0003, grants all but EMAILS_PERMISSION). Each export kind needs
# its permission; e-mail addresses need one more.
DASHBOARD_PERMISSION = "organising.view_dashboard"
VIEW_EXPORTS_PERMISSION = "organising.view_signatureexport"
EXPORT_PERMISSIONS = {
    Kind.BY_DAY: "organising.export_counts",
    Kind.BY_COUNTRY: "organising.export_counts",
    Kind.BY_SOURCE: "organising.export_counts",
    Kind.DELIVERY: "organising.export_delivery_list",
    Kind.DELIVERY_PDF: "organising.export_delivery_list",
}
EMAILS_PERMISSION = "organising.export_emails"
# The kinds a petition's dashboard offers (the subscribers' list is taken
# from the subscribers' admin page).
PETITION_KINDS = [kind for kind in Kind if kind in EXPORT_PERMISSIONS]

# The file type of each kind; the download's address ends with it.
EXTENSIONS = {**dict.fromkeys(Kind, "csv"), Kind.DELIVERY_PDF: "pdf"}
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "pdf": "application/pdf"}


@dataclass(frozen=True)
class Download:
    """One download the dashboard offers: a form POSTed to `url`, with
    `emails=1` when `with_emails` (a GET would let another site make an
    organiser's browser take a download and fill the export log)."""

    kind: str
    with_emails: bool
    label: str
    url: str


def downloads_for(user, *, petition: Petition) -> list[Download]:
    """The dashboard's download links: every export kind this user may take."""
    downloads = []
    for kind in PETITION_KINDS:
        for with_emails in (False, True) if kind == Kind.DELIVERY else (False,):
            if not user_may_export(user, kind=kind, with_emails=with_emails):
                continue
            url = reverse(
                "organising:export",
                args=[petition.slug, kind.value, EXTENSIONS[kind]],
            )
            downloads.append(
                Download(
                    kind=kind.value,
                    with_emails=with_emails,
                    label=(
                        _("Delivery list with e-mail addresses")
                        if with_emails
                        else kind.label
                    ),
                    url=url,
                )
            )
    return downloads


# The first characters that make a spreadsheet cell a formula (or can hide
# one): = + - @ tab and carriage return. They are matched by code point with
# ascii(), which reads the first character without copying the text, so the
# check costs little per row.
FORMULA_TRIGGERS = (*FORMULA_PREFIXES, "\t", "\r")
_TRIGGER_CODES = ", ".join(str(ord(char)) for char in FORMULA_TRIGGERS)


def _spreadsheet_safe(column: str) -> str:
    """SQL that prefixes a text value with ' when a spreadsheet would run it.

    Empty text becomes NULL, which COPY writes as an empty cell rather than "".
    """
    return (
        f"CASE WHEN ascii({column}) IN ({_TRIGGER_CODES}) "
        f"THEN '''' || {column} ELSE nullif({column}, '') END"
    )


# Confirmed signatures per local day (settings.TIME_ZONE), from the first to
# the last confirmation, or to %(until)s if later; days without any are 0.
# Each day is a range count on the (petition, status, confirmed_at) index, read
# from the index alone, so a million signatures take well under a second. The
# dashboard runs the same query, so its table and this export always agree.
PER_DAY_SQL = """
    WITH bounds AS (
        SELECT (min(confirmed_at) AT TIME ZONE %(tz)s)::date AS first_day,
               greatest(
                   (max(confirmed_at) AT TIME ZONE %(tz)s)::date, %(until)s::date
               ) AS last_day
        FROM petitions_signature
        WHERE petition_id = %(petition_id)s AND status = %(confirmed)s
    )
    SELECT day::date AS day, (
        SELECT count(*) FROM petitions_signature AS s
        WHERE s.petition_id = %(petition_id)s AND s.status = %(confirmed)s
          AND s.confirmed_at >= day::timestamp AT TIME ZONE %(tz)s
          AND s.confirmed_at < (day + interval '1 day')::timestamp AT TIME ZONE %(tz)s
    ) AS confirmed
    FROM bounds,
         generate_series(bounds.first_day, bounds.last_day, interval '1 day') AS day
    ORDER BY 1
"""

_COUNTRY_NAMES_JOIN = """
    LEFT JOIN unnest(%(country_codes)s::text[], %(country_names)s::text[])
        AS names(code, name) ON names.code = s.country
"""

_BY_COUNTRY_SQL = f"""
    SELECT {_spreadsheet_safe("s.country")},
           {_spreadsheet_safe("coalesce(names.name, s.country)")},
           count(*) AS confirmed
    FROM petitions_signature AS s
    {_COUNTRY_NAMES_JOIN}
    WHERE s.petition_id = %(petition_id)s AND s.status = %(confirmed)s
    GROUP BY s.country, names.name
    ORDER BY confirmed DESC, s.country
"""

# Confirmed signatures per source label; "" (no source) is an empty cell.
BY_SOURCE_SQL = f"""
    SELECT {_spreadsheet_safe("s.source")}, count(*) AS confirmed
    FROM petitions_signature AS s
    WHERE s.petition_id = %(petition_id)s AND s.status = %(confirmed)s
    GROUP BY s.source
    ORDER BY confirmed DESC, s.source
"""
# The labelled ones only, from the partial index signature_confirmed_source:
# the dashboard works out "no source" from the confirmed total.
LABELLED_SOURCES_SQL = """
    SELECT s.source, count(*) AS confirmed
    FROM petitions_signature AS s
    WHERE s.petition_id = %(petition_id)s AND s.status = %(confirmed)s
      AND s.source <> ''
    GROUP BY s.source
"""

# A signer who asked to be counted without their name handed over keeps a
# row (the list still adds up to the count) with this in place of the name,
# and no postcode, which with the country and date could point to them.
NAME_WITHHELD_CELL = "(name withheld at the signer's request)"

# The name, postcode and e-mail leave the database as ciphertext (core.
# encryption): _stream decrypts them, row by row, and makes them spreadsheet
# safe in Python (a value without the cipher's prefix, like the withheld
# name's cell, passes through as it is). Their positions in the row are
# DELIVERY_ENCRYPTED.
_DELIVERY_COLUMNS = [
    "CASE WHEN s.name_withheld THEN %(name_withheld_cell)s ELSE s.full_name END",
    _spreadsheet_safe("s.country_name"),
    "CASE WHEN s.name_withheld THEN NULL ELSE s.postcode END",
    # A date, which COPY writes as YYYY-MM-DD under DateStyle ISO (_stream
    # sets it), with no formatting function to run per row.
    "(s.confirmed_at AT TIME ZONE %(tz)s)::date",
]
DELIVERY_ENCRYPTED = (0, 2)
DELIVERY_EMAIL_ENCRYPTED = (*DELIVERY_ENCRYPTED, 4)

# The country's name is a key lookup in one jsonb object (a binary search),
# not a join: without a join the rows come in the order of the index
# signature_petition_status_day, and the export streams from it with a small
# incremental sort instead of sorting a million finished rows on disk. OFFSET
# 0 keeps the inner query apart, so each lookup runs once per row, not once
# per mention in the spreadsheet-safe CASEs.
_DELIVERY_SQL = """
    SELECT {columns}
    FROM (
        SELECT s.id, s.full_name, s.postcode, s.email, s.confirmed_at,
               s.name_withheld,
               coalesce(%(country_names_by_code)s ->> s.country, s.country)
                   AS country_name
        FROM petitions_signature AS s
        WHERE s.petition_id = %(petition_id)s AND s.status = %(confirmed)s
        ORDER BY s.confirmed_at, s.id
        OFFSET 0
    ) AS s
    ORDER BY s.confirmed_at, s.id
"""

HEADERS = {
    Kind.BY_DAY: ["Date", "Confirmed signatures"],
    Kind.BY_COUNTRY: ["Country code", "Country", "Confirmed signatures"],
    Kind.BY_SOURCE: ["Source", "Confirmed signatures"],
    Kind.DELIVERY: ["Full name", "Country", "Postcode", "Confirmed on"],
}


def per_day_until(petition: Petition, now=None):
    """The last day of PER_DAY_SQL's series: today while the petition is open,
    so a quiet day shows as 0; else its last confirmation."""
    now = now or timezone.now()
    return timezone.localdate(now) if petition.is_accepting_signatures(now) else None


def export_query(
    *, petition: Petition, kind: str, with_emails: bool = False
) -> tuple[list[str], str, dict]:
    """The header row, and the SELECT (with its parameters) giving the rows."""
    kind = Kind(kind)
    if with_emails and kind != Kind.DELIVERY:
        raise ValueError("Only the delivery list can include e-mail addresses.")
    header = list(HEADERS[kind])
    params = {
        "petition_id": petition.pk,
        "confirmed": Signature.Status.CONFIRMED,
        "tz": settings.TIME_ZONE,
    }
    if kind == Kind.BY_DAY:
        sql = f"SELECT to_char(day, 'YYYY-MM-DD'), confirmed FROM ({PER_DAY_SQL}) AS d"
        params["until"] = per_day_until(petition)
        return header, sql, params
    if kind == Kind.BY_SOURCE:
        return header, BY_SOURCE_SQL, params
    with translation.override("en"):
        named = list(countries)
    if kind == Kind.BY_COUNTRY:
        params["country_codes"] = [country.code for country in named]
        params["country_names"] = [str(country.name) for country in named]
        return header, _BY_COUNTRY_SQL, params
    columns = list(_DELIVERY_COLUMNS)
    if with_emails:
        header.append("E-mail")
        columns.append("s.email")
    params["name_withheld_cell"] = NAME_WITHHELD_CELL
    params["country_names_by_code"] = Jsonb(
        {country.code: str(country.name) for country in named}
    )
    return header, _DELIVERY_SQL.format(columns=", ".join(columns)), params


def export_filename(
    *, petition: Petition, kind: str, with_emails: bool = False, today=None
) -> str:
    """For example justice-for-peru-delivery-2026-11-26.csv."""
    today = today or timezone.localdate()
    emails = "-with-emails" if with_emails else ""
    extension = EXTENSIONS[Kind(kind)]
    return f"{petition.slug}-{Kind(kind).value}{emails}-{today:%Y-%m-%d}.{extension}"


def user_may_export(user, *, kind: str, with_emails: bool = False) -> bool:
    permissions = [EXPORT_PERMISSIONS[Kind(kind)]]
    if with_emails:
        permissions.append(EMAILS_PERMISSION)
    return user.has_perms(permissions)


def export_file(
    *,
    petition: Petition,
    kind: str,
    with_emails: bool = False,
    user=None,
    requested_by: str = "",
) -> tuple[SignatureExport, Iterator[bytes]]:
    """`export_csv`, or the PDF delivery pack: record, then stream."""
    if Kind(kind) == Kind.DELIVERY_PDF:
        from .delivery_pack import export_delivery_pack  # reportlab: load when used

        return export_delivery_pack(
            petition=petition,
            user=user,
            requested_by=requested_by,
            language=translation.get_language(),
        )
    return export_csv(
        petition=petition,
        kind=kind,
        with_emails=with_emails,
        user=user,
        requested_by=requested_by,
    )


def export_csv(
    *,
    petition: Petition,
    kind: str,
    with_emails: bool = False,
    user=None,
    requested_by: str = "",
) -> tuple[SignatureExport, Iterator[bytes]]:
    """Record an export now; return the record and the CSV file's bytes, streamed.

    The record (who, when, which petition and kind) is written at once, so an
    export that fails or is cancelled is still on file. Its row count and
    `finished` are filled in when the stream ends: at the last row, or, for a
    download the browser abandons, when the web server closes the stream (then
    `finished` stays False and the count is the rows sent). Permissions are the
    caller's job: the view checks them; the command line is trusted.
    """
    header, sql, params = export_query(
        petition=petition, kind=kind, with_emails=with_emails
    )
    if user is not None and not requested_by:
        requested_by = user.get_username()
    record = SignatureExport.objects.create(
        petition=petition,
        kind=kind,
        with_emails=with_emails,
        user=user,
        requested_by=requested_by,
    )
    encrypted = ()
    if Kind(kind) == Kind.DELIVERY:
        encrypted = DELIVERY_EMAIL_ENCRYPTED if with_emails else DELIVERY_ENCRYPTED
    return record, _stream(
        record=record, header=header, sql=sql, params=params, encrypted=encrypted
    )


_NEEDS_QUOTES = re.compile('[",\r\n]')


def _csv_cell(text: str) -> str:
    # Quoted only where needed, as COPY's csv quotes.
    if _NEEDS_QUOTES.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def _decrypted_lines(copy, encrypted: tuple[int, ...]) -> Iterator[bytes]:
    """COPY's text rows with the columns at `encrypted` decrypted, as CSV lines.

    COPY's own text format is split on tabs (ciphertext and the other
    columns carry no tab or backslash: the country names are a fixed list,
    the date digits), which is quicker than the csv module's reader."""
    decrypt = decryptor()
    for block in copy:
        cells = bytes(block)[:-1].decode().split("\t")
        for index, cell in enumerate(cells):
            if cell == "\\N":
                cells[index] = ""
            elif index in encrypted:
                text = decrypt(cell)
                # The SQL's triggers (_spreadsheet_safe), tab and return too.
                if text.startswith(FORMULA_TRIGGERS):
                    text = "'" + text
                cells[index] = _csv_cell(text)
            else:
                cells[index] = _csv_cell(cell)
        yield (",".join(cells) + "\n").encode()


def _stream(
    *,
    record: SignatureExport,
    header: list[str],
    sql: str,
    params: dict,
    encrypted: tuple[int, ...] = (),
) -> Iterator[bytes]:
    head = io.StringIO()
    csv.writer(head, lineterminator="\n").writerow(header)
    buffer = bytearray(BOM + head.getvalue().encode())
    rows_buffered = rows_sent = 0
    finished = False
    try:
        # Stopping a COPY part-way cancels it, which aborts the transaction
        # around it: a transaction (or savepoint) of its own keeps that from
        # spoiling the caller's, and lets the record below be written.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL DateStyle TO ISO")
            # PostgreSQL's COPY format csv quotes only where needed and ends
            # lines with \n; the header above is written the same way.
            copy_sql = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"
            if encrypted:
                copy_sql = f"COPY ({sql}) TO STDOUT"
            with cursor.cursor.copy(copy_sql, params) as copy:
                # libpq hands over exactly one row per block, so counting
                # blocks counts rows, even for a download cut short.
                rows = _decrypted_lines(copy, encrypted) if encrypted else copy
                for row in rows:
                    buffer += row
                    rows_buffered += 1
                    if len(buffer) >= CHUNK_BYTES:
                        # Counted as sent once handed over, before the pause.
                        rows_sent += rows_buffered
                        rows_buffered = 0
                        chunk = bytes(buffer)
                        buffer.clear()
                        yield chunk
        rows_sent += rows_buffered
        finished = True
        yield bytes(buffer)
    finally:
        SignatureExport.objects.filter(pk=record.pk).update(
            row_count=rows_sent, finished=finished, finished_at=timezone.now()
        )


def subscriber_export_csv(
    *, csv_chunks: Iterator[str], user
) -> tuple[SignatureExport, Iterator[str]]:
    """Record an export of subscribers' addresses now, like every other copy
    of personal data that leaves the database; return the record and the
    CSV (`csv_chunks`, from newsletters' admin), streamed. Its row count and
    `finished` are filled in when the stream ends, as for export_csv."""
    record = SignatureExport.objects.create(
        petition=None,
        kind=Kind.SUBSCRIBERS,
        with_emails=True,
        user=user,
        requested_by=user.get_username(),
    )
    return record, _stream_counted(record, csv_chunks)


def _stream_counted(record: SignatureExport, chunks: Iterator[str]) -> Iterator[str]:
    # One line per row: addresses, languages and dates hold no line breaks.
    lines = 0
    finished = False
    try:
        for chunk in chunks:
            lines += chunk.count("\n")
            yield chunk
        finished = True
    finally:
        SignatureExport.objects.filter(pk=record.pk).update(
            row_count=max(lines - 1, 0), finished=finished, finished_at=timezone.now()
        )
