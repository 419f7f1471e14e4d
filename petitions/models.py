"""Petitions, their signatures, and the sharded counts shown to the public."""

from django.conf import settings
from django.contrib.postgres.indexes import BrinIndex, GistIndex
from django.db import models
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from core.fields import EncryptedTextField
from core.markdown import render_markdown

# Confirmations spread their increments over this many rows per country, so a
# surge never queues every request behind one counter row.
COUNT_SHARDS = 4

# The table of organising.PaperBatch. The public count shows the part
# collected on paper, so petitions reads it by name: the back office builds on
# petitions, never the other way round.
PAPER_BATCH_TABLE = "petitions_paperbatch"


class PetitionQuerySet(models.QuerySet):
    def public(self):
        """Every petition but drafts; public_petition_sql() is the same rule
        for the selectors' SQL."""
        return self.exclude(state=Petition.State.DRAFT)

    def featured(self):
        """The petition the home page shows: the newest open one, else the newest."""
        return self.public().order_by(
            models.Case(models.When(state="open", then=0), default=1), "-created_at"
        )


class Petition(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("Draft (not public)")
        OPEN = "open", _("Open for signatures")
        CLOSED = "closed", _("Closed")

    slug = models.SlugField(
        unique=True, help_text=_("The petition's address: /petitions/<slug>/.")
    )
    title = models.CharField(max_length=200, help_text=_("The ask, in a few words."))
    summary = models.CharField(
        max_length=400,
        help_text=_("One or two sentences shown above the form and in link previews."),
    )
    body = models.TextField(
        help_text=_(
            "The full petition text in Markdown. Scripts and unsafe links are "
            "removed when it is shown."
        ),
    )
    body_html = models.TextField(editable=False, blank=True)
    addressed_to = models.CharField(
        max_length=300,
        help_text=_("The decision-makers the petition is addressed to."),
    )
    goal = models.PositiveIntegerField(
        default=10000,
        help_text=_(
            "The first signature goal. Once reached, the page shows the next "
            "goal, double the last."
        ),
    )
    state = models.CharField(
        max_length=10,
        choices=State.choices,
        default=State.DRAFT,
        help_text=_("Only open petitions accept signatures. Drafts are not public."),
    )
    opens_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("Leave empty to accept signatures as soon as the state is open."),
    )
    closes_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("Signatures are refused from this moment. Leave empty for no end."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PetitionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(goal__gt=0), name="petition_goal_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(opens_at__isnull=True)
                | models.Q(closes_at__isnull=True)
                | models.Q(closes_at__gt=models.F("opens_at")),
                name="petition_closes_after_opening",
                violation_error_message=_("The closing time must be after opening."),
            ),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        # Rendered once here, per language, so the busy petition page never
        # runs Markdown. An empty translation renders empty, and the page then
        # falls back to the English text.
        languages = [code for code, _name in settings.LANGUAGES]
        for code in languages:
            body = getattr(self, f"body_{code}") or ""
            setattr(self, f"body_html_{code}", render_markdown(body) if body else "")
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and any(
            name == "body" or name.startswith("body_") for name in update_fields
        ):
            kwargs["update_fields"] = {
                *update_fields,
                "body_html",
                *(f"body_html_{code}" for code in languages),
            }
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("petitions:detail", kwargs={"slug": self.slug})

    class Phase(models.TextChoices):
        """Where a petition is in its life, by its state and its two times."""

        DRAFT = "draft"
        NOT_YET_OPEN = "not_yet_open"
        ACCEPTING = "accepting"
        CLOSED = "closed"

    def signing_phase(self, now=None) -> "Petition.Phase":
        """The one rule for accepting signatures (accepting_petition_sql, below,
        says the same in SQL for the sign statement, and a test holds the two
        together)."""
        now = now or timezone.now()
        if self.state == self.State.DRAFT:
            return self.Phase.DRAFT
        if self.state == self.State.CLOSED or (
            self.closes_at is not None and now >= self.closes_at
        ):
            return self.Phase.CLOSED
        if self.opens_at is not None and now < self.opens_at:
            return self.Phase.NOT_YET_OPEN
        return self.Phase.ACCEPTING

    def is_accepting_signatures(self, now=None) -> bool:
        return self.signing_phase(now) == self.Phase.ACCEPTING

    @property
    def online_count(self) -> int:
        """Of `signature_count` (set by the selectors), those signed online."""
        return getattr(self, "signature_count", 0) - getattr(self, "paper_count", 0)

    def goals_reached(self, count: int) -> list[int]:
        """Every goal the count has reached: the first goal, then its doublings
        (the milestones organisers announce)."""
        reached = []
        goal = self.goal
        while count >= goal:
            reached.append(goal)
            goal *= 2
        return reached

    def goal_for(self, count: int) -> int:
        """The goal to show: the first of the goals not yet reached."""
        reached = self.goals_reached(count)
        return reached[-1] * 2 if reached else self.goal


class SignatureQuerySet(models.QuerySet):
    def active(self):
        """Signatures that still stand: pending or confirmed."""
        return self.filter(status__in=Signature.ACTIVE_STATUSES)

    def confirmed(self):
        return self.filter(status=Signature.Status.CONFIRMED)

    def shown_publicly(self):
        return self.confirmed().filter(show_publicly=True)

    def counts_by_status(self, *, today_start, week_start) -> dict[str, dict]:
        """Signatures per status, in total and since each start, in one query.

        Each signature is dated by when it reached its status: signed (still
        pending), confirmed, withdrawn or invalidated. Returns, for example,
        {"pending": {"total": 12, "today": 3, "last_7_days": 9}}; a status
        with no signatures is missing.
        """
        reached_at = models.Case(
            models.When(status=Signature.Status.CONFIRMED, then="confirmed_at"),
            models.When(status=Signature.Status.WITHDRAWN, then="withdrawn_at"),
            models.When(status=Signature.Status.INVALIDATED, then="invalidated_at"),
            default="created_at",
        )
        rows = (
            self.alias(reached_at=reached_at)
            .values("status")
            .annotate(
                total=models.Count("pk"),
                today=models.Count("pk", filter=models.Q(reached_at__gte=today_start)),
                last_7_days=models.Count(
                    "pk", filter=models.Q(reached_at__gte=week_start)
                ),
            )
            .order_by()
        )
        return {row.pop("status"): row for row in rows}


def accepting_petition_sql(now) -> tuple[str, list]:
    """Petition.is_accepting_signatures, and no SigningPause in the way, as an
    SQL condition on the petitions table, with its parameters: the sign
    statement checks it on the hot path, in the same round trip as the insert.
    (Confirmation checks only the petition: a pause stops new signatures, not
    the confirmation of those already made.)"""
    return (
        "state = %s AND (opens_at IS NULL OR opens_at <= %s::timestamptz)"
        " AND (closes_at IS NULL OR %s::timestamptz < closes_at)"
        # A surge switch (SigningPause) on this petition or the whole site.
        " AND NOT EXISTS (SELECT 1 FROM petitions_signingpause AS pause"
        " WHERE pause.petition_id IS NULL"
        " OR pause.petition_id = petitions_petition.id)",
        [Petition.State.OPEN, now, now],
    )


def public_petition_sql(alias: str) -> tuple[str, list]:
    """PetitionQuerySet.public() as an SQL condition on the petitions table
    named `alias`, with its parameters."""
    return f"{alias}.state <> %s", [Petition.State.DRAFT]


class Signature(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        WITHDRAWN = "withdrawn", _("Withdrawn by the signer")
        INVALIDATED = "invalidated", _("Invalidated by staff")

    # Still standing; withdrawn and invalidated signatures are over for good.
    ACTIVE_STATUSES = (Status.PENDING, Status.CONFIRMED)

    # No index of its own: the unique (petition, email_normalised) and
    # signature_petition_status_day both start with it, and every index is
    # one more write on the sign POST.
    petition = models.ForeignKey(
        Petition, on_delete=models.PROTECT, related_name="signatures", db_index=False
    )
    # db_default too, so the sign POST's INSERT (petitions.services) can
    # leave them out.
    status = models.CharField(
        max_length=12,
        choices=Status.choices,
        default=Status.PENDING,
        db_default=Status.PENDING,
    )
    # Personal data: blanked on withdrawal and by the retention command, and
    # stored encrypted (core.encryption): a dump of the table names nobody.
    full_name = EncryptedTextField(max_length=100, blank=True)
    email = EncryptedTextField(max_length=254, blank=True)
    # The blind index of the address (core.encryption.email_index), not the
    # address: the unique constraint and look-ups by address use it. NULL,
    # not "", once personal data is deleted: the unique constraint then
    # lets the same person sign again after withdrawing.
    email_normalised = models.CharField(  # noqa: DJ001
        max_length=254,
        null=True,
        blank=True,
        help_text=_(
            "A keyed hash of the address (lower case, with dots and +tags "
            "folded for big webmail providers); one signature per address "
            "per petition."
        ),
    )
    # What the fraud watch groups by (core.encryption.email_domain_label):
    # a big webmail provider's name, any other domain as a keyed hash.
    email_domain_label = models.CharField(
        max_length=20,
        blank=True,
        db_default="",
        help_text=_(
            "The e-mail's domain if it is a big webmail provider, otherwise "
            "a keyed hash of it."
        ),
    )
    country = CountryField(blank=True)
    postcode = EncryptedTextField(max_length=16, blank=True)
    # Indexed in Meta (signature_ip_hash): db_index on a CharField adds a
    # second, LIKE-only index, which nothing uses.
    ip_hash = models.CharField(
        max_length=32,
        blank=True,
        help_text=_(
            "A keyed hash of the signer's IP address; the address itself "
            "is never stored."
        ),
    )
    # What the signer agreed to.
    consent_version = models.CharField(max_length=20)
    consent_language = models.CharField(max_length=10)
    wants_updates = models.BooleanField(default=False)
    show_publicly = models.BooleanField(default=False)
    # "Count me, but don't hand over my name": the signature counts, and the
    # delivery pack and the delivery list leave the name out. db_default so
    # raw-SQL writers that predate the choice store "hand it over", as the
    # consent they were given said.
    name_withheld = models.BooleanField(
        default=False,
        db_default=False,
        help_text=_(
            "The signer asked to be counted without their name being handed "
            "to the petition's targets."
        ),
    )
    # First-party campaign attribution (?source=newsletter-july, a partner's
    # widget, an API client): never a cookie, never a third party.
    source = models.CharField(
        max_length=64,
        blank=True,
        # Raw-SQL writers (bulk imports, benchmarks) may leave it out.
        db_default="",
        help_text=_(
            "Where the signer came from, e.g. a newsletter or a partner; "
            "letters, digits, dots, dashes and underscores only."
        ),
    )
    # Lifecycle.
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_position = models.PositiveIntegerField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    invalidated_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    anonymised_at = models.DateTimeField(null=True, blank=True)
    # Also numbers the e-mail now due, for its Message-ID (petitions.emails).
    repeat_emails_sent = models.PositiveSmallIntegerField(
        default=0,
        db_default=0,
        help_text=_(
            "E-mails sent because the same address signed again; capped so "
            "nobody can flood an inbox."
        ),
    )

    # The row is its own e-mail outbox (petitions.outbox): which e-mail about
    # this signature is due, and how sending it went. The sign POST sets only
    # email_due_at; the rest start from their database defaults.
    class Email(models.TextChoices):
        CONFIRM = "confirm", _("Confirmation link")
        ALREADY_SIGNED = "already_signed", _("Already signed")

    email_kind = models.CharField(
        max_length=16, choices=Email.choices, db_default=Email.CONFIRM
    )
    # When the e-mail named by email_kind became due; empty once it is sent,
    # stopped by a withdrawal, or given up.
    email_due_at = models.DateTimeField(null=True, blank=True)
    # Not to be tried before: a worker's lease while it sends, then the
    # back-off after a failed attempt.
    email_lease_until = models.DateTimeField(null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(db_default=0)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    email_last_error = models.CharField(max_length=64, blank=True, db_default="")

    objects = SignatureQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("invalidate_signature", "Can invalidate signatures"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "email_normalised"],
                name="one_signature_per_email_per_petition",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="confirmed")
                | models.Q(confirmed_at__isnull=False),
                name="confirmed_signature_has_confirmed_at",
            ),
        ]
        indexes = [
            models.Index(
                fields=["petition", "status", "confirmed_at"],
                name="signature_petition_status_day",
            ),
            models.Index(
                fields=["petition", "confirmed_at"],
                condition=models.Q(status="confirmed", show_publicly=True),
                name="signature_public_recent",
            ),
            models.Index(
                fields=["created_at"],
                condition=models.Q(status="pending"),
                name="signature_pending_created",
            ),
            # The fraud watch reads the last day's signatures by created_at;
            # rows arrive in time order, so a BRIN index (a few pages, next to
            # nothing to maintain on the sign POST) finds them.
            BrinIndex(fields=["created_at"], name="signature_created_brin"),
            # Invalidating the signatures that share an address (exact match).
            models.Index(fields=["ip_hash"], name="signature_ip_hash"),
            # Exactly the rows whose e-mail is still to send: the outbox's
            # claim reads only these, however many signatures are done.
            # In the order they may be tried: a row held or backing off sorts
            # by its lease, so a long outage never makes the claim wade
            # through rows that must wait.
            models.Index(
                Coalesce("email_lease_until", "email_due_at"),
                condition=models.Q(email_due_at__isnull=False),
                name="signature_email_due",
            ),
            # The dashboard's counts by source, from the index alone; only
            # signatures that came with a label are in it, so it stays small
            # when most came straight to the page.
            models.Index(
                fields=["petition", "source"],
                condition=models.Q(status="confirmed") & ~models.Q(source=""),
                name="signature_confirmed_source",
            ),
        ]

    def __str__(self):
        return f"Signature {self.pk} ({self.get_status_display()})"

    @property
    def public_first_name(self) -> str:
        return self.full_name.split()[0] if self.full_name else ""

    @property
    def email_domain(self) -> str:
        return self.email.rpartition("@")[2].lower()


class SignatureCount(models.Model):
    """Confirmed signatures per petition and country, split over a few shards.

    The public count is the sum of these rows: its cost depends on the number
    of countries, never on the number of signatures. `reconcile_signature_counts`
    rebuilds them exactly from the signatures.
    """

    petition = models.ForeignKey(
        Petition, on_delete=models.CASCADE, related_name="counts"
    )
    country = models.CharField(max_length=2, blank=True)
    shard = models.PositiveSmallIntegerField()
    count = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "country", "shard"], name="one_count_row_per_shard"
            )
        ]

    def __str__(self):
        return f"{self.petition_id}/{self.country or '--'}/{self.shard}: {self.count}"


class RateLimitCounter(models.Model):
    """Requests per client in a fixed time window, shared by every process and host."""

    key = models.CharField(max_length=80)
    window_start = models.DateTimeField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["key", "window_start"], name="one_counter_per_key_and_window"
            )
        ]
        indexes = [models.Index(fields=["window_start"], name="ratelimit_window")]

    def __str__(self):
        return f"{self.key} @ {self.window_start:%H:%M}: {self.hits}"


class ProcessHeartbeat(models.Model):
    """When a long-running process (an outbox worker, say) last showed it was
    alive: one row per process, upserted every few seconds, read by the
    operators' metrics and status page. No personal data."""

    # Which process: its kind and host/pid, e.g. "outbox:web1:4121".
    process = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=40)
    seen_at = models.DateTimeField()

    def __str__(self):
        return f"{self.process} @ {self.seen_at:%H:%M:%S}"


class SigningPause(models.Model):
    """A surge switch: while this row exists, signing is paused on its
    petition (or on every petition, with no petition) and the sign form is
    replaced by the message. Confirmation links keep working. Organisers add
    and delete these in the admin, which records who did it and when."""

    petition = models.ForeignKey(
        Petition,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Leave empty to pause signing on the whole site."),
    )
    message = models.TextField(
        _("message"),
        help_text=_("Shown instead of the sign form, in each language."),
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("signing pause")
        constraints = [
            # One pause per petition and one for the whole site (NULL).
            models.UniqueConstraint(
                fields=["petition"],
                name="one_signing_pause_per_petition",
                nulls_distinct=False,
            )
        ]

    def __str__(self):
        return f"Signing paused: {self.petition or 'whole site'}"


class SiteBanner(models.Model):
    """A notice at the top of every public page, switched on and off in the
    admin without a deploy."""

    text = models.CharField(_("text"), max_length=300)
    is_active = models.BooleanField(_("shown"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("site banner")

    def __str__(self):
        return self.text


class AddressRangeField(models.CharField):
    """A PostgreSQL cidr column (an IPv4 or IPv6 network), which Django has no
    field for. The database itself refuses a malformed range; the form's
    message comes from validators.clean_address_range."""

    description = _("IPv4 or IPv6 address range (CIDR)")

    def __init__(self, *args, **kwargs):
        # Room for the longest IPv6 network; the type is cidr, not varchar.
        kwargs.setdefault("max_length", 43)
        super().__init__(*args, **kwargs)

    def db_type(self, connection):
        return "cidr"

    def cast_db_type(self, connection):
        return "cidr"


class BlockListEntry(models.Model):
    """What every entry of a block list carries beside what it blocks."""

    note = models.CharField(
        _("note"),
        max_length=300,
        blank=True,
        help_text=_("Why it is blocked, for the other organisers."),
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class BlockedEmailDomain(BlockListEntry):
    """A surge switch: nothing is stored from an e-mail address at this domain
    or any of its subdomains (signatures and newsletter subscriptions), and
    the sender is answered as if it had been. Edited in the admin, whose
    change log records who added or removed what, and when."""

    domain = models.CharField(
        _("domain"),
        max_length=253,
        unique=True,
        help_text=_(
            "For example mailinator.com. Its subdomains are blocked too "
            "(mail.mailinator.com)."
        ),
    )

    class Meta(BlockListEntry.Meta):
        verbose_name = _("blocked e-mail domain")
        ordering = ["domain"]
        constraints = [
            # The sign statement compares it with the address's own domain,
            # already in lower case.
            models.CheckConstraint(
                condition=models.Q(domain=models.functions.Lower("domain")),
                name="blocked_email_domain_lower_case",
            )
        ]

    def __str__(self):
        return self.domain


class BlockedAddressRange(BlockListEntry):
    """A surge switch: nothing is stored from a request whose address is in
    this range (signatures and newsletter subscriptions), and the sender is
    answered as if it had been. The address is only compared, never kept.
    Edited in the admin, whose change log records who changed what."""

    cidr = AddressRangeField(
        _("address range"),
        unique=True,
        help_text=_(
            "An address or a range in CIDR notation, IPv4 or IPv6: "
            "203.0.113.7, 203.0.113.0/24, 2001:db8::/32."
        ),
    )

    class Meta(BlockListEntry.Meta):
        verbose_name = _("blocked address range")
        ordering = ["cidr"]
        indexes = [
            # Answers "which range holds this address" (<<=) without a scan.
            GistIndex(
                fields=["cidr"],
                name="blocked_range_cidr_gist",
                opclasses=["inet_ops"],
            )
        ]

    def __str__(self):
        return self.cidr


def blocked_sender_sql() -> str:
    """An SQL condition, true when the sender is on a block list: its two
    parameters are the e-mail's domain and its parent domains (a text array,
    see validators.email_domain_suffixes) and the client's address (inet, or NULL when
    there is none to check)."""
    return (
        "(EXISTS (SELECT 1 FROM petitions_blockedemaildomain"
        " WHERE domain = ANY(%s::varchar[]))"
        " OR EXISTS (SELECT 1 FROM petitions_blockedaddressrange"
        " WHERE %s::inet <<= cidr))"
    )
