"""E-mail addresses as people type them: checked, tidied, and folded to the
one form that finds the same person twice (signers and subscribers alike)."""

import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext_lazy as _

EMAIL_MAX_LENGTH = 254

# Providers that ignore dots and/or +tags in the local part, so that
# j.doe+x@gmail.com and jdoe@gmail.com are one person.
_DOTS_IGNORED = {"gmail.com"}
PLUS_TAGS_IGNORED = {
    "gmail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "proton.me",
    "protonmail.com",
    "fastmail.com",
    "yahoo.com",
}
_DOMAIN_ALIASES = {"googlemail.com": "gmail.com", "pm.me": "proton.me"}

_email_syntax = EmailValidator(
    message=_("Enter an e-mail address like name@example.org.")
)


def clean_email(value: str) -> str:
    """The address as typed (trimmed, with a lower-case domain), or ValidationError."""
    email = unicodedata.normalize("NFC", value or "").strip()
    if not email:
        raise ValidationError(_("Enter your e-mail address."), code="required")
    if len(email) > EMAIL_MAX_LENGTH:
        raise ValidationError(
            _("An e-mail address can be at most %(max)d characters long."),
            code="max_length",
            params={"max": EMAIL_MAX_LENGTH},
        )
    _email_syntax(email)
    local, _at, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def normalise_email(email: str) -> str:
    """The form used to find duplicates: lower case, provider aliases folded."""
    local, _at, domain = email.lower().rpartition("@")
    domain = _DOMAIN_ALIASES.get(domain, domain)
    if domain in PLUS_TAGS_IGNORED:
        local = local.split("+", 1)[0]
    if domain in _DOTS_IGNORED:
        local = local.replace(".", "")
    return f"{local}@{domain}"


def mailbox_key(email: str) -> str:
    """The mailbox an address reaches, for limiting e-mail to it only.

    Most mail servers deliver name+anything@domain to name@domain, at any
    domain, so the +tag is dropped for every domain here (and the webmail
    folding of normalise_email applied). Never used to find duplicates: at a
    domain that does not fold +tags, they can be two people.
    """
    local, _at, domain = normalise_email(email).rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"
