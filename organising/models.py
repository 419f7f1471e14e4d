"""The organisers' records: exports, paper batches, fraud watch, milestones.

These tables were created by the petitions app and keep their names
(`db_table`), so moving the models here changed no data; see migration 0001.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from newsletters.models import DeliveryRow
from petitions.models import PAPER_BATCH_TABLE, Petition, Signature


class SignatureExport(models.Model):
    """One export (CSV or the PDF delivery pack) of a petition's signatures:
    who took what, and when.

    Kept as the record the privacy notice promises: every copy of the
    delivery list that leaves the database is accounted for. Its Meta also
    carries the organisers' permissions (dashboard, exports, e-mail addresses).
    """

    class Kind(models.TextChoices):
        BY_DAY = "by-day", _("Counts by day")
        BY_COUNTRY = "by-country", _("Counts by country")
        BY_SOURCE = "by-source", _("Counts by source")
        DELIVERY = "delivery", _("Delivery list")
        DELIVERY_PDF = "delivery-pdf", _("Delivery pack (PDF)")
        SUBSCRIBERS = "subscribers", _("Newsletter subscribers' addresses")

    petition = models.ForeignKey(
        Petition,
        on_delete=models.PROTECT,
        related_name="exports",
        null=True,
        blank=True,
        help_text=_("Empty for the newsletter's list, which is no petition's."),
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    with_emails = models.BooleanField(
        default=False, help_text=_("Whether the file included e-mail addresses.")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The staff member who downloaded it; empty for the command line."),
    )
    requested_by = models.CharField(
        max_length=150,
        help_text=_(
            "Who asked, as text: the user name for downloads, 'command line' "
            "and the system user for the export_signatures command. Kept when "
            "the user is deleted."
        ),
    )
    created_at = models.DateTimeField(default=timezone.now)
    row_count = models.PositiveIntegerField(
        default=0, help_text=_("Rows written, not counting the header row.")
    )
    finished = models.BooleanField(
        default=False,
        help_text=_(
            "False if the export stopped part-way, for example because the "
            "download was cancelled; the row count is then what was sent."
        ),
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "petitions_signatureexport"
        ordering = ["-created_at"]
        permissions = [
            ("view_dashboard", "Can view the campaign dashboard"),
            ("export_counts", "Can export signature counts by day and country"),
            ("export_delivery_list", "Can export the delivery list (no e-mails)"),
            ("export_emails", "Can export the delivery list with e-mail addresses"),
            ("view_system_status", "Can view the system status page"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} of {self.petition_id} by {self.requested_by}"


class PaperBatch(models.Model):
    """Signatures collected on paper or in the street, entered by an organiser.

    Counted in the petition's total like confirmed online signatures: the
    services add each batch's count to the running count rows
    (SignatureCount), and `signature_counts_reconcile` rebuilds them from the
    confirmed signatures plus these batches. Written only through
    organising.paper (`paper_batch_save`, `paper_batch_delete`, where the
    rebuild is too), which also keeps the audit trail (PaperBatchChange).
    """

    petition = models.ForeignKey(
        Petition, on_delete=models.PROTECT, related_name="paper_batches"
    )
    country = CountryField(
        blank=True, help_text=_("Where the signatures were collected.")
    )
    count = models.PositiveIntegerField(
        help_text=_("How many signatures the batch holds.")
    )
    collected_on = models.DateField(
        help_text=_("The day the signatures were collected (the last day, if several).")
    )
    collected_by = models.CharField(
        max_length=200,
        help_text=_("Who collected them: a person, a group or an event."),
    )
    note = models.TextField(
        blank=True, help_text=_("Anything worth knowing, for the other organisers.")
    )
    names = models.TextField(
        blank=True,
        help_text=_(
            "Optional: the signers' names, one per line, printed in the delivery "
            "pack. Never more names than the count."
        ),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        db_table = PAPER_BATCH_TABLE
        ordering = ["-collected_on", "-pk"]
        verbose_name = _("paper batch")
        verbose_name_plural = _("paper batches")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(count__gt=0), name="paper_batch_count_positive"
            )
        ]

    def __str__(self):
        return f"{self.count} on paper, {self.collected_on} ({self.collected_by})"

    def name_list(self) -> list[str]:
        return [line.strip() for line in self.names.splitlines() if line.strip()]

    def clean(self):
        if self.count and len(self.name_list()) > self.count:
            raise ValidationError(
                {"names": _("There are more names than signatures in the count.")}
            )
        if self.collected_on and self.collected_on > timezone.localdate():
            raise ValidationError(
                {"collected_on": _("The collection date cannot be in the future.")}
            )


class PaperBatchChange(models.Model):
    """The audit trail of paper batches: every creation, change and deletion,
    with the figures before and after and who made it. Kept when a batch is
    deleted (batch_id is a plain number for that reason); nobody edits it."""

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        CHANGED = "changed", _("Changed")
        DELETED = "deleted", _("Deleted")

    petition = models.ForeignKey(
        Petition, on_delete=models.PROTECT, related_name="paper_batch_changes"
    )
    batch_id = models.PositiveIntegerField(db_index=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    user_name = models.CharField(
        max_length=150, help_text=_("Kept when the user is deleted.")
    )
    at = models.DateTimeField(default=timezone.now)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        db_table = "petitions_paperbatchchange"
        ordering = ["-at", "-pk"]
        verbose_name = _("paper batch change")
        verbose_name_plural = _("paper batch changes")

    def __str__(self):
        return f"{self.get_action_display()} batch {self.batch_id} by {self.user_name}"


class SignatureAlert(models.Model):
    """One fraud-watch alert: an IP hash or e-mail domain that brought more
    signatures to a petition in an hour than FRAUD_ALERT_THRESHOLD. The
    unique constraint makes each (petition, hour, kind, value) e-mailed once,
    however often the check runs."""

    class Kind(models.TextChoices):
        IP_HASH = "ip_hash", _("IP hash")
        EMAIL_DOMAIN = "email_domain", _("E-mail domain")

    petition = models.ForeignKey(
        Petition, on_delete=models.CASCADE, related_name="alerts"
    )
    hour = models.DateTimeField()
    kind = models.CharField(max_length=12, choices=Kind.choices)
    value = models.CharField(max_length=254)
    count = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "petitions_signaturealert"
        ordering = ["-hour", "-count"]
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "hour", "kind", "value"],
                name="one_alert_per_petition_hour_and_value",
            )
        ]

    def __str__(self):
        return f"{self.value}: {self.count} at {self.hour:%Y-%m-%d %H:00}"


class BulkInvalidation(models.Model):
    """Signatures invalidated together by criteria, and what they were before,
    so the whole batch can be undone within BULK_INVALIDATION_UNDO_DAYS.

    The admin records the request (queued) and the worker runs it (done), in
    one transaction with the invalidation itself (organising.fraud).
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        DONE = "done", _("Done")

    petition = models.ForeignKey(
        Petition, on_delete=models.PROTECT, related_name="bulk_invalidations"
    )
    criteria = models.JSONField(help_text=_("What the signatures matched."))
    count = models.PositiveIntegerField(default=0)
    state = models.CharField(
        _("state"), max_length=8, choices=State.choices, default=State.DONE
    )
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    undone_at = models.DateTimeField(null=True, blank=True)
    restored = models.PositiveIntegerField(
        default=0, help_text=_("Signatures given back their status by the undo.")
    )

    class Meta:
        db_table = "petitions_bulkinvalidation"
        ordering = ["-created_at"]

    def __str__(self):
        if self.state == self.State.QUEUED:
            return f"queued on {self.created_at:%Y-%m-%d %H:%M}"
        return f"{self.count} invalidated on {self.created_at:%Y-%m-%d %H:%M}"


class BulkInvalidationItem(models.Model):
    """A signature a bulk invalidation changed, with its status before."""

    bulk = models.ForeignKey(
        BulkInvalidation, on_delete=models.CASCADE, related_name="items"
    )
    signature = models.ForeignKey(Signature, on_delete=models.CASCADE, related_name="+")
    previous_status = models.CharField(max_length=12, choices=Signature.Status.choices)
    previous_show_publicly = models.BooleanField()

    class Meta:
        db_table = "petitions_bulkinvalidationitem"
        constraints = [
            models.UniqueConstraint(
                fields=["bulk", "signature"], name="one_item_per_signature_and_bulk"
            )
        ]

    def __str__(self):
        return f"{self.signature_id} was {self.previous_status}"


class Milestone(models.Model):
    """A goal a petition has reached, recorded once (organising.milestones).

    The unique (petition, goal) constraint is what makes the note to signers
    go out at most once per goal, however often detection runs. When a run
    finds several goals passed at once (paper batches entered late, say),
    only the highest is announced; the others are recorded with announce off.
    """

    petition = models.ForeignKey(
        Petition, on_delete=models.CASCADE, related_name="milestones"
    )
    goal = models.PositiveIntegerField()
    reached_at = models.DateTimeField(default=timezone.now)
    announce = models.BooleanField(
        default=True, help_text=_("Whether signers get a note about this goal.")
    )
    announced_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When the delivery of the note to signers finished."),
    )

    class Meta:
        db_table = "petitions_milestone"
        ordering = ["-reached_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "goal"], name="one_milestone_per_goal"
            )
        ]

    def __str__(self):
        return f"{self.petition_id} reached {self.goal}"


class MilestoneNote(DeliveryRow):
    """The milestone note to one signer: a delivery row of the newsletter's
    engine (newsletters.delivery), with the states of a newsletter delivery.

    Rows are queued per recipient when the milestone is to be announced; the
    unique (milestone, signature) constraint queues each signer once, and a
    petition takes one signature per address, so one note per mailbox. A note
    interrupted mid-send is sent again with the same Message-ID; one whose
    signer no longer wants updates (or whose address was suppressed) is
    cancelled.
    """

    milestone = models.ForeignKey(
        Milestone, on_delete=models.CASCADE, related_name="notes"
    )
    signature = models.ForeignKey(Signature, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "petitions_milestonenote"
        constraints = [
            models.UniqueConstraint(
                fields=["milestone", "signature"], name="one_note_per_milestone_signer"
            ),
            DeliveryRow.lease_constraint(name="sending_note_has_lease"),
        ]
        indexes = DeliveryRow.claim_indexes(parent="milestone", prefix="note")

    def __str__(self):
        return f"Milestone {self.milestone_id} to {self.signature_id}: {self.state}"


class RetentionRun(models.Model):
    """One run of the retention rules (organising.services.retention_run):
    when it ran and how many rows of each kind it cleared. Numbers only, so
    anyone who may see the dashboard may see it."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("Empty while the run is going on, or if it stopped half-way."),
    )
    unconfirmed_deleted = models.PositiveIntegerField(
        default=0,
        help_text=_("Signatures never confirmed, deleted once their link expired."),
    )
    closed_anonymised = models.PositiveIntegerField(
        default=0,
        help_text=_(
            "Signatures whose personal data was deleted, their petition having "
            "closed long enough ago."
        ),
    )
    paper_batches_anonymised = models.PositiveIntegerField(
        default=0,
        help_text=_("Paper batches of those petitions whose names were deleted."),
    )
    invalidated_anonymised = models.PositiveIntegerField(
        default=0,
        help_text=_(
            "Invalidated signatures whose personal data was deleted once the "
            "invalidation could no longer be undone."
        ),
    )
    subscribers_deleted = models.PositiveIntegerField(
        default=0,
        help_text=_("Newsletter addresses never confirmed, or unsubscribed."),
    )
    counters_deleted = models.PositiveIntegerField(
        default=0, help_text=_("Rate-limit counters past every window.")
    )

    class Meta:
        ordering = ["-started_at"]
        get_latest_by = "started_at"
        indexes = [models.Index(fields=["-started_at"], name="retention_run_latest")]

    def __str__(self):
        return f"Retention run of {self.started_at:%Y-%m-%d %H:%M}"

    def summary(self, *, dry_run: bool = False) -> str:
        """The run in words, for the command's output and the job's result."""
        verb = "Would delete" if dry_run else "Deleted"
        anonymise = "would anonymise" if dry_run else "anonymised"
        counters = (
            "" if dry_run else f" and {self.counters_deleted} rate-limit counters"
        )
        return "\n".join(
            [
                f"{verb} {self.unconfirmed_deleted} unconfirmed signatures{counters}.",
                f"{verb} {self.subscribers_deleted} newsletter addresses "
                "(unconfirmed or unsubscribed).",
                f"Personal data {anonymise}: {self.closed_anonymised} signatures "
                f"of closed petitions, {self.paper_batches_anonymised} paper "
                f"batches, {self.invalidated_anonymised} invalidated signatures.",
            ]
        )
