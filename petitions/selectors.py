"""Reads of petitions and their counts: the one place views, the dashboard,
exports and services get them from.

The public count is the sum of a petition's SignatureCount rows (a handful per
country, whatever the number of signatures). The two queries the public pages
run on every request (a petition with its count) are SQL: building the
equivalent annotated queryset costs more CPU than the query itself (~0.5 ms,
profiled). The rest is plain ORM.
"""

from django.db import connection
from django.db.models import Max, Sum

from .models import PAPER_BATCH_TABLE, Petition, Signature, SignatureCount

PUBLIC_SIGNERS_SHOWN = 5

_WITH_COUNT_SQL = """
    SELECT p.*, COALESCE((
        SELECT SUM(c.count) FROM {counts} c
        WHERE c.petition_id = p.id), 0)::bigint AS signature_count,
    COALESCE((
        SELECT SUM(b.count) FROM {paper} b
        WHERE b.petition_id = p.id), 0)::bigint AS paper_count
    FROM {petitions} p
    WHERE p.state <> %s {condition}
    ORDER BY {order} LIMIT 1
"""


def _with_count(condition: str, order: str, params: list) -> Petition | None:
    sql = _WITH_COUNT_SQL.format(
        counts=SignatureCount._meta.db_table,
        paper=PAPER_BATCH_TABLE,
        petitions=Petition._meta.db_table,
        condition=condition,
        order=order,
    )
    return next(iter(Petition.objects.raw(sql, [Petition.State.DRAFT, *params])), None)


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
