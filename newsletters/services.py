"""The newsletter's rules: publishing entries, the mailing list, sending issues.

Views, admin actions, commands, webhooks, tasks and tests call these
functions; nothing else writes subscribers, issues or deliveries. How a send
stays exactly-once is in newsletters/delivery.py.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from procrastinate import exceptions as procrastinate_exceptions
from procrastinate.contrib.django import app

from core.email_addresses import clean_email
from core.emails import site_language
from core.encryption import email_index, email_indexes
from petitions import ratelimit
from petitions import selectors as petition_selectors
from petitions.models import Signature

from .emails import issue_message, issue_render
from .models import Delivery, Entry, Issue, Subscriber

# The jobs these services queue, by name: newsletters.tasks runs them and
# imports this module, so naming them keeps the imports one way.
SEND_SUBSCRIPTION_CONFIRMATION_TASK = "newsletters.tasks.send_subscription_confirmation"
SEND_ISSUE_BATCHES_TASK = "newsletters.tasks.send_issue_batches"


@transaction.atomic
def entry_publish(*, entry: Entry, at: datetime.datetime | None = None) -> bool:
    """Switch an entry on so that it goes public at `at` (default: now).

    A time in the future schedules the entry. An entry that is already public
    is left as it is, so publishing it twice does not move its date.
    Returns whether anything changed.
    """
    now = timezone.now()
    if at is not None and timezone.is_naive(at):
        raise ValidationError(
            _("The publication time needs a time zone."), code="naive_datetime"
        )
    if entry.is_public and at is None:
        return False
    entry.is_published = True
    entry.pub_date = at or now
    entry.save(update_fields=["is_published", "pub_date", "updated_at"])
    return True


@transaction.atomic
def entry_unpublish(*, entry: Entry) -> bool:
    """Turn an entry back into a draft. Returns whether anything changed."""
    if not entry.is_published:
        return False
    entry.is_published = False
    entry.save(update_fields=["is_published", "updated_at"])
    return True


# ------------------------------------------------------------------------------
# The mailing list
# ------------------------------------------------------------------------------
def subscriber_get_or_insert_locked(
    *, email_normalised: str, defaults: dict
) -> tuple[Subscriber, bool]:
    """The address's subscriber, locked for this transaction, inserted with
    `defaults` if there was none; and whether it was inserted.

    get_or_create would catch the IntegrityError of two simultaneous
    requests (a double click), and each unique violation makes PostgreSQL
    write the offending key, the subscriber's address, into its server log.
    INSERT ... ON CONFLICT DO NOTHING waits for the other insert and skips,
    so no violation is ever raised.
    """
    row = Subscriber(email_normalised=email_normalised, **defaults)
    fields = [
        field for field in Subscriber._meta.concrete_fields if not field.primary_key
    ]
    quote = connection.ops.quote_name
    values = [
        field.get_db_prep_save(field.pre_save(row, add=True), connection)
        for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(Subscriber._meta.db_table)} "
            f"({', '.join(quote(field.column) for field in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))}) "
            f"ON CONFLICT ({quote('email_normalised')}) DO NOTHING",
            values,
        )
        created = cursor.rowcount == 1
    subscriber = Subscriber.objects.select_for_update().get(
        email_normalised=email_normalised
    )
    return subscriber, created


def subscriber_from_signature(*, signature: Signature, now=None) -> Subscriber | None:
    """Put a confirmed signer who asked for updates on the list.

    Called when a signature is confirmed. An address already on the list
    stays as it is (one subscriber per address); one that unsubscribed
    before is subscribed again, because asking for updates on a new
    signature is a fresh opt-in. Bounced and complained addresses stay
    suppressed. Returns the subscriber, or None if nothing applies.
    """
    if not (
        signature.wants_updates
        and signature.email_normalised
        and signature.status == Signature.Status.CONFIRMED
    ):
        return None
    now = now or timezone.now()
    with transaction.atomic():
        subscriber, created = subscriber_get_or_insert_locked(
            email_normalised=signature.email_normalised,
            defaults={
                "email": signature.email,
                "language": site_language(signature.consent_language or ""),
                "source": Subscriber.Source.SIGNER,
                "status": Subscriber.Status.CONFIRMED,
                "consent_version": signature.consent_version,
                "consent_language": signature.consent_language,
                "created_at": now,
                "confirmed_at": now,
                "status_changed_at": now,
            },
        )
        if created or subscriber.status in (
            Subscriber.Status.CONFIRMED,
            *Subscriber.SUPPRESSED_STATUSES,
        ):
            return subscriber
        # Pending (a form subscription not yet confirmed) or unsubscribed:
        # the signature's opt-in is consent enough.
        subscriber.email = signature.email
        subscriber.status = Subscriber.Status.CONFIRMED
        subscriber.confirmed_at = now
        subscriber.status_changed_at = now
        subscriber.consent_version = signature.consent_version
        subscriber.consent_language = signature.consent_language
        subscriber.save()
        return subscriber


def subscriber_subscribe(
    *,
    email: str,
    language: str | None = None,
    client_ip: str | None = None,
    now=None,
) -> Subscriber | None:
    """Start a subscription from the form: a pending subscriber and a
    confirmation e-mail (double opt-in), queued in the same transaction.

    An address already subscribed (and confirmed through the form) gets no
    e-mail, and repeat requests send at most SIGNATURE_MAX_REPEAT_EMAILS
    confirmation e-mails, so nobody can flood an inbox. The caller shows the
    same page whatever happened. Returns the subscriber, or None if the
    request was ignored: that includes an address at a blocked e-mail domain
    or a request from a blocked `client_ip` (nothing stored, nothing sent).
    """
    now = now or timezone.now()
    email = clean_email(email)
    if petition_selectors.sender_blocked(email=email, client_ip=client_ip):
        return None
    email_normalised = email_index(email)
    language = site_language(language or translation_language())
    with transaction.atomic():
        subscriber, created = subscriber_get_or_insert_locked(
            email_normalised=email_normalised,
            defaults={
                "email": email,
                "language": language,
                "source": Subscriber.Source.FORM,
                "status": Subscriber.Status.PENDING,
                "consent_version": settings.NEWSLETTER_CONSENT_VERSION,
                "consent_language": language,
                "created_at": now,
                "status_changed_at": now,
            },
        )
        if not created:
            if (
                subscriber.status == Subscriber.Status.CONFIRMED
                and subscriber.form_confirmed_at
            ):
                return None
            if subscriber.confirm_emails_sent >= settings.SIGNATURE_MAX_REPEAT_EMAILS:
                return None
            if subscriber.status != Subscriber.Status.CONFIRMED:
                subscriber.status = Subscriber.Status.PENDING
                subscriber.status_changed_at = now
                subscriber.email = email
                subscriber.language = language
        if ratelimit.mailbox_hit(email=email).count(now) is not None:
            # The mailbox has had its share of e-mails (every +tag of it): a
            # new address stays pending, unmailed, as on the sign form, and
            # asking again once the window has passed sends the link.
            return None
        subscriber.confirm_emails_sent += 1
        subscriber.save()
        app.configure_task(
            SEND_SUBSCRIPTION_CONFIRMATION_TASK, allow_unknown=False
        ).defer(subscriber_id=subscriber.pk)
    return subscriber


def translation_language() -> str:

    return get_language() or settings.LANGUAGE_CODE


@transaction.atomic
def subscriber_confirm(*, subscriber_id: int, now=None) -> Subscriber:
    """Confirm a subscription made with the form. Confirming twice changes nothing.

    Records the form's consent wording, and that the subscription now stands
    on its own, whatever happens to the person's signatures.
    """
    now = now or timezone.now()
    subscriber = Subscriber.objects.select_for_update().filter(pk=subscriber_id).first()
    if subscriber is None:
        raise ValidationError(
            _("This subscription no longer exists. Please subscribe again."),
            code="gone",
        )
    if (
        subscriber.form_confirmed_at
        and subscriber.status == Subscriber.Status.CONFIRMED
    ):
        return subscriber
    subscriber.status = Subscriber.Status.CONFIRMED
    subscriber.confirmed_at = subscriber.confirmed_at or now
    subscriber.form_confirmed_at = now
    subscriber.status_changed_at = now
    subscriber.consent_version = settings.NEWSLETTER_CONSENT_VERSION
    subscriber.consent_language = subscriber.language
    subscriber.save()
    return subscriber


def _cancel_queued(subscriber_ids) -> None:
    """Deliveries not yet handed to a worker are called off at once."""
    Delivery.objects.filter(
        subscriber_id__in=subscriber_ids, state=Delivery.State.QUEUED
    ).update(state=Delivery.State.CANCELLED, updated_at=timezone.now())


@transaction.atomic
def subscriber_unsubscribe(*, subscriber_id: int, now=None) -> bool:
    """Stop every e-mail to this subscriber, at once.

    The signatures of the same address stop asking for updates too, so no
    later confirmation puts them back. Returns False if already stopped.
    """
    now = now or timezone.now()
    subscriber = Subscriber.objects.select_for_update().filter(pk=subscriber_id).first()
    if subscriber is None:
        return False
    Signature.objects.filter(
        email_normalised=subscriber.email_normalised, wants_updates=True
    ).update(wants_updates=False, unsubscribed_at=now)
    if subscriber.status == Subscriber.Status.UNSUBSCRIBED:
        return False
    subscriber.status = Subscriber.Status.UNSUBSCRIBED
    subscriber.status_changed_at = now
    subscriber.save(update_fields=["status", "status_changed_at"])
    _cancel_queued([subscriber.pk])
    return True


@transaction.atomic
def subscriber_delete(*, subscriber_id: int) -> bool:
    """Delete a subscriber and their deliveries, at their request (their own
    page). Returns False if there was none."""
    _cancel_queued([subscriber_id])
    deleted, _rows = Subscriber.objects.filter(pk=subscriber_id).delete()
    return bool(deleted)


def subscriber_unsubscribe_address(
    *, email_normalised: str | list[str], now=None
) -> bool:
    """Unsubscribe whoever has this address, given by its blind index or its
    indexes under every key (used by the petition's link)."""
    indexes = (
        [email_normalised] if isinstance(email_normalised, str) else email_normalised
    )
    subscriber_id = (
        Subscriber.objects.filter(email_normalised__in=indexes)
        .values_list("pk", flat=True)
        .first()
    )
    if subscriber_id is None:
        return False
    return subscriber_unsubscribe(subscriber_id=subscriber_id, now=now)


def subscriber_unsubscribe_email(*, email: str, now=None) -> bool:
    """Unsubscribe an address as written in a provider's event or a file."""
    try:
        indexes = email_indexes(clean_email(email))
    except ValidationError:
        return False
    return subscriber_unsubscribe_address(email_normalised=indexes, now=now)


@transaction.atomic
def subscriber_mark_undeliverable(*, email: str, reason: str, now=None) -> bool:
    """Mark an address that bounced hard or complained: no more e-mail to it.

    `reason` is Subscriber.Status.BOUNCED or COMPLAINED. A complaint outranks
    a bounce. The latest issue sent to it is marked bounced. Returns whether
    a subscriber was found and changed.
    """
    if reason not in Subscriber.SUPPRESSED_STATUSES:
        raise ValueError(f"Not a suppression reason: {reason!r}")
    now = now or timezone.now()
    try:
        indexes = email_indexes(clean_email(email))
    except ValidationError:
        return False
    subscriber = (
        Subscriber.objects.select_for_update()
        .filter(email_normalised__in=indexes)
        .first()
    )
    if subscriber is None or subscriber.status == Subscriber.Status.COMPLAINED:
        return False
    if subscriber.status == reason:
        return False
    subscriber.status = reason
    subscriber.status_changed_at = now
    subscriber.save(update_fields=["status", "status_changed_at"])
    _cancel_queued([subscriber.pk])
    if reason == Subscriber.Status.BOUNCED:
        latest = (
            Delivery.objects.filter(subscriber=subscriber, state=Delivery.State.SENT)
            .order_by("-sent_at")
            .values_list("pk", flat=True)
            .first()
        )
        if latest:
            Delivery.objects.filter(pk=latest).update(
                state=Delivery.State.BOUNCED, updated_at=now
            )
    return True


def _signer_only(queryset):
    """Subscribers who joined as signers, never confirmed the form, and have no
    confirmed signature left that asks for updates."""
    asking = Signature.objects.filter(
        status=Signature.Status.CONFIRMED,
        wants_updates=True,
        email_normalised__isnull=False,
    ).values("email_normalised")
    return queryset.filter(
        source=Subscriber.Source.SIGNER, form_confirmed_at__isnull=True
    ).exclude(email_normalised__in=asking)


def subscriber_forget_signer(*, email_normalised: str | None) -> bool:
    """After a signature is withdrawn: delete the address from the list,
    unless the person subscribed with the form or another of their
    signatures still asks for updates. Returns whether it was deleted."""
    if not email_normalised:
        return False
    deleted, _rows = _signer_only(
        Subscriber.objects.filter(email_normalised=email_normalised)
    ).delete()
    return bool(deleted)


def subscribers_forget_lapsed_signers() -> int:
    """The same rule for everyone, after signatures are anonymised."""
    _deleted, by_model = _signer_only(Subscriber.objects.all()).delete()
    return by_model.get(Subscriber._meta.label, 0)


def subscribers_purge(*, now=None, dry_run: bool = False) -> int:
    """Delete subscriptions never confirmed and unsubscribed addresses,
    SIGNATURE_PENDING_RETENTION_DAYS after they reached that state."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.SIGNATURE_PENDING_RETENTION_DAYS)
    expired = Subscriber.objects.filter(
        status__in=[Subscriber.Status.PENDING, Subscriber.Status.UNSUBSCRIBED],
        status_changed_at__lt=cutoff,
    )
    if dry_run:
        return expired.count()
    _deleted, by_model = expired.delete()
    return by_model.get(Subscriber._meta.label, 0)


def subscriber_totals() -> dict:
    """Subscribed addresses in total, by language and by source, in one query."""
    rows = (
        Subscriber.objects.receiving()
        .values("language", "source")
        .annotate(total=Count("pk"))
        .order_by()
    )
    by_language: dict[str, int] = {}
    by_source: dict[str, int] = {}
    for row in rows:
        by_language[row["language"]] = (
            by_language.get(row["language"], 0) + row["total"]
        )
        by_source[row["source"]] = by_source.get(row["source"], 0) + row["total"]
    return {
        "total": sum(by_source.values()),
        "by_language": dict(sorted(by_language.items())),
        "by_source": dict(sorted(by_source.items())),
    }


# ------------------------------------------------------------------------------
# Issues
# ------------------------------------------------------------------------------
def check_sendable(
    *, issue: Issue, allow_scheduled_entries: bool = False, now=None
) -> None:
    """Raise ValidationError unless the issue has entries, all published."""
    entries = list(issue.entries.all())
    if not entries:
        raise ValidationError(
            _("Add at least one entry to the issue before sending it."),
            code="no_entries",
        )
    now = now or timezone.now()
    for entry in entries:
        if not entry.is_published or (
            entry.pub_date > now and not allow_scheduled_entries
        ):
            raise ValidationError(
                _(
                    "“%(title)s” is not published yet. Only published entries "
                    "can be sent."
                )
                % {"title": entry.title},
                code="unpublished",
            )


def issue_recipient_count() -> int:
    """How many subscribers an issue queued now would go to."""
    return Subscriber.objects.receiving().count()


# INSERT ... SELECT: the delivery rows of a million subscribers are written
# by PostgreSQL in one statement, never loaded into Python.
_QUEUE_SQL = """
    INSERT INTO newsletters_delivery
        (issue_id, subscriber_id, state, attempts, next_attempt_at, last_error,
         updated_at)
    SELECT %(issue_id)s, s.id, 'queued', 0, now(), '', now()
    FROM newsletters_subscriber s
    WHERE s.status = 'confirmed'
    ON CONFLICT (issue_id, subscriber_id) DO NOTHING
"""


def issue_queue(*, issue: Issue, user=None, now=None) -> int:
    """Queue an issue for every subscriber, now, and start the batch tasks.

    The delivery rows, the issue's state and the tasks are written in one
    transaction: either the whole send is queued or nothing is. Queuing the
    same issue twice is refused. Returns the number of recipients.
    """
    now = now or timezone.now()
    with transaction.atomic():
        issue = Issue.objects.select_for_update().get(pk=issue.pk)
        if issue.status not in (Issue.Status.DRAFT, Issue.Status.SCHEDULED):
            raise ValidationError(
                _("This issue has already been sent or is being sent."),
                code="already_sent",
            )
        check_sendable(issue=issue, now=now)
        with connection.cursor() as cursor:
            cursor.execute(_QUEUE_SQL, {"issue_id": issue.pk})
            recipients = cursor.rowcount
        issue.status = Issue.Status.SENDING
        issue.queued_at = now
        issue.recipients = recipients
        if user is not None:
            issue.queued_by = user
        issue.save(
            update_fields=[
                "status",
                "queued_at",
                "recipients",
                "queued_by",
                "updated_at",
            ]
        )
        issue_batches_start(issue_id=issue.pk)
    return recipients


@transaction.atomic
def issue_schedule(*, issue: Issue, at: datetime.datetime | None = None) -> Issue:
    """Send the issue automatically at `at`; by default, when its last entry
    goes public. Its entries must be ticked "published" (they may still be
    waiting for their publication time)."""
    issue = Issue.objects.select_for_update().get(pk=issue.pk)
    if issue.status not in (Issue.Status.DRAFT, Issue.Status.SCHEDULED):
        raise ValidationError(
            _("This issue has already been sent or is being sent."),
            code="already_sent",
        )
    check_sendable(issue=issue, allow_scheduled_entries=True)
    latest = max(entry.pub_date for entry in issue.entries.all())
    at = max(at or latest, latest)
    issue.status = Issue.Status.SCHEDULED
    issue.send_at = at
    issue.save(update_fields=["status", "send_at", "updated_at"])
    return issue


@transaction.atomic
def issue_unschedule(*, issue: Issue) -> bool:
    updated = Issue.objects.filter(pk=issue.pk, status=Issue.Status.SCHEDULED).update(
        status=Issue.Status.DRAFT, send_at=None, updated_at=timezone.now()
    )
    return bool(updated)


def issues_send_due(*, now=None) -> list[int]:
    """Queue every scheduled issue whose time has come. An issue whose entry
    was unpublished meanwhile goes back to draft instead. Returns the ids queued."""
    now = now or timezone.now()
    queued = []
    for issue in Issue.objects.due(now):
        try:
            issue_queue(issue=issue, user=issue.queued_by, now=now)
        except ValidationError:
            Issue.objects.filter(pk=issue.pk, status=Issue.Status.SCHEDULED).update(
                status=Issue.Status.DRAFT, updated_at=now
            )
        else:
            queued.append(issue.pk)
    return queued


def issue_progress(*, issue: Issue) -> dict[str, int]:
    """Deliveries of an issue per state (every state present, 0 if none)."""
    counts = dict.fromkeys(Delivery.State.values, 0)
    for state, total in (
        Delivery.objects.filter(issue=issue)
        .values_list("state")
        .annotate(total=Count("pk"))
        .order_by()
    ):
        counts[state] = total
    return counts


def issue_send_test(*, issue: Issue, to: str) -> int:
    """Send the issue, in every language, to one address (an editor's own).

    Its unsubscribe link belongs to nobody on the list. Returns messages sent.
    """
    check_sendable(issue=issue, allow_scheduled_entries=True)
    to = clean_email(to)
    messages = []
    for code, _name in settings.LANGUAGES:
        rendered = issue_render(issue, code)
        message = issue_message(rendered, to=to, subscriber_id=0)
        # A fresh Message-ID per test: with the delivery's stable one, a mail
        # program would file a second test (after an edit) as a repeat.
        del message.extra_headers["Message-ID"]
        message.subject = _("[Test] %(subject)s") % {"subject": message.subject}
        messages.append(message)

    return get_connection().send_messages(messages) or 0


def issue_retransmitted_count(*, issue: Issue) -> int:
    """Deliveries queued again after an interruption mid-message, each with
    its first Message-ID (see newsletters/delivery.py)."""
    return Delivery.objects.filter(issue=issue, retransmitted__gt=0).count()


def issue_batches_start(
    *, issue_id: int, parallel: int | None = None, delay: float | None = None
) -> int:
    """Defer the batch tasks of an issue, at most `parallel` waiting at once.

    Deferred through Django's connection: inside the caller's transaction,
    so the tasks exist if and only if the queued rows do.
    """
    parallel = parallel or settings.NEWSLETTER_PARALLEL_BATCHES
    deferred = 0
    for lane in range(parallel):
        # One waiting task per lane; a retry for later has a lane of its own.
        lane_name = "later" if delay else lane
        options = {"queueing_lock": f"newsletter-issue-{issue_id}-{lane_name}"}
        if delay:
            options["schedule_in"] = {"seconds": int(delay)}
        try:
            with transaction.atomic():
                app.configure_task(
                    SEND_ISSUE_BATCHES_TASK, allow_unknown=False, **options
                ).defer(issue_id=issue_id)
        except procrastinate_exceptions.AlreadyEnqueued:
            continue
        deferred += 1
    return deferred
