"""Reads of petitions and their counts: the one place views, the dashboard,
exports and services get them from.

The public count is the sum of a petition's SignatureCount rows (a handful per
country, whatever the number of signatures). The two queries the public pages
run on every request (a petition with its count) are SQL: building the
equivalent annotated queryset costs more CPU than the query itself. The
rest is plain ORM.
"""

from django.db import connection
from django.db.models import F, Max, Q, Sum

from core.encryption import email_indexes

from . import validators
from .models import (
    PAPER_BATCH_TABLE,
    Petition,
    Signature,
    SignatureCount,
    SigningPause,
    SiteBanner,
    blocked_sender_sql,
    public_petition_sql,
)

PUBLIC_SIGNERS_SHOWN = 5

_WITH_COUNT_SQL = """
    SELECT p.*, COALESCE((
        SELECT SUM(c.count) FROM {counts} c
        WHERE c.petition_id = p.id), 0)::bigint AS signature_count,
    COALESCE((
        SELECT SUM(b.count) FROM {paper} b
        WHERE b.petition_id = p.id), 0)::bigint AS paper_count,
    (SELECT s.id FROM {pauses} s
        WHERE s.petition_id IS NULL OR s.petition_id = p.id
        ORDER BY s.petition_id NULLS LAST LIMIT 1) AS signing_pause_id
    FROM {petitions} p
    WHERE {public} {condition}
    ORDER BY {order} LIMIT 1
"""


def _with_count(condition: str, order: str, params: list) -> Petition | None:
    public, public_params = public_petition_sql("p")
    sql = _WITH_COUNT_SQL.format(
        counts=SignatureCount._meta.db_table,
        paper=PAPER_BATCH_TABLE,
        pauses=SigningPause._meta.db_table,
        petitions=Petition._meta.db_table,
        public=public,
        condition=condition,
        order=order,
    )
    return next(iter(Petition.objects.raw(sql, [*public_params, *params])), None)


# The sign POST's lookup, written once in SQL and turned into a Petition by
# Model.from_db: building the ORM query, then a raw queryset's column
# mapping, cost more CPU than the query itself.
_PETITION_FIELDS = Petition._meta.concrete_fields
_PETITION_COLUMNS = [field.attname for field in _PETITION_FIELDS]
_PUBLIC_CONDITION, _PUBLIC_PARAMS = public_petition_sql("p")
_PUBLIC_PETITION_BY_SLUG = (
    "SELECT "
    + ", ".join(f"p.{connection.ops.quote_name(f.column)}" for f in _PETITION_FIELDS)
    + f" FROM {Petition._meta.db_table} p"
    + f" WHERE p.slug = %s AND {_PUBLIC_CONDITION}"
)


def petition_public_by_slug(*, slug: str) -> Petition | None:
    """The public petition with this slug, without its counts, or None."""
    with connection.cursor() as cursor:
        cursor.execute(_PUBLIC_PETITION_BY_SLUG, [slug, *_PUBLIC_PARAMS])
        row = cursor.fetchone()
    return None if row is None else Petition.from_db("default", _PETITION_COLUMNS, row)


def petition_public_with_count(*, slug: str) -> Petition | None:
    """The public petition with this slug, with `signature_count` (paper
    batches included) and `paper_count`, or None."""
    return _with_count("AND p.slug = %s", "p.id", [slug])


def petition_featured_with_count() -> Petition | None:
    """The petition the home page shows (the newest open one, else the newest
    public one), with `signature_count`, or None."""
    return _with_count("", "(p.state = 'open') DESC, p.created_at DESC", [])


def petition_signature_count(petition: Petition) -> int:
    """Confirmed signatures and paper batches, from the count rows: cheap at
    any size."""
    total = SignatureCount.objects.filter(petition=petition).aggregate(
        total=Sum("count")
    )["total"]
    return int(total or 0)


def petition_paper_count(petition: Petition) -> int:
    """Signatures on paper: the sum of the petition's batches."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COALESCE(SUM(count), 0) FROM {PAPER_BATCH_TABLE} "
            "WHERE petition_id = %s",
            [petition.pk],
        )
        return int(cursor.fetchone()[0])


def petition_signature_and_paper_counts(petition: Petition) -> tuple[int, int]:
    """The total (online and paper) and the part of it on paper."""
    return petition_signature_count(petition), petition_paper_count(petition)


# Countries with fewer supporters than this are counted together, so no
# public page or feed ever points at one person in a small country.
COUNTRY_TABLE_MIN_COUNT = 3


def public_counts_by_country(by_country: dict[str, int]) -> tuple[dict[str, int], int]:
    """The countries a public page may name, and how many signatures are in
    the others (small countries and none recorded) together: the countries
    page and the public JSON share this rule."""
    shown = {
        code: count
        for code, count in by_country.items()
        if code and count >= COUNTRY_TABLE_MIN_COUNT
    }
    return shown, sum(by_country.values()) - sum(shown.values())


def public_moment(at):
    """A time made public, to the minute: an exact one, polled, says when
    each signature was counted (and so, beside a known signing, whose)."""
    return at.replace(second=0, microsecond=0)


def petition_counts_by_country(petition: Petition) -> tuple[dict[str, int], object]:
    """Confirmed signatures per country code ("" where none was recorded), most
    first, and when a count last moved."""
    rows = (
        SignatureCount.objects.filter(petition=petition)
        .values("country")
        .annotate(total=Sum("count"), moved_at=Max("updated_at"))
        .exclude(total=0)
        .order_by("-total", "country")
        .values_list("country", "total", "moved_at")
    )
    rows = list(rows)
    by_country = {country: int(total) for country, total, _at in rows}
    updated_at = max((at for _c, _t, at in rows), default=None)
    return by_country, updated_at


def petition_public_signers(petition: Petition) -> list[Signature]:
    """The latest signers who chose to be shown (first name and country only)."""
    return list(
        petition.signatures.shown_publicly()
        .order_by("-confirmed_at")
        .only("full_name", "country", "petition_id")[:PUBLIC_SIGNERS_SHOWN]
    )


def signing_pause_message(petition: Petition) -> str | None:
    """The message of the surge switch pausing signing on this petition (its
    own, else the whole site's), or None if signing is not paused. A petition
    read with its count (_with_count) already knows whether one exists, so a
    page that is not paused asks nothing more."""
    if hasattr(petition, "signing_pause_id"):
        if petition.signing_pause_id is None:
            return None
        pause = SigningPause.objects.filter(pk=petition.signing_pause_id).first()
        return pause.message if pause is not None else None
    pause = (
        SigningPause.objects.filter(Q(petition=None) | Q(petition=petition))
        .order_by(F("petition").asc(nulls_last=True))
        .first()
    )
    return pause.message if pause is not None else None


def site_banners() -> list[SiteBanner]:
    """The banners shown on every public page now."""
    return list(SiteBanner.objects.filter(is_active=True).order_by("pk"))


def sender_blocked(*, email: str, client_ip: str | None = None) -> bool:
    """Whether the address's domain (or a domain above it) or the client's
    address is on a block list; the same rule as the sign statement's."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {blocked_sender_sql()}",
            [
                validators.email_domain_suffixes(email),
                validators.client_address(client_ip or ""),
            ],
        )
        return cursor.fetchone()[0]


def petition_names_withheld_count(petition: Petition) -> int:
    """Confirmed signers who asked to be counted without their name being
    handed over: the delivery pack states the number."""
    return (
        Signature.objects.confirmed()
        .filter(petition=petition, name_withheld=True)
        .count()
    )


def signatures_of_address(*, email: str):
    """Every signature held for this e-mail address, newest first, with its
    petition: what a supporter's own page shows and changes.

    The one place the supporters' rights find a signer by address.
    """
    return (
        Signature.objects.filter(email_normalised__in=email_indexes(email))
        .select_related("petition")
        .order_by("-created_at", "-pk")
    )
