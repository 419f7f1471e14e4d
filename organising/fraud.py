"""Fraud watch: who brings many signatures in an hour, alerts, bulk invalidation.

- `signature_hotspots`: per petition and hour, the IP hashes and e-mail
  domains with the most signatures (the dashboard's list).
- `signature_anomalies_check`: e-mails organisers, once per petition, hour and
  value, when one passes settings.FRAUD_ALERT_THRESHOLD; run hourly by
  `manage.py check_signature_anomalies` (scheduled by the task queue).
  Big webmail domains are listed but never alerted on: a surge of gmail.com
  signers is what success looks like.
- `bulk_invalidation_queue` / `bulk_invalidation_run` /
  `bulk_invalidation_undo`: invalidation by criteria, with the number
  affected shown first; the admin records the request and queues it, the
  worker runs it (organising.tasks.run_bulk_invalidation), and it can be
  undone within settings.BULK_INVALIDATION_UNDO_DAYS. Counts stay exact
  because both go through services.signatures_invalidate / signatures_restore,
  and a run is one transaction that also marks the record done, so a retried
  job (after a worker was killed) finds it done or starts from scratch.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from procrastinate.contrib.django import app

from core.email_addresses import PLUS_TAGS_IGNORED
from core.encryption import email_domain_labels
from petitions import services
from petitions.models import Petition, Signature

from .models import BulkInvalidation, BulkInvalidationItem, SignatureAlert

# Shared by very many people: listed on the dashboard, never alerted on.
WEBMAIL_DOMAINS = frozenset(
    {*PLUS_TAGS_IGNORED, "googlemail.com", "yahoo.es", "hotmail.es"}
)
ORGANISERS_GROUP = "Organisers"
# Invalidating is a right on signatures, so the permission stays petitions'.
INVALIDATE_PERMISSION = "petitions.invalidate_signature"
VIEW_SIGNATURE_PERMISSION = "petitions.view_signature"
# The worker's task (organising.tasks) imports this module, so the job is
# deferred by the task's name; an unknown name raises rather than queue a job
# that nothing runs.
RUN_BULK_INVALIDATION_TASK = "organising.tasks.run_bulk_invalidation"


@dataclass(frozen=True)
class Hotspot:
    petition_id: int
    hour: datetime.datetime
    kind: str  # SignatureAlert.Kind
    value: str
    count: int

    @property
    def webmail(self) -> bool:
        return self.kind == SignatureAlert.Kind.EMAIL_DOMAIN and (
            self.value in WEBMAIL_DOMAINS
        )


# Signatures made since %(since)s, per petition, hour and IP hash or domain,
# most first. Scans the signatures of the period only (created_at is recent).
_HOTSPOTS_SQL = """
    WITH recent AS (
        SELECT petition_id, date_trunc('hour', created_at) AS hour, ip_hash,
               email_domain_label AS domain
        FROM petitions_signature
        WHERE created_at >= %(since)s AND created_at < %(until)s
          AND (%(petition_id)s::bigint IS NULL OR petition_id = %(petition_id)s)
    )
    SELECT * FROM (
        SELECT petition_id, hour, 'ip_hash' AS kind, ip_hash AS value, count(*) AS n
        FROM recent WHERE ip_hash <> '' GROUP BY 1, 2, 4
        UNION ALL
        SELECT petition_id, hour, 'email_domain', domain, count(*)
        FROM recent WHERE domain <> '' GROUP BY 1, 2, 4
    ) AS counted
    WHERE n >= %(at_least)s
    ORDER BY n DESC, hour DESC, value
    LIMIT %(limit)s
"""


def signature_hotspots(
    *,
    since: datetime.datetime,
    until: datetime.datetime | None = None,
    petition: Petition | None = None,
    at_least: int = 2,
    limit: int = 20,
) -> list[Hotspot]:
    """IP hashes and e-mail domains with the most signatures per petition and hour."""
    with connection.cursor() as cursor:
        cursor.execute(
            _HOTSPOTS_SQL,
            {
                "since": since,
                "until": until or timezone.now() + datetime.timedelta(hours=1),
                "petition_id": petition.pk if petition else None,
                "at_least": at_least,
                "limit": limit,
            },
        )
        return [Hotspot(*row) for row in cursor.fetchall()]


def _organiser_addresses() -> list[str]:
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    return sorted(
        set(
            users.filter(
                Q(groups__name=ORGANISERS_GROUP) | Q(is_superuser=True)
            ).values_list("email", flat=True)
        )
    )


def signature_anomalies_check(
    *, now=None, threshold: int | None = None, dry_run: bool = False
) -> list[Hotspot]:
    """Alert organisers to values past the threshold in the last two hours.

    The current hour and the one before are checked, so a check run at any
    minute sees a whole hour. Each (petition, hour, kind, value) is e-mailed
    once: the SignatureAlert row is the memory of that. Returns the new alerts.
    """
    now = now or timezone.now()
    threshold = threshold or settings.FRAUD_ALERT_THRESHOLD
    since = now.replace(minute=0, second=0, microsecond=0) - datetime.timedelta(hours=1)
    found = [
        hotspot
        for hotspot in signature_hotspots(
            since=since, until=now, at_least=threshold, limit=500
        )
        if not hotspot.webmail
    ]
    if dry_run:
        return found
    new = []
    for hotspot in found:
        try:
            with transaction.atomic():
                SignatureAlert.objects.create(
                    petition_id=hotspot.petition_id,
                    hour=hotspot.hour,
                    kind=hotspot.kind,
                    value=hotspot.value,
                    count=hotspot.count,
                    created_at=now,
                )
        except IntegrityError:
            continue  # already alerted on
        new.append(hotspot)
    recipients = _organiser_addresses()
    if new and recipients:
        petitions = Petition.objects.in_bulk({h.petition_id for h in new})
        send_mail(
            subject=ngettext(
                "Fraud watch: %(count)d unusual source of signatures",
                "Fraud watch: %(count)d unusual sources of signatures",
                len(new),
            )
            % {"count": len(new)},
            message=render_to_string(
                "organising/email/fraud_alert.txt",
                {
                    "alerts": [(petitions[h.petition_id], h) for h in new],
                    "threshold": threshold,
                    "site_url": settings.SITE_URL,
                },
            ),
            from_email=None,
            recipient_list=recipients,
        )
    return new


# ------------------------------------------------------------------------------
# Bulk invalidation
# ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Criteria:
    petition: Petition
    created_from: datetime.datetime | None = None
    created_until: datetime.datetime | None = None
    ip_hash: str = ""
    email_domain: str = ""
    country: str = ""
    name_contains: str = ""

    def as_json(self) -> dict:
        return {
            "petition": self.petition.slug,
            "created_from": self.created_from.isoformat()
            if self.created_from
            else None,
            "created_until": self.created_until.isoformat()
            if self.created_until
            else None,
            "ip_hash": self.ip_hash,
            "email_domain": self.email_domain,
            "country": self.country,
            "name_contains": self.name_contains,
        }


def criteria_from_json(*, petition: Petition, data: dict) -> Criteria:
    """The criteria a BulkInvalidation recorded, as `Criteria.as_json` wrote them."""

    def when(value):
        return datetime.datetime.fromisoformat(value) if value else None

    return Criteria(
        petition=petition,
        created_from=when(data.get("created_from")),
        created_until=when(data.get("created_until")),
        ip_hash=data.get("ip_hash", ""),
        email_domain=data.get("email_domain", ""),
        country=data.get("country", ""),
        name_contains=data.get("name_contains", ""),
    )


def criteria_check_permitted(*, criteria: Criteria, user) -> None:
    """Refuse name matching to someone who may not read signatures: the
    count it gives back, a letter at a time, says who signed."""
    if criteria.name_contains and not user.has_perm(VIEW_SIGNATURE_PERMISSION):
        raise ValidationError(
            _(
                "Matching by name needs the permission to view signatures; "
                "leave “Name contains” empty."
            ),
            code="permission",
        )


def signatures_matching(criteria: Criteria) -> QuerySet:
    """The petition's signatures that still stand and match every criterion.

    At least one criterion besides the petition is required, so nobody
    invalidates a whole petition by leaving the form empty.
    """
    condition = Q()
    if criteria.created_from:
        condition &= Q(created_at__gte=criteria.created_from)
    if criteria.created_until:
        condition &= Q(created_at__lt=criteria.created_until)
    if criteria.ip_hash:
        condition &= Q(ip_hash=criteria.ip_hash.strip())
    if criteria.email_domain:
        condition &= Q(
            email_domain_label__in=email_domain_labels(criteria.email_domain)
        )
    if criteria.country:
        condition &= Q(country=criteria.country.upper())
    needle = criteria.name_contains.strip().casefold()
    if not condition and not needle:
        raise ValidationError(
            _("Give at least one criterion besides the petition."), code="empty"
        )
    matching = Signature.objects.active().filter(condition, petition=criteria.petition)
    if needle:
        # Names are encrypted, so the database cannot compare them: the rows
        # the other criteria leave are decrypted and compared here.
        ids = [
            pk
            for pk, name in matching.values_list("pk", "full_name").iterator()
            if needle in name.casefold()
        ]
        matching = Signature.objects.filter(pk__in=ids)
    return matching


def bulk_invalidation_queue(
    *, criteria: Criteria, user=None, now=None
) -> BulkInvalidation:
    """Record an invalidation by criteria and queue it for the worker.

    The job is deferred through Django's connection, inside this transaction:
    the record exists if and only if its job does. Raises ValidationError for
    criteria that name nothing but the petition.
    """
    with transaction.atomic():
        bulk = _bulk_record(criteria=criteria, user=user, now=now)
        app.configure_task(RUN_BULK_INVALIDATION_TASK, allow_unknown=False).defer(
            bulk_id=bulk.pk
        )
    return bulk


def _bulk_record(*, criteria: Criteria, user, now) -> BulkInvalidation:
    signatures_matching(criteria)  # refuses empty criteria before recording
    return BulkInvalidation.objects.create(
        petition=criteria.petition,
        criteria=criteria.as_json(),
        created_by=user,
        created_at=now or timezone.now(),
        state=BulkInvalidation.State.QUEUED,
    )


def bulk_invalidation_run(*, bulk_id: int, now=None) -> BulkInvalidation | None:
    """Invalidate every signature matching a queued invalidation's criteria,
    remembering each one's status so `bulk_invalidation_undo` can give it back.

    One transaction, with the record locked: the items, the invalidation, the
    count and the `done` state commit together or not at all. Running it again
    on a done record changes nothing. Returns None if the record is gone.
    """
    now = now or timezone.now()
    with transaction.atomic():
        bulk = (
            BulkInvalidation.objects.select_for_update()
            .select_related("petition")
            .filter(pk=bulk_id)
            .first()
        )
        if bulk is None or bulk.state == BulkInvalidation.State.DONE:
            return bulk
        criteria = criteria_from_json(petition=bulk.petition, data=bulk.criteria)
        matching = signatures_matching(criteria).select_for_update()
        BulkInvalidationItem.objects.bulk_create(
            BulkInvalidationItem(
                bulk=bulk,
                signature_id=pk,
                previous_status=status,
                previous_show_publicly=show,
            )
            for pk, status, show in matching.values_list(
                "pk", "status", "show_publicly"
            ).iterator(chunk_size=5000)
        )
        bulk.count = services.signatures_invalidate(
            signatures=Signature.objects.filter(
                pk__in=bulk.items.values("signature_id")
            ),
            now=now,
        )
        # The undo's grace period and its "invalidated since" rule count from
        # when the signatures were invalidated, not from the request.
        bulk.created_at = now
        bulk.state = BulkInvalidation.State.DONE
        bulk.done_at = now
        bulk.save(update_fields=["count", "created_at", "state", "done_at"])
    return bulk


def signatures_invalidate_bulk(
    *, criteria: Criteria, user=None, now=None
) -> BulkInvalidation:
    """Record and run an invalidation at once, without the queue (the shell,
    tests): the same record and run the admin and the worker go through."""
    with transaction.atomic():
        bulk = _bulk_record(criteria=criteria, user=user, now=now)
        return bulk_invalidation_run(bulk_id=bulk.pk, now=now)


def bulk_invalidation_undo_deadline(bulk: BulkInvalidation) -> datetime.datetime:
    return bulk.created_at + datetime.timedelta(
        days=settings.BULK_INVALIDATION_UNDO_DAYS
    )


def bulk_invalidation_undo(*, bulk: BulkInvalidation, user=None, now=None) -> int:
    """Give the signatures of a bulk invalidation their status back, within the
    grace period; counts go back up. Returns how many were restored."""
    now = now or timezone.now()
    with transaction.atomic():
        bulk = BulkInvalidation.objects.select_for_update().get(pk=bulk.pk)
        if bulk.state != BulkInvalidation.State.DONE:
            raise ValidationError(
                _("This invalidation has not run yet: there is nothing to undo.")
            )
        if bulk.undone_at is not None:
            raise ValidationError(_("This invalidation has already been undone."))
        if now > bulk_invalidation_undo_deadline(bulk):
            raise ValidationError(
                _(
                    "This invalidation is more than %(days)d days old: it can "
                    "no longer be undone."
                )
                % {"days": settings.BULK_INVALIDATION_UNDO_DAYS}
            )
        restored = services.signatures_restore(
            items=bulk.items.all(), invalidated_at=bulk.created_at
        )
        bulk.undone_at = now
        bulk.undone_by = user
        bulk.restored = restored
        bulk.save(update_fields=["undone_at", "undone_by", "restored"])
    return restored
