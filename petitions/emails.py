"""The e-mails sent to signers, in plain text and HTML."""

import secrets

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from core.context_processors import site
from core.emails import email_message, stable_message_id
from core.supporter_links import SIGNATURE, supporter_page_url

from .tokens import make_token

SUBJECTS = {
    "confirm": lambda petition: (
        _("Please confirm your signature: %(title)s") % {"title": petition.title}
    ),
    "already_signed": lambda petition: (
        _("You have already signed: %(title)s") % {"title": petition.title}
    ),
}


def signature_link(signature, purpose: str) -> str:
    path = reverse(f"petitions:{purpose}")
    return f"{settings.SITE_URL}{path}?t={make_token(signature.pk, purpose)}"


def my_data_link(signature) -> str:
    """The signer's own page (what we hold, correct, delete), in the footer of
    every e-mail to them."""
    return supporter_page_url(
        kind=SIGNATURE,
        record_id=signature.pk,
        language=signature.consent_language or settings.LANGUAGE_CODE,
    )


def signer_context(signature) -> dict:
    """What every e-mail to a signer shows: who runs the campaign, the
    petition, their first name and their own withdraw link. Call it in the
    signer's language (the links are translated)."""
    petition = signature.petition
    return {
        # Who runs the campaign, named in every e-mail.
        **site(None),
        "signature": signature,
        "petition": petition,
        "first_name": signature.public_first_name,
        "petition_url": f"{settings.SITE_URL}{petition.get_absolute_url()}",
        "withdraw_url": signature_link(signature, "withdraw"),
        "my_data_url": my_data_link(signature),
    }


def signature_message_id(*, signature_id: int, kind: str, number: int) -> str:
    """The one Message-ID of one e-mail about a signature, on every attempt.

    `number` is the signature's repeat_emails_sent when the e-mail was asked
    for: a link sent again because the person signed again is a new message,
    a retransmission of the same one is not.
    """
    return stable_message_id(
        salt="petitions.signature_message_id",
        prefix="signature",
        parts=(signature_id, kind, number),
    )


# Stand-ins for what differs between two signers of one petition, rendered
# into a batch's shared copy and replaced per message. Random per process, so
# no petition title or translation can contain one.
_SLOT = secrets.token_hex(8)
_PER_SIGNER = (
    "first_name",
    "confirm_url",
    "withdraw_url",
    "unsubscribe_url",
    "my_data_url",
)
_SLOTS = {name: f"slot{_SLOT}{name}" for name in _PER_SIGNER}


def _rendered(petition, kind: str, language: str, *, named: bool, updates: bool):
    """Subject, text and HTML of one kind of e-mail for one petition and
    language, with stand-ins where each signer's name and links go."""
    with translation.override(language or settings.LANGUAGE_CODE):
        context = {
            # Who runs the campaign, named in every e-mail.
            **site(None),
            # The HTML's lang attribute: the signer's language as stored.
            "signature": {"consent_language": language},
            "petition": petition,
            "first_name": _SLOTS["first_name"] if named else "",
            "petition_url": f"{settings.SITE_URL}{petition.get_absolute_url()}",
            "confirm_url": _SLOTS["confirm_url"],
            "withdraw_url": _SLOTS["withdraw_url"],
            "unsubscribe_url": _SLOTS["unsubscribe_url"] if updates else "",
            "my_data_url": _SLOTS["my_data_url"],
            "confirm_days": settings.SIGNATURE_CONFIRM_MAX_AGE_DAYS,
        }
        return (
            SUBJECTS[kind](petition),
            render_to_string(f"petitions/email/{kind}.txt", context),
            render_to_string(f"petitions/email/{kind}.html", context),
        )


def _filled(template: str, values: dict) -> str:
    for name, value in values.items():
        template = template.replace(_SLOTS[name], value)
    return template


def build_signature_email(
    signature, kind: str, *, connection=None, rendered: dict | None = None
) -> EmailMultiAlternatives:
    """The e-mail of this kind about this signature.

    Pass the same `rendered` dict for a batch of e-mails (the outbox does):
    each petition's e-mail is then rendered once per kind and language, and
    each signer's name and links put into a copy of it, as the templates
    would have put them (escaped in the HTML).
    """
    petition = signature.petition
    first_name = signature.public_first_name
    # The links are in the signer's language (its URL prefix).
    with translation.override(signature.consent_language or settings.LANGUAGE_CODE):
        values = {
            "first_name": first_name,
            "confirm_url": signature_link(signature, "confirm"),
            "withdraw_url": signature_link(signature, "withdraw"),
            "unsubscribe_url": (
                signature_link(signature, "unsubscribe")
                if signature.wants_updates
                else ""
            ),
            "my_data_url": my_data_link(signature),
        }
    key = (
        petition.pk,
        kind,
        signature.consent_language,
        bool(first_name),
        signature.wants_updates,
    )
    rendered = {} if rendered is None else rendered
    if key not in rendered:
        rendered[key] = _rendered(
            petition,
            kind,
            signature.consent_language,
            named=bool(first_name),
            updates=signature.wants_updates,
        )
    subject, text, html = rendered[key]
    list_unsubscribe = values["unsubscribe_url"] or values["withdraw_url"]
    return email_message(
        subject=subject,
        text=_filled(text, values),
        html=_filled(html, {name: escape(value) for name, value in values.items()}),
        to=signature.email,
        connection=connection,
        headers={
            "Message-ID": signature_message_id(
                signature_id=signature.pk,
                kind=kind,
                number=signature.repeat_emails_sent,
            ),
            "List-Unsubscribe": f"<{list_unsubscribe}>",
            "Auto-Submitted": "auto-generated",
        },
    )
