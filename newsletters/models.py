"""The monthly "significant events" newsletter, written by editors in the admin.

An entry is public only when it is switched on *and* its publication time has
come, so editors can schedule an entry by giving it a time in the future.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.fields import EncryptedTextField


class EntryQuerySet(models.QuerySet):
    def published(self):
        """Entries the public may see: switched on and due by now."""
        return self.filter(is_published=True, pub_date__lte=timezone.now())


class Entry(models.Model):
    title = models.CharField(
        _("title"),
        max_length=200,
        help_text=_("The entry’s headline, shown on the news page and in feeds."),
    )
    slug = models.SlugField(
        _("slug"),
        max_length=200,
        help_text=_("The last part of the entry’s address. It is filled in from "
                    "the title; it must be unique within the month the entry covers."),
    )  # fmt: skip
    month = models.DateField(
        _("month covered"),
        help_text=_("The month whose events this entry reports. Any day of the "
                    "month will do: it is saved as the first day."),
    )  # fmt: skip
    summary = models.CharField(
        _("summary"),
        max_length=300,
        help_text=_("One or two sentences shown in lists, on the home page and "
                    "in feeds."),
    )  # fmt: skip
    body = models.TextField(
        _("body"),
        help_text=_("The entry in Markdown. Scripts, styles, embedded frames and "
                    "unsafe links are removed when it is shown."),
    )  # fmt: skip
    pub_date = models.DateTimeField(
        _("publication date"),
        default=timezone.now,
        help_text=_("When the entry goes public. Choose a time in the future to "
                    "schedule it: it stays hidden until then, even when "
                    "‘Published’ is ticked."),
    )  # fmt: skip
    is_published = models.BooleanField(
        _("published"),
        default=False,
        help_text=_("Tick to publish the entry at its publication date. Leave it "
                    "unticked to keep the entry as a draft that only staff can "
                    "preview."),
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("newsletter entry")
        verbose_name_plural = _("newsletter entries")
        ordering = ["-month", "-pub_date"]
        get_latest_by = "pub_date"
        permissions = [("publish_entry", _("Can publish and unpublish entries"))]
        constraints = [
            models.UniqueConstraint(
                fields=["slug", "month"],
                name="unique_entry_slug_per_month",
                violation_error_message=_(
                    "Another entry for this month already uses this slug. "
                    "Change the slug (or the month) so each entry has its own "
                    "address."
                ),
            ),
            models.CheckConstraint(
                condition=Q(month__day=1),
                name="entry_month_is_first_day",
                violation_error_message=_(
                    "The month covered must be saved as the first day of the month."
                ),
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse(
            "newsletters:detail",
            kwargs={
                "year": self.month.year,
                "month": self.month.month,
                "slug": self.slug,
            },
        )

    def clean(self):
        # Editors pick any day of the month in the date widget.
        if self.month:
            self.month = self.month.replace(day=1)

    @property
    def is_public(self) -> bool:
        return self.is_published and self.pub_date <= timezone.now()

    @property
    def is_scheduled(self) -> bool:
        return self.is_published and self.pub_date > timezone.now()


class EntrySource(models.Model):
    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="sources")
    title = models.CharField(
        _("title"),
        max_length=200,
        help_text=_("Who reported the facts, for example ‘Human Rights Watch’."),
    )
    url = models.URLField(
        _("link"), max_length=500, help_text=_("The address of the source.")
    )
    order = models.PositiveSmallIntegerField(
        _("order"), default=0, help_text=_("Sources are listed from low to high.")
    )

    class Meta:
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        ordering = ["order", "pk"]

    def __str__(self):
        return self.title


# ------------------------------------------------------------------------------
# The mailing list and the e-mailed issues
# ------------------------------------------------------------------------------
class SubscriberQuerySet(models.QuerySet):
    def receiving(self):
        """Subscribers an issue goes to: confirmed, not bounced or complained."""
        return self.filter(status=Subscriber.Status.CONFIRMED)

    def suppressed(self):
        """Addresses the list no longer writes to unless the person confirms
        again through the form (which proves the mailbox works and that they
        want it): they bounced hard or marked our e-mail as spam."""
        return self.filter(status__in=Subscriber.SUPPRESSED_STATUSES)


class Subscriber(models.Model):
    """One address on the list, however many petitions it signed.

    A subscriber comes from a signature that asked for updates (source
    "signer") or from the subscribe form (source "form", double opt-in). A
    signer-sourced subscription lasts while one of their signatures still
    asks for updates; confirming through the form makes it stand on its own
    (`form_confirmed_at`), so withdrawing a signature then keeps it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for confirmation")
        CONFIRMED = "confirmed", _("Subscribed")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        BOUNCED = "bounced", _("Bounced (address does not work)")
        COMPLAINED = "complained", _("Marked our e-mail as spam")

    class Source(models.TextChoices):
        SIGNER = "signer", _("Signer who asked for updates")
        FORM = "form", _("Subscribe form")

    # Encrypted at rest (core.encryption); found by its blind index below.
    email = EncryptedTextField(_("e-mail address"), max_length=254)
    email_normalised = models.CharField(
        max_length=254,
        unique=True,
        help_text=_(
            "A keyed hash of the address (lower case, provider aliases "
            "folded): one subscriber per address."
        ),
    )
    language = models.CharField(
        _("language"),
        max_length=10,
        default="en",
        help_text=_("Issues are sent in this language where they have the text."),
    )
    source = models.CharField(
        _("source"),
        max_length=10,
        choices=Source.choices,
        help_text=_("How the address first joined the list."),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    consent_version = models.CharField(_("consent wording version"), max_length=20)
    consent_language = models.CharField(_("consent language"), max_length=10)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    form_confirmed_at = models.DateTimeField(
        _("confirmed through the form"),
        null=True,
        blank=True,
        help_text=_(
            "Set when the address confirmed a subscription made with the form."
        ),
    )
    status_changed_at = models.DateTimeField(default=timezone.now)
    confirm_emails_sent = models.PositiveSmallIntegerField(
        default=0,
        help_text=_(
            "Confirmation e-mails sent by the subscribe form; capped so nobody "
            "can flood an inbox."
        ),
    )

    objects = SubscriberQuerySet.as_manager()

    # See SubscriberQuerySet.suppressed.
    SUPPRESSED_STATUSES = (Status.BOUNCED, Status.COMPLAINED)

    class Meta:
        verbose_name = _("subscriber")
        verbose_name_plural = _("subscribers")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="confirmed") | Q(confirmed_at__isnull=False),
                name="confirmed_subscriber_has_confirmed_at",
            ),
        ]
        indexes = [
            models.Index(
                fields=["id"],
                condition=Q(status="confirmed"),
                name="subscriber_receiving",
            ),
        ]

    def __str__(self):
        return f"Subscriber {self.pk} ({self.get_status_display()})"


class IssueQuerySet(models.QuerySet):
    def due(self, now=None):
        """Scheduled issues whose time has come."""
        return self.filter(
            status=Issue.Status.SCHEDULED, send_at__lte=now or timezone.now()
        )


class Issue(models.Model):
    """One e-mail to the list: one or several published entries."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")

    subject = models.CharField(
        _("subject"),
        max_length=200,
        blank=True,
        help_text=_(
            "The e-mail’s subject line. Leave it empty to use the title of the "
            "first entry."
        ),
    )
    entries = models.ManyToManyField(
        Entry,
        related_name="issues",
        verbose_name=_("entries"),
        help_text=_(
            "The entries the e-mail carries, in order of publication. Only "
            "published entries can be sent."
        ),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    send_at = models.DateTimeField(
        _("send at"),
        null=True,
        blank=True,
        help_text=_("When a scheduled issue goes out."),
    )
    queued_at = models.DateTimeField(_("queued"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    recipients = models.PositiveIntegerField(
        _("recipients"),
        default=0,
        help_text=_("Subscribers the issue was queued for."),
    )
    queued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent by"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = IssueQuerySet.as_manager()

    class Meta:
        verbose_name = _("newsletter issue")
        verbose_name_plural = _("newsletter issues")
        ordering = ["-created_at"]
        permissions = [("send_issue", _("Can send newsletter issues to the list"))]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="scheduled") | Q(send_at__isnull=False),
                name="scheduled_issue_has_send_at",
            ),
        ]

    def __str__(self):
        return self.subject or _("Issue %(number)s") % {"number": self.pk}


class DeliveryRow(models.Model):
    """The columns the delivery engine (newsletters/delivery.py) sends from:
    one message about one parent (an issue, a milestone) to one recipient.

    The states and what moves them are explained in newsletters/delivery.py.
    A concrete table adds its parent and recipient, unique together, a check
    that a `sending` row has a claim and a lease, and the claim's indexes.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        BOUNCED = "bounced", _("Bounced")
        CANCELLED = "cancelled", _("Not sent: left the list")

    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # Which claim (one batch of one worker) holds the row, and until when.
    claim = models.UUIDField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # An error class or a short reason, never an address.
    last_error = models.CharField(max_length=200, blank=True)
    # How many times the row went back to the queue after an interruption
    # mid-message (same Message-ID each time). A database default, because
    # queuing may insert the rows with raw SQL that does not name it.
    retransmitted = models.PositiveSmallIntegerField(db_default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True

    @staticmethod
    def lease_constraint(*, name: str) -> models.CheckConstraint:
        """A row being sent belongs to a claim, until its lease runs out."""
        return models.CheckConstraint(
            condition=~Q(state="sending")
            | (Q(claim__isnull=False) & Q(lease_until__isnull=False)),
            name=name,
        )

    @staticmethod
    def claim_indexes(*, parent: str, prefix: str) -> list[models.Index]:
        """What the senders claim from (a parent's queued rows, in order) and
        what the lease rule looks through (rows being sent, by lease)."""
        return [
            models.Index(
                fields=[parent, "id"],
                condition=Q(state="queued"),
                name=f"{prefix}_queued",
            ),
            models.Index(
                fields=["lease_until"],
                condition=Q(state="sending"),
                name=f"{prefix}_sending_lease",
            ),
        ]


class Delivery(DeliveryRow):
    """One issue to one subscriber: the record that makes a send exactly-once."""

    # No database foreign-key constraints on these two: queuing an issue
    # inserts a million rows in one statement, and PostgreSQL would check
    # (and row-lock) the issue and every subscriber once per row at commit,
    # which took most of the time. The rows are only ever written by
    # INSERT ... SELECT from the subscribers, and deletions go through
    # Django's CASCADE, so nothing can point nowhere.
    # The unique (issue, subscriber) index serves lookups by issue.
    issue = models.ForeignKey(
        Issue,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_index=False,
        db_constraint=False,
    )
    subscriber = models.ForeignKey(
        Subscriber,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_constraint=False,
    )

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["issue", "subscriber"], name="one_delivery_per_issue_subscriber"
            ),
            DeliveryRow.lease_constraint(name="sending_delivery_has_lease"),
        ]
        indexes = [
            *DeliveryRow.claim_indexes(parent="issue", prefix="delivery"),
            # The progress page's count of retransmissions: a handful of rows
            # per send, so an almost empty index instead of a scan of them all.
            models.Index(
                fields=["issue"],
                condition=Q(retransmitted__gt=0),
                name="delivery_retransmitted",
            ),
        ]

    def __str__(self):
        return f"Delivery {self.pk} ({self.state})"


class SendThrottle(models.Model):
    """A token bucket shared by every worker: the provider's messages per second.

    One row; workers take tokens with one atomic UPDATE (newsletters.delivery),
    so the rate holds across processes and hosts with no memory of its own.
    """

    name = models.CharField(max_length=40, unique=True)
    tokens = models.FloatField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.name}: {self.tokens:.1f}"
