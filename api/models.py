"""API tokens for partners, and the audit trail of every request made with one."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organising import exports
from organising.models import SignatureExport

# Shown to the superuser once, then only its hash is kept. The prefix makes a
# leaked token easy to recognise in a paste or a secret scanner.
TOKEN_PREFIX = "pcapi_"


def token_hash(raw_token: str) -> str:
    """SHA-256 of the token. A fast hash is right here: the token carries 256
    random bits, so there is nothing to guess that a slow KDF would protect."""
    return hashlib.sha256(raw_token.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def usable(self):
        return self.filter(revoked_at__isnull=True, owner__is_active=True)


class ApiToken(models.Model):
    """A partner's key to the API. Created and revoked by superusers only."""

    name = models.CharField(
        max_length=64,
        help_text=_(
            "The partner organisation, e.g. amnesty-peru. Signatures recorded "
            "with this token name it as their source unless the partner sends one."
        ),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_tokens",
        limit_choices_to={"is_staff": True},
        help_text=_(
            "The staff member answerable for this token. It can read signers' "
            "personal data only while this person holds the permission to "
            "export the delivery list with e-mail addresses."
        ),
    )
    can_read_signatures = models.BooleanField(
        default=False,
        help_text=_("May list a petition's confirmed signatures (dates and country)."),
    )
    can_read_personal_data = models.BooleanField(
        default=False,
        help_text=_(
            "May also see names, e-mail addresses and postcodes in that list, "
            "if the owner holds the e-mail export permission."
        ),
    )
    can_record_signatures = models.BooleanField(
        default=False,
        help_text=_(
            "May send signatures, which then need the signer's confirmation "
            "by e-mail like any other."
        ),
    )
    key_prefix = models.CharField(
        max_length=16,
        editable=False,
        help_text=_("The first characters of the token, to recognise it."),
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.name} ({self.key_prefix}…)"

    def set_new_key(self) -> str:
        """Give the token a fresh random key; returns it, in clear, this once."""
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.key_prefix = raw[: len(TOKEN_PREFIX) + 4]
        self.key_hash = token_hash(raw)
        return raw

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def may_read_personal_data(self) -> bool:
        return (
            self.can_read_signatures
            and self.can_read_personal_data
            and self.owner.is_active
            # The permission that gates the CSV delivery list with e-mails:
            # the API is one more way for that list to leave the database.
            and exports.user_may_export(
                self.owner, kind=SignatureExport.Kind.DELIVERY, with_emails=True
            )
        )


class ApiRequest(models.Model):
    """One request made with a token: who, when, what, and the outcome.

    Never the body, the query string or the client's address, so the trail
    holds no personal data and may be kept as long as the token.
    """

    token = models.ForeignKey(
        ApiToken, on_delete=models.PROTECT, related_name="requests"
    )
    at = models.DateTimeField(default=timezone.now)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=200)
    status = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["token", "at"], name="apirequest_token_at")]
        verbose_name = _("API request")
        verbose_name_plural = _("API requests")

    def __str__(self):
        return f"{self.method} {self.path} → {self.status}"
