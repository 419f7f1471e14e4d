"""The e-mails sent to signers, in plain text and HTML."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from core.context_processors import site
from core.emails import email_message, stable_message_id

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


def build_signature_email(
    signature, kind: str, *, connection=None
) -> EmailMultiAlternatives:
    petition = signature.petition
    with translation.override(signature.consent_language or settings.LANGUAGE_CODE):
        context = {
            **signer_context(signature),
            "confirm_url": signature_link(signature, "confirm"),
            "unsubscribe_url": (
                signature_link(signature, "unsubscribe")
                if signature.wants_updates
                else ""
            ),
            "confirm_days": settings.SIGNATURE_CONFIRM_MAX_AGE_DAYS,
        }
        subject = SUBJECTS[kind](petition)
        text = render_to_string(f"petitions/email/{kind}.txt", context)
        html = render_to_string(f"petitions/email/{kind}.html", context)
    list_unsubscribe = context["unsubscribe_url"] or context["withdraw_url"]
    return email_message(
        subject=subject,
        text=text,
        html=html,
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
