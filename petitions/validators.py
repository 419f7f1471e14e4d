"""Cleaning and checking what supporters type into the sign form.

Used by the form (for messages next to each field) and by the services (so a
command or admin action cannot store what the form would refuse).
"""

import ipaddress
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from core.email_addresses import clean_email
from core.spreadsheets import FORMULA_PREFIXES

NAME_MAX_LENGTH = 100

# Characters that reorder text or are not text at all. Zero-width joiners
# (category Cf) are kept: several scripts need them in names.
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_FORBIDDEN_CATEGORIES = {"Cc", "Cs", "Co", "Cn"}
_LINK_MARKERS = re.compile(r"://|www\.")
# A word that reads as a domain name: labels of letters, digits or hyphens
# joined by dots, ending in a label of two or more letters (any script, as
# browsers accept internationalised domains) or a punycode one. Abbreviations
# ("Ma. Quispe", "J. R. R. Tolkien", "J.R.R.") never end that way.
_DOMAIN_LIKE = re.compile(
    r"(?<![\w-])[^\W_][\w-]*(?:\.[^\W_][\w-]*)*\.(?:[^\W\d_]{2,}|xn--[\w-]+)(?![\w-])"
)
# Full stops that browsers also read as dots in a domain; NFKC folds the
# full-width one, not these.
_DOT_LOOKALIKES = str.maketrans({"\u3002": ".", "\uff61": ".", "\u2024": "."})


def looks_like_a_link(value: str) -> bool:
    """Whether text holds a web address, however written: full-width letters
    and dots, and other compatibility forms, are folded (NFKC) first."""
    folded = unicodedata.normalize("NFKC", value).translate(_DOT_LOOKALIKES).casefold()
    return bool(_LINK_MARKERS.search(folded) or _DOMAIN_LIKE.search(folded))


_UK_POSTCODE = re.compile(r"^(GIR ?0AA|[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2})$")
_OTHER_POSTCODE = re.compile(r"^[A-Z0-9][A-Z0-9 -]{0,10}[A-Z0-9]$|^[A-Z0-9]$")


def normalise_text(value: str) -> str:
    """NFC-normalise, trim, and collapse runs of white space to one space."""
    return " ".join(unicodedata.normalize("NFC", value or "").split())


def clean_full_name(value: str) -> str:
    name = normalise_text(value)
    if not name:
        raise ValidationError(_("Enter your full name."), code="required")
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            _("Your name can be at most %(max)d characters long."),
            code="max_length",
            params={"max": NAME_MAX_LENGTH},
        )
    if any(
        unicodedata.category(char) in _FORBIDDEN_CATEGORIES or char in _BIDI_CONTROLS
        for char in name
    ):
        raise ValidationError(
            _("Your name contains characters we cannot accept."), code="control"
        )
    if looks_like_a_link(name):
        raise ValidationError(
            _(
                "Enter your name only, without web addresses. If your name has an "
                "abbreviation, put a space after its full stop, as in “Ma. Quispe”."
            ),
            code="link",
        )
    if name.startswith(FORMULA_PREFIXES):
        raise ValidationError(
            _("Your name cannot start with =, +, - or @."), code="formula"
        )
    return name


def clean_country(value: str) -> str:
    """An ISO 3166 alpha-2 code from the list, upper case, or ValidationError."""
    code = (value or "").strip().upper()
    if code not in countries:
        raise ValidationError(_("Choose your country from the list."), code="country")
    return code


def clean_postcode(value: str, country: str) -> str:
    postcode = " ".join((value or "").upper().split())
    if not postcode:
        return ""
    if country == "GB":
        if not _UK_POSTCODE.match(postcode):
            raise ValidationError(
                _("Enter a UK postcode like SW1A 1AA, or leave it empty."),
                code="uk_postcode",
            )
        compact = postcode.replace(" ", "")
        return f"{compact[:-3]} {compact[-3:]}"
    if not _OTHER_POSTCODE.match(postcode):
        raise ValidationError(
            _(
                "Enter a postcode of letters, numbers, spaces or hyphens (at most "
                "12), or leave it empty."
            ),
            code="postcode",
        )
    return postcode


_SOURCE_UNSAFE = re.compile(r"[^a-z0-9._-]+")


def clean_source(source: str) -> str:
    """A campaign source label, folded to a short safe slug; never an error,
    because a mangled tracking parameter must not stop anyone signing."""
    folded = unicodedata.normalize("NFKC", source or "").strip().lower()
    return _SOURCE_UNSAFE.sub("-", folded).strip("-.")[:64]


def clean_signer(
    *, full_name: str, email: str, country: str, postcode: str = ""
) -> dict[str, str]:
    """A signer's details, cleaned; or one ValidationError naming every field
    at fault, which the sign form shows beside each field."""
    errors = {}
    cleaned = {}
    for field, clean, value in [
        ("full_name", clean_full_name, full_name),
        ("email", clean_email, email),
        ("country", clean_country, country),
    ]:
        try:
            cleaned[field] = clean(value)
        except ValidationError as error:
            errors[field] = error.error_list
    if "country" in cleaned:
        try:
            cleaned["postcode"] = clean_postcode(postcode, cleaned["country"])
        except ValidationError as error:
            errors["postcode"] = error.error_list
    if errors:
        raise ValidationError(errors)
    return cleaned


# The block lists (models.BlockedEmailDomain, BlockedAddressRange): what
# organisers type into the admin, and what a request is compared with.

_DOMAIN_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def ascii_domain(domain: str) -> str:
    """A domain in lower case, internationalised names in their ASCII
    (punycode) form, so that both spellings of one domain compare equal."""
    domain = unicodedata.normalize("NFC", domain).strip().lower().rstrip(".")
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def clean_blocked_domain(value: str) -> str:
    """A domain to block, as the sign statement compares it; or a
    ValidationError saying what to type instead."""
    domain = (value or "").strip().lower()
    # People paste an address or a wildcard; the domain is what they mean.
    domain = domain.rpartition("@")[2].removeprefix("*.").removeprefix(".")
    domain = ascii_domain(domain)
    labels = domain.split(".")
    if (
        len(labels) < 2
        or len(domain) > 253
        or not all(_DOMAIN_LABEL.fullmatch(label) for label in labels)
    ):
        raise ValidationError(
            _(
                "Enter a domain name such as mailinator.com (no spaces, no "
                "http://, at least one dot)."
            ),
            code="invalid_domain",
        )
    return domain


def email_domain_suffixes(email: str) -> list[str]:
    """The address's domain and each domain above it, the parameter of
    models.blocked_sender_sql: a.b.example.org gives a.b.example.org,
    b.example.org, example.org and org."""
    labels = ascii_domain(email.rpartition("@")[2]).split(".")
    return [".".join(labels[start:]) for start in range(len(labels))]


def clean_address_range(value: str) -> str:
    """An IPv4 or IPv6 address or network in CIDR notation, as PostgreSQL's
    cidr type stores it; or a ValidationError saying what to type instead."""
    text = (value or "").strip()
    try:
        network = ipaddress.ip_network(text)
    except ValueError:
        try:
            loose = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ValidationError(
                _(
                    "Enter an address or a range in CIDR notation, such as "
                    "203.0.113.0/24 or 2001:db8::/32."
                ),
                code="invalid_range",
            ) from None
        # Bits set after the prefix: say which range that would be rather
        # than guess whether the address or the range was meant.
        raise ValidationError(
            _("%(typed)s has bits set after its prefix; the range is %(network)s."),
            code="host_bits_set",
            params={"typed": text, "network": str(loose)},
        ) from None
    return str(network)


def client_address(ip: str) -> str | None:
    """The client's address to compare with the blocked ranges, or None when
    the request carries none that parses (it is then checked by e-mail
    domain alone). An IPv4 address written as IPv6 (::ffff:a.b.c.d) is
    compared as the IPv4 address it is."""
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return str(address)
