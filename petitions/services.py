"""The rules of signing: create, confirm, withdraw, unsubscribe, invalidate, count.

Views, admin actions, management commands and tests all call these functions;
nothing else writes signatures or counts.
"""

import enum
import functools
import random
from collections import Counter
from collections.abc import Callable, Mapping

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, override
from django.utils.translation import gettext as _

from core import encryption
from core.http_cache import shared_pages_forget

from . import ratelimit, selectors, signals, validators
from .models import (
    COUNT_SHARDS,
    Petition,
    Signature,
    SignatureCount,
    accepting_petition_sql,
    blocked_sender_sql,
)

# Reads live in selectors; these two are re-exported for existing callers.
from .selectors import petition_counts_by_country as petition_counts_by_country
from .selectors import petition_signature_count


class SignOutcome(enum.Enum):
    """What happened to a sign request. Never shown to the signer."""

    CREATED = "created"
    REPEAT_PENDING = "repeat_pending"
    REPEAT_CONFIRMED = "repeat_confirmed"
    REPEAT_IGNORED = "repeat_ignored"
    HONEYPOT = "honeypot"
    # From a blocked e-mail domain or address range: nothing stored or sent.
    BLOCKED = "blocked"


def petition_refusal_message(petition: Petition, now=None) -> str:
    """Why the petition refuses signatures now (Petition.signing_phase)."""
    phase = petition.signing_phase(now)
    if phase == Petition.Phase.NOT_YET_OPEN:
        return _("This petition is not open for signatures yet.")
    if phase == Petition.Phase.DRAFT:
        return _("This petition is not open for signatures.")
    return _(
        "This petition has closed and no longer accepts signatures. Thank you "
        "for your support."
    )


def petition_signing_refusal(petition: Petition, now=None) -> str | None:
    """Why the sign form is not shown (a surge switch's message, or the
    petition's phase), or None when it accepts signatures."""
    if not petition.is_accepting_signatures(now):
        return petition_refusal_message(petition, now)
    return selectors.signing_pause_message(petition)


class PetitionNotOpen(Exception):
    """No petition open for signatures has this slug (none, a draft, closed,
    or not open yet); the caller finds out which, off the hot path."""


def signature_create(
    *,
    petition: Petition | None = None,
    petition_slug: str | None = None,
    full_name: str,
    email: str,
    country: str,
    postcode: str = "",
    wants_updates: bool = False,
    show_publicly: bool = False,
    name_withheld: bool = False,
    consent_language: str | None = None,
    ip_hash: str = "",
    client_ip: str | None = None,
    source: str = "",
    rate_limit: ratelimit.Hit | None = None,
    now=None,
) -> SignOutcome:
    """Record a pending signature with its confirmation e-mail due, atomically.

    Signing again with the same (normalised) address creates nothing: the
    existing signer is e-mailed instead (a fresh confirmation link, or a note
    that they have already signed), at most SIGNATURE_MAX_REPEAT_EMAILS times.
    The caller cannot tell the cases apart from the outcome shown to the user.

    Give the petition, or only its slug (the sign POST): the petition is then
    found in the same statement that stores the row, and PetitionNotOpen is
    raised if no open petition has that slug. A petition that is not open
    raises ValidationError with the reason.

    With `rate_limit`, the request is counted in the same statement, and if a
    limit is exceeded nothing is stored and ratelimit.RateLimited is raised.

    The e-mail counts against its mailbox's limit (ratelimit.mailbox_hit),
    in the same statement too. Past it the signature is stored all the same,
    with no e-mail due: the signer sees the usual "check your inbox", and
    signing again once the window has passed sends the link (a repeat). A
    refusal would tell whoever typed the address that it had been used.

    From an e-mail domain or a `client_ip` on a block list, nothing is stored
    or sent and the outcome is BLOCKED, which the caller answers like any
    other (docs/organisers.md says why). The address is compared in the same
    statement and never stored.
    """
    if (petition is None) == (petition_slug is None):
        raise TypeError("signature_create needs a petition or a petition_slug")
    now = now or timezone.now()
    if petition is not None and not petition.is_accepting_signatures(now):
        raise ValidationError(petition_refusal_message(petition, now), code="closed")
    cleaned = validators.clean_signer(
        full_name=full_name, email=email, country=country, postcode=postcode
    )
    # Encrypted and indexed here, in Python (core.encryption): the statement
    # below takes the stored values as they are.
    email_normalised = encryption.email_index(cleaned["email"])
    outcome, petition_id = _signature_insert_or_repeat(
        {
            "full_name": encryption.encrypt(cleaned["full_name"]),
            "email": encryption.encrypt(cleaned["email"]),
            "email_normalised": email_normalised,
            "email_domain_label": encryption.email_domain_label(cleaned["email"]),
            "country": cleaned["country"],
            "postcode": encryption.encrypt(cleaned["postcode"]),
            "wants_updates": wants_updates,
            "show_publicly": show_publicly,
            "name_withheld": name_withheld,
            "consent_version": settings.SIGNATURE_CONSENT_VERSION,
            "consent_language": (consent_language or get_language() or "en")[:10],
            "ip_hash": ip_hash,
            "source": validators.clean_source(source),
            "created_at": now,
            "email_due_at": now,
        },
        petition_key=petition.pk if petition is not None else petition_slug,
        sender=[
            validators.email_domain_suffixes(cleaned["email"]),
            validators.client_address(client_ip or ""),
        ],
        rate_limit=rate_limit,
        mailbox=ratelimit.mailbox_hit(email=cleaned["email"]),
        now=now,
    )
    if petition_id is None:
        if petition is None:
            raise PetitionNotOpen(petition_slug)
        # Closed or paused between the caller's read and this statement.
        petition.refresh_from_db()
        paused = selectors.signing_pause_message(petition)
        if petition.is_accepting_signatures(now) and paused is not None:
            raise ValidationError(paused, code="paused")
        raise ValidationError(petition_refusal_message(petition, now), code="closed")
    return outcome


# The columns the sign POST writes, in this order. Every other column of
# petitions_signature takes its database default (db_default) or NULL;
# tests/petitions/test_signature_insert.py fails when a NOT NULL column
# without one is missing here.
SIGNATURE_INSERT_COLUMNS = (
    "full_name",
    "email",
    "email_normalised",
    "email_domain_label",
    "country",
    "postcode",
    "wants_updates",
    "show_publicly",
    "name_withheld",
    "consent_version",
    "consent_language",
    "ip_hash",
    "source",
    "created_at",
    # The confirmation e-mail is due at once (petitions.outbox sends it),
    # unless its mailbox has had its share (ratelimit.mailbox_hit).
    "email_due_at",
)


def _signature_insert_or_repeat(
    values: dict,
    *,
    petition_key: int | str,
    sender: list,
    rate_limit: ratelimit.Hit | None,
    mailbox: ratelimit.Hit,
    now,
) -> tuple[SignOutcome, int | None]:
    """Insert the row (`values` by SIGNATURE_INSERT_COLUMNS) into the open
    petition with this id or slug, its confirmation e-mail due unless the
    `mailbox` limit is reached, unless the sender (blocked_sender_sql's
    parameters) is on a block list. Returns the outcome and the petition's
    id, or None if it is not open (the outcome then means nothing).

    If this address has signed, the same statement makes the existing row's
    e-mail due again instead: a fresh link while pending, a note that they
    have signed once confirmed, numbered anew (a new Message-ID, from
    repeat_emails_sent), replacing one not sent yet. Not for a withdrawn or
    invalidated signature, past SIGNATURE_MAX_REPEAT_EMAILS, or past the
    mailbox's limit. A new and a repeat signature thus cost the same round
    trip: timing cannot tell whether an address has signed.

    One statement (the sign POST's hot path): the petition's lookup, the rate
    limit's counting and the row, together or not at all, in one round trip
    and without a transaction block around them (a statement is atomic by
    itself). The e-mail is the row's own state: nothing else is written.

    ON CONFLICT DO UPDATE rather than catching an IntegrityError: a unique
    violation makes PostgreSQL write the offending key, the signer's e-mail
    address, to its server log. A concurrent insert of the same address is
    waited for, then taken as a repeat, as the unique index would have it.
    """
    params = []
    rate_sql = ""
    counted = None
    if rate_limit is not None:
        rate_sql, params, counted = rate_limit.sql(now)
        rate_sql += ","
    # A request the client limit refuses e-mails nobody: not counted.
    mail_sql, mail_params, _counted = mailbox.sql(
        now, only_if="(SELECT ok FROM rate_allowed)" if rate_limit else "true"
    )
    rate_sql += f"{mail_sql},"
    params += mail_params
    sql = _signature_insert_sql(
        rate_limited=rate_limit is not None, by_slug=isinstance(petition_key, str)
    )
    _accepting, accepting_params = accepting_petition_sql(now)
    params += [*sender, petition_key, *accepting_params]
    # Plain Python values, which psycopg adapts itself: Django's per-field
    # preparation (and a model instance) would only cost time on the hot path.
    params += [values[column] for column in SIGNATURE_INSERT_COLUMNS]
    params += [
        Signature.Status.PENDING,
        Signature.Email.CONFIRM,
        Signature.Email.ALREADY_SIGNED,
        list(Signature.ACTIVE_STATUSES),
        settings.SIGNATURE_MAX_REPEAT_EMAILS,
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {rate_sql} {sql}", params)
        fetched = cursor.fetchall()
    if counted is not None:
        wait = counted.wait([row[1:4] for row in fetched if row[0] == "rate"])
        if wait is not None:
            raise ratelimit.RateLimited(wait)
    by_kind = {row[0]: row for row in fetched if row[0] != "rate"}
    petition_id = by_kind["petition"][2] if "petition" in by_kind else None
    if "blocked" in by_kind:
        return SignOutcome.BLOCKED, petition_id
    if "signed" not in by_kind:
        return SignOutcome.REPEAT_IGNORED, petition_id
    _kind, status, _id, inserted = by_kind["signed"]
    if inserted:
        return SignOutcome.CREATED, petition_id
    if status == Signature.Status.PENDING:
        return SignOutcome.REPEAT_PENDING, petition_id
    return SignOutcome.REPEAT_CONFIRMED, petition_id


@functools.cache
def _signature_insert_sql(*, rate_limited: bool, by_slug: bool) -> str:
    """The statement after the rate limit's CTEs (four variants, built once)."""
    allowed = "(SELECT ok FROM rate_allowed)" if rate_limited else "true"
    accepting, _params = accepting_petition_sql(None)
    # Each row names what it carries: ("rate", key, start, hits) per rate-limit
    # window, ("petition", NULL, id) if the petition is open, ("blocked",
    # NULL, id) if the sender is on a block list, ("signed", status, id, 1)
    # if the row was stored, ("signed", status, id, 0) if an existing row's
    # e-mail was made due again.
    select = (
        "SELECT 'petition', NULL::text, id, NULL::bigint FROM open_petition "
        "UNION ALL SELECT 'blocked', NULL::text, id, NULL::bigint "
        "FROM open_petition WHERE blocked "
        "UNION ALL SELECT 'signed', status::text, id, inserted::int::bigint "
        "FROM signed"
    )
    if rate_limited:
        select = f"SELECT 'rate', key, start, hits FROM rate_hits UNION ALL {select}"
    # The open petition's condition is Petition.is_accepting_signatures in
    # SQL (models.accepting_petition_sql; the caller passes its parameters).
    # The casts name the types of values that are not in a VALUES list.
    return f"""
        open_petition AS (
            SELECT id, {blocked_sender_sql()} AS blocked FROM petitions_petition
            WHERE {"slug" if by_slug else "id"} = %s AND {accepting}
        ),
        signed AS (
            INSERT INTO petitions_signature
                (petition_id, {", ".join(SIGNATURE_INSERT_COLUMNS)})
            SELECT open_petition.id,
                   %s::text, %s::text, %s::varchar, %s::varchar, %s::varchar,
                   %s::text, %s::boolean, %s::boolean, %s::boolean, %s::varchar,
                   %s::varchar, %s::varchar, %s::varchar, %s::timestamptz,
                   CASE WHEN (SELECT ok FROM mail_allowed) THEN %s::timestamptz END
            FROM open_petition
            WHERE {allowed} AND NOT open_petition.blocked
            ON CONFLICT (petition_id, email_normalised) DO UPDATE SET
                email_kind = CASE WHEN petitions_signature.status = %s
                                  THEN %s ELSE %s END,
                repeat_emails_sent = petitions_signature.repeat_emails_sent + 1,
                email_due_at = now(),
                -- A worker still holding the previous e-mail loses its claim
                -- (its mark no longer matches): the new one goes out alone.
                email_lease_until = NULL,
                email_attempts = 0,
                email_last_error = ''
            WHERE petitions_signature.status = ANY(%s::varchar[])
              AND petitions_signature.repeat_emails_sent < %s
              AND (SELECT ok FROM mail_allowed)
            -- xmax is 0 on a row this statement inserted, not on one it
            -- updated: the one way to tell them apart in RETURNING.
            RETURNING id, status, xmax = 0 AS inserted
        )
        {select}"""


@transaction.atomic
def signature_confirm(*, signature_id: int, now=None) -> Signature:
    """Confirm a pending signature and count it. Confirming twice changes nothing."""
    now = now or timezone.now()
    signature = (
        Signature.objects.select_for_update(of=("self",))
        .select_related("petition")
        .filter(pk=signature_id)
        .first()
    )
    if signature is None or signature.status not in Signature.ACTIVE_STATUSES:
        raise ValidationError(
            _("This signature no longer exists. It may have been withdrawn."),
            code="gone",
        )
    if signature.status == Signature.Status.CONFIRMED:
        return signature
    if not signature.petition.is_accepting_signatures(now):
        raise ValidationError(
            petition_refusal_message(signature.petition, now), code="closed"
        )
    petition_count_add(
        petition_id=signature.petition_id, country=signature.country, delta=1
    )
    signature.status = Signature.Status.CONFIRMED
    signature.confirmed_at = now
    signature.confirmed_position = petition_signature_count(signature.petition)
    signature.save(update_fields=["status", "confirmed_at", "confirmed_position"])
    signals.signature_confirmed.send(Signature, signature=signature, now=now)
    return signature


@transaction.atomic
def signature_withdraw(*, signature_id: int, now=None) -> bool:
    """Take a signature out of the count and delete its personal data.

    Returns False when there was nothing left to withdraw.
    """
    now = now or timezone.now()
    signature = Signature.objects.select_for_update().filter(pk=signature_id).first()
    if signature is None or signature.status == Signature.Status.WITHDRAWN:
        return False
    if signature.status == Signature.Status.CONFIRMED:
        petition_count_add(
            petition_id=signature.petition_id, country=signature.country, delta=-1
        )
    email_normalised = signature.email_normalised
    Signature.objects.filter(pk=signature.pk).update(
        status=Signature.Status.WITHDRAWN,
        withdrawn_at=now,
        **PERSONAL_DATA_BLANKED,
        country="",
        show_publicly=False,
        wants_updates=False,
        # An e-mail not sent yet is not sent at all.
        email_due_at=None,
        email_lease_until=None,
    )
    if signature.show_publicly:
        _public_signers_changed(petition_ids=[signature.petition_id])
    # The newsletter's list forgets the address too, by its own rules.
    signals.signature_withdrawn.send(Signature, email_normalised=email_normalised)
    return True


@transaction.atomic
def signature_name_correct(*, signature_id: int, full_name: str) -> bool:
    """Correct a signer's name, at their request (their own page). Checked as
    the sign form checks it. Returns False if the signature holds no personal
    data any more (withdrawn or anonymised)."""
    full_name = validators.clean_full_name(full_name)
    signature = (
        Signature.objects.select_for_update()
        .filter(pk=signature_id, email_normalised__isnull=False)
        .exclude(status=Signature.Status.WITHDRAWN)
        .first()
    )
    if signature is None:
        return False
    Signature.objects.filter(pk=signature.pk).update(full_name=full_name)
    if signature.show_publicly:
        _public_signers_changed(petition_ids=[signature.petition_id])
    return True


def _public_signers_changed(*, petition_ids) -> None:
    """Cached petition pages list recent public signers: drop them once the
    change is committed, so a name taken back leaves the page at once."""
    petition_ids = sorted(set(petition_ids))
    if not petition_ids:
        return
    petitions = list(Petition.objects.filter(pk__in=petition_ids).only("slug"))
    pages = []
    for code, _name in settings.LANGUAGES:
        with override(code):
            pages.append((reverse("home"), code))
            pages += [(petition.get_absolute_url(), code) for petition in petitions]
    transaction.on_commit(lambda: shared_pages_forget(pages))


# What "deleting a signer's personal data" sets; shared with retention.
PERSONAL_DATA_BLANKED = {
    "full_name": "",
    "email": "",
    "email_normalised": None,
    "email_domain_label": "",
    "postcode": "",
    "ip_hash": "",
}


@transaction.atomic
def signature_unsubscribe(*, signature_id: int, now=None) -> bool:
    """Stop campaign updates to this signer. Returns False if already stopped."""
    updated = Signature.objects.filter(pk=signature_id, wants_updates=True).update(
        wants_updates=False, unsubscribed_at=now or timezone.now()
    )
    email_normalised = (
        Signature.objects.filter(pk=signature_id)
        .values_list("email_normalised", flat=True)
        .first()
    )
    if email_normalised:
        # The same address stops getting the newsletter as well.
        stopped = signals.signature_unsubscribed.send(
            Signature, email_normalised=email_normalised, now=now
        )
        updated += sum(bool(response) for _receiver, response in stopped)
    return bool(updated)


@transaction.atomic
def signatures_invalidate(*, signatures: QuerySet, now=None) -> int:
    """Mark signatures as invalid (fraud, abuse); confirmed ones leave the count."""
    now = now or timezone.now()
    rows = list(
        signatures.active()
        .select_for_update()
        .values_list("pk", "status", "petition_id", "country", "show_publicly")
    )
    if not rows:
        return 0
    confirmed = Counter(
        (petition_id, country)
        for _pk, status, petition_id, country, _shown in rows
        if status == Signature.Status.CONFIRMED
    )
    Signature.objects.filter(pk__in=[row[0] for row in rows]).update(
        status=Signature.Status.INVALIDATED, invalidated_at=now, show_publicly=False
    )
    for (petition_id, country), number in confirmed.items():
        petition_count_add(petition_id=petition_id, country=country, delta=-number)
    _public_signers_changed(petition_ids=[row[2] for row in rows if row[4]])
    return len(rows)


@transaction.atomic
def signatures_restore(*, items: QuerySet, invalidated_at) -> int:
    """Undo an invalidation: give each signature back its status from before.

    `items` are BulkInvalidationItem rows (signature, previous_status,
    previous_show_publicly). Only signatures still invalidated at
    `invalidated_at` (the same invalidation) are restored; one withdrawn or
    invalidated again since is left alone. Confirmed ones go back into the
    count. Returns how many were restored.
    """
    locked = dict(
        Signature.objects.filter(
            pk__in=items.values("signature_id"),
            status=Signature.Status.INVALIDATED,
            invalidated_at=invalidated_at,
        )
        .select_for_update()
        .values_list("pk", "country")
    )
    rows = [
        (pk, status, show, petition_id, locked[pk])
        for pk, status, show, petition_id in items.filter(
            signature_id__in=list(locked)
        ).values_list(
            "signature_id",
            "previous_status",
            "previous_show_publicly",
            "signature__petition_id",
        )
    ]
    for status in {row[1] for row in rows}:
        for show in (False, True):
            Signature.objects.filter(
                pk__in=[r[0] for r in rows if r[1] == status and r[2] == show]
            ).update(status=status, invalidated_at=None, show_publicly=show)
    confirmed = Counter(
        (petition_id, country)
        for _pk, status, _show, petition_id, country in rows
        if status == Signature.Status.CONFIRMED
    )
    for (petition_id, country), number in confirmed.items():
        petition_count_add(petition_id=petition_id, country=country, delta=number)
    return len(rows)


def _sharing(petition_id: int, *, ip_hash: str = "", email_domain: str = "") -> Q:
    if ip_hash:
        return Q(petition_id=petition_id, ip_hash=ip_hash)
    return Q(
        petition_id=petition_id,
        email_domain_label__in=encryption.email_domain_labels(email_domain),
    )


def signatures_invalidate_matching(
    *, petition: Petition, ip_hash: str = "", email_domain: str = ""
) -> int:
    """Invalidate every active signature of a petition sharing an IP hash or domain."""
    if bool(ip_hash) == bool(email_domain):
        raise ValidationError(_("Give either an IP hash or an e-mail domain."))
    condition = _sharing(petition.pk, ip_hash=ip_hash, email_domain=email_domain)
    return signatures_invalidate(signatures=Signature.objects.filter(condition))


def signatures_sharing_with(selected: QuerySet, *, shared: str) -> QuerySet:
    """Every signature that shares, within its petition, an IP hash
    (shared="ip_hash") or an e-mail domain (shared="email_domain") with one of
    `selected`: one query, whatever the number of selected rows."""
    # The stored value itself (an IP hash, a domain label): the domain behind
    # a label need not be known.
    field = "ip_hash" if shared == "ip_hash" else "email_domain_label"
    pairs = selected.exclude(**{field: ""}).values_list("petition_id", field)
    condition = Q(pk__in=[])
    for petition_id, value in set(pairs):
        condition |= Q(petition_id=petition_id, **{field: value})
    return Signature.objects.filter(condition)


# ------------------------------------------------------------------------------
# Counts
# ------------------------------------------------------------------------------
def petition_count_add(*, petition_id: int, country: str, delta: int) -> None:
    """Move a petition's running count for one country by `delta` (negative to
    take away), on a random shard row so that concurrent writers rarely wait
    on each other. Callers run it in the transaction of the change it counts.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO petitions_signaturecount
                (petition_id, country, shard, count, updated_at)
            VALUES (%s, %s, %s, %s, now())
            ON CONFLICT (petition_id, country, shard) DO UPDATE
            SET count = petitions_signaturecount.count + EXCLUDED.count,
                updated_at = now()
            """,
            [petition_id, str(country or ""), random.randrange(COUNT_SHARDS), delta],
        )


@transaction.atomic
def signature_counts_reconcile(
    *, petition: Petition, read_paper_counts: Callable[[Petition], Mapping[str, int]]
) -> tuple[int, int]:
    """Rebuild a petition's count rows exactly from its confirmed signatures
    and its signatures on paper, which `read_paper_counts` returns by country
    code.

    The paper batches belong to the back office, which passes their reader
    (organising.paper.signature_counts_reconcile). It is called once the count
    rows are locked, so a batch saved meanwhile is neither lost nor counted
    twice; and it is required, so no caller rebuilds the rows without paper
    by mistake.

    Returns the total before and after. Confirmations wait on the table lock
    for the moment this takes, so none is lost or counted twice.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "LOCK TABLE petitions_signaturecount IN SHARE ROW EXCLUSIVE MODE"
        )
    before = petition_signature_count(petition)
    actual = Counter()
    for country, total in (
        Signature.objects.confirmed()
        .filter(petition=petition)
        .values_list("country")
        .annotate(total=Count("pk"))
        .order_by()
    ):
        actual[country] = total
    actual.update(read_paper_counts(petition))
    SignatureCount.objects.filter(petition=petition).delete()
    now = timezone.now()
    SignatureCount.objects.bulk_create(
        SignatureCount(
            petition=petition, country=country, shard=0, count=total, updated_at=now
        )
        for country, total in actual.items()
    )
    return before, sum(actual.values())


# ------------------------------------------------------------------------------
# Retention
# ------------------------------------------------------------------------------
ANONYMISE_BATCH_SIZE = 10_000


def petitions_closed_before(closed_before) -> QuerySet:
    """Petitions that stopped taking signatures before `closed_before`.

    A petition has closed when its closing time has passed, whatever its
    state. One closed by hand (state "closed") without a closing time is
    taken to have closed when it was last saved: later edits only postpone
    the deletion, never bring it forward.
    """
    return Petition.objects.filter(
        Q(closes_at__lt=closed_before)
        | Q(
            state=Petition.State.CLOSED,
            closes_at__isnull=True,
            updated_at__lt=closed_before,
        )
    )


def signatures_anonymise(*, closed_before, dry_run: bool = False, now=None) -> int:
    """Delete the personal data of every signature of petitions closed before a date.

    The privacy notice promises this six months after a petition closes; the
    retention run (organising.services.retention_run) and `manage.py
    anonymise_signatures` pass the date. Status, country and dates stay, so
    the counts by day and by country, and the public total, do not change.
    Works in batches, each its own transaction, so a large petition never
    holds long locks. Returns the number of signatures anonymised (or, with
    `dry_run`, that would be).
    """
    signatures = (
        Signature.objects.filter(
            petition__in=petitions_closed_before(closed_before),
            anonymised_at__isnull=True,
        )
        # Withdrawal already deleted their personal data.
        .exclude(status=Signature.Status.WITHDRAWN)
    )
    return _signatures_anonymise_in_batches(
        signatures, dry_run=dry_run, now=now or timezone.now()
    )


def signatures_invalidated_anonymise(
    *, invalidated_before, dry_run: bool = False, now=None
) -> int:
    """Delete the personal data of signatures invalidated before a time.

    The retention run passes the end of the undo window
    (BULK_INVALIDATION_UNDO_DAYS): until then an invalidation can be undone
    and the signature counted again; after it, nothing needs the person's
    details. They stay invalidated and out of the counts. Returns the number
    anonymised (or, with `dry_run`, that would be).
    """
    signatures = Signature.objects.filter(
        status=Signature.Status.INVALIDATED,
        invalidated_at__lt=invalidated_before,
        anonymised_at__isnull=True,
    )
    return _signatures_anonymise_in_batches(
        signatures, dry_run=dry_run, now=now or timezone.now()
    )


def signatures_unconfirmed_delete(*, created_before, dry_run: bool = False) -> int:
    """Delete signatures never confirmed and made before `created_before`
    (their link has expired: the privacy notice's 30 days). They were never
    counted, so no count changes. Returns the number deleted (or that would be)."""
    pending = Signature.objects.filter(
        status=Signature.Status.PENDING, created_at__lt=created_before
    )
    if dry_run:
        return pending.count()
    _deleted, by_model = pending.delete()
    return by_model.get(Signature._meta.label, 0)


def _signatures_anonymise_in_batches(signatures: QuerySet, *, dry_run, now) -> int:
    if dry_run:
        return signatures.count()
    total = 0
    while True:
        with transaction.atomic():
            batch = list(
                signatures.order_by("pk").values_list("pk", flat=True)[
                    :ANONYMISE_BATCH_SIZE
                ]
            )
            if not batch:
                # Subscribers who were only on the list through these
                # signatures' opt-in leave it too (newsletters' receiver).
                signals.signatures_anonymised.send(Signature)
                return total
            total += Signature.objects.filter(pk__in=batch).update(
                **PERSONAL_DATA_BLANKED,
                # Nothing left to show or to write to.
                show_publicly=False,
                wants_updates=False,
                anonymised_at=now,
            )
