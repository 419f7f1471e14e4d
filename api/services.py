"""Partner API rules: tokens, their audit trail, and signatures sent by partners.

A signature from a partner goes through petitions.services.signature_create,
exactly like one from the sign form: the same validation, duplicate handling,
double opt-in e-mail and count (only once the signer confirms).
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from organising.models import SignatureExport
from petitions import ratelimit, services, validators
from petitions.models import Petition, Signature

from .models import ApiRequest, ApiToken, token_hash

# last_used_at is written at most this often per token, so a busy partner
# costs one audit insert per request and not an extra update as well.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)

# Signatures a partner may send per token. A partner's server sends for many
# people from one address, so the per-IP limits of the sign form would choke
# it; these bound what one leaked or buggy token can do instead.
API_SIGN_LIMITS = [
    ratelimit.Limit("burst", 120, 60),
    ratelimit.Limit("sustained", 3000, 3600),
]


def api_token_create(
    *,
    name: str,
    owner,
    can_read_signatures: bool = False,
    can_read_personal_data: bool = False,
    can_record_signatures: bool = False,
) -> tuple[ApiToken, str]:
    """Create a token; returns it and its key in clear, which is never stored."""
    token = ApiToken(
        name=name,
        owner=owner,
        can_read_signatures=can_read_signatures,
        can_read_personal_data=can_read_personal_data,
        can_record_signatures=can_record_signatures,
    )
    raw = token.set_new_key()
    token.full_clean()
    token.save()
    return token, raw


def api_tokens_revoke(*, tokens, now=None) -> int:
    """Revoke tokens for good; returns how many were still in use."""
    return tokens.filter(revoked_at__isnull=True).update(
        revoked_at=now or timezone.now()
    )


def api_token_authenticate(*, raw_token: str) -> ApiToken | None:
    """The usable token with this key, or None (unknown, revoked, owner gone).

    Looked up by its hash: comparing hashes of a 256-bit secret leaks nothing
    useful through timing.
    """
    if not raw_token or len(raw_token) > 200:
        return None
    return (
        ApiToken.objects.usable()
        .select_related("owner")
        .filter(key_hash=token_hash(raw_token))
        .first()
    )


def api_request_record(
    *, token: ApiToken, method: str, path: str, status: int, now=None
) -> None:
    """Audit one request: a single insert, plus last_used_at now and then."""
    now = now or timezone.now()
    ApiRequest.objects.create(
        token=token, at=now, method=method[:8], path=path[:200], status=status
    )
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now)
        ).update(last_used_at=now)


def petition_signatures_for_partner(*, petition: Petition):
    """Confirmed signatures in the order they were confirmed, for paging."""
    return (
        Signature.objects.confirmed()
        .filter(petition=petition)
        .order_by("confirmed_at", "pk")
    )


def signature_export_record_api(
    *, petition: Petition, token: ApiToken, row_count: int, now=None
) -> SignatureExport:
    """Account for a page of personal data sent to a partner, like a CSV export.

    The privacy notice promises that every copy of the delivery list leaving
    the database is recorded; an API page with names and e-mails is one.
    """
    now = now or timezone.now()
    return SignatureExport.objects.create(
        petition=petition,
        kind=SignatureExport.Kind.DELIVERY,
        with_emails=True,
        user=token.owner,
        requested_by=f"API token {token.name} ({token.key_prefix})"[:150],
        created_at=now,
        row_count=row_count,
        finished=True,
        finished_at=now,
    )


# ------------------------------------------------------------------------------
# The Record Signature Helper
# ------------------------------------------------------------------------------
@dataclass
class ErrorDescription:
    error_code: str
    description: str
    properties: tuple[str, ...] = ()


class OsdiProblem(Exception):
    """A request the API refuses: an HTTP status and OSDI error descriptions."""

    def __init__(
        self,
        status: int,
        descriptions: list[ErrorDescription],
        retry_after: int | None = None,
    ):
        super().__init__(descriptions[0].description)
        self.status = status
        self.descriptions = descriptions
        self.retry_after = retry_after

    @classmethod
    def one(cls, status: int, error_code: str, description: str, properties=()):
        return cls(status, [ErrorDescription(error_code, description, properties)])


# Where each field of the sign form sits in an OSDI person.
OSDI_PROPERTIES = {
    "full_name": ("person.given_name", "person.family_name"),
    "email": ("person.email_addresses[0].address",),
    "country": ("person.postal_addresses[0].country",),
    "postcode": ("person.postal_addresses[0].postal_code",),
}


def _text(container: dict, key: str, where: str) -> str:
    value = container.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise OsdiProblem.one(
            400, "INVALID_TYPE", _("This value must be text."), (f"{where}.{key}",)
        )
    return value


def _first_entry(person: dict, key: str) -> dict:
    """The primary (else the first) entry of a list such as email_addresses."""
    entries = person.get(key) or []
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise OsdiProblem.one(
            400,
            "INVALID_TYPE",
            _("This value must be a list of objects."),
            (f"person.{key}",),
        )
    primary = [entry for entry in entries if entry.get("primary") is True]
    return (primary or entries or [{}])[0]


def osdi_signer(payload) -> dict:
    """The sign form's fields, read from an OSDI Record Signature Helper body."""
    if not isinstance(payload, dict):
        raise OsdiProblem.one(400, "INVALID_JSON", _("The body must be a JSON object."))
    person = payload.get("person")
    if not isinstance(person, dict):
        raise OsdiProblem.one(
            400, "MISSING_PERSON", _("A person object is required."), ("person",)
        )
    given = _text(person, "given_name", "person")
    family = _text(person, "family_name", "person")
    email = _text(_first_entry(person, "email_addresses"), "address", "person")
    address = _first_entry(person, "postal_addresses")
    referrer = payload.get("referrer_data") or {}
    if not isinstance(referrer, dict):
        raise OsdiProblem.one(
            400, "INVALID_TYPE", _("This value must be an object."), ("referrer_data",)
        )
    languages = person.get("languages_spoken")
    if not isinstance(languages, list):
        languages = []
    known = {code for code, _name in settings.LANGUAGES}
    language = next(
        (code for code in languages if isinstance(code, str) and code in known),
        settings.LANGUAGE_CODE,
    )
    return {
        "full_name": f"{given} {family}".strip(),
        "email": email,
        "country": _text(address, "country", "person.postal_addresses[0]").upper(),
        "postcode": _text(address, "postal_code", "person.postal_addresses[0]"),
        "source": _text(referrer, "source", "referrer_data"),
        "language": language,
    }


def signature_record_from_partner(
    *,
    petition: Petition,
    token: ApiToken,
    payload,
    client_ip: str | None = None,
    now=None,
) -> str:
    """Record a signature sent by a partner; returns the source it was given.

    Raises OsdiProblem for anything refused. The outcome (new, repeat,
    ignored, blocked) is deliberately not returned: the response must be the
    same whether or not the address had signed before. `client_ip` is the
    partner's server, checked against the blocked address ranges only.
    """
    signer = osdi_signer(payload)
    wait = ratelimit.hit(
        scope="api-sign", client=f"token{token.pk}", limits=API_SIGN_LIMITS, now=now
    )
    if wait is not None:
        problem = OsdiProblem.one(
            429,
            "RATE_LIMITED",
            _("Too many signatures from this token; try again later."),
        )
        problem.retry_after = wait
        raise problem
    source = validators.clean_source(signer["source"] or token.name)
    try:
        with transaction.atomic():
            services.signature_create(
                petition=petition,
                full_name=signer["full_name"],
                email=signer["email"],
                country=signer["country"],
                postcode=signer["postcode"],
                consent_language=signer["language"],
                # The partner's server is not the signer: its address would
                # make every signature it sends look like one person's.
                ip_hash="",
                client_ip=client_ip,
                source=source,
                now=now,
            )
    except ValidationError as error:
        raise _problem_from(error) from None
    return source


def _problem_from(error: ValidationError) -> OsdiProblem:
    if getattr(error, "code", None) == "paused":
        return OsdiProblem.one(503, "SIGNING_PAUSED", error.messages[0])
    if getattr(error, "code", None) == "closed":
        return OsdiProblem.one(
            400, "PETITION_NOT_ACCEPTING_SIGNATURES", error.messages[0]
        )
    if hasattr(error, "error_dict"):
        by_field = error.error_dict
    else:
        by_field = {None: error.error_list}
    return OsdiProblem(
        400,
        [
            ErrorDescription(
                "INVALID_SIGNER",
                message,
                OSDI_PROPERTIES.get(field, ("person",)),
            )
            for field, errors in by_field.items()
            for message in ValidationError(errors).messages
        ],
    )
