"""Supporters' own rights over their data (Peru's Ley 29733, the GDPR):
access, correction, deletion, objection.

Each function acts on everything held for one address (supporters.selectors.
Held) through the services of the app that owns the data, so the counts and
the mailing list follow their own rules, and logs the request without any
personal data (supporters.models).
"""

from django.db import transaction
from procrastinate.contrib.django import app

from newsletters import services as newsletter_services
from petitions import services as petition_services

from .models import SupporterRequest
from .selectors import Held, held_for_address

SEND_SUPPORTER_LINK_TASK = "supporters.tasks.send_supporter_link"

Kind = SupporterRequest.Kind
Outcome = SupporterRequest.Outcome


def supporter_request_log(*, kind: str, outcome: str) -> SupporterRequest:
    return SupporterRequest.objects.create(kind=kind, outcome=outcome)


@transaction.atomic
def supporter_link_request(*, email: str, language: str) -> None:
    """Someone asked, through the form, what the campaign holds for an
    address: if anything, the worker e-mails that address a link to its page.
    The caller answers the same either way; the job names a record by id,
    never the address."""
    held = held_for_address(email=email)
    if not held:
        supporter_request_log(kind=Kind.ACCESS, outcome=Outcome.NOTHING_HELD)
        return
    kind, record_id = held.link_record
    app.configure_task(SEND_SUPPORTER_LINK_TASK, allow_unknown=False).defer(
        kind=kind, record_id=record_id, language=language
    )
    supporter_request_log(kind=Kind.ACCESS, outcome=Outcome.LINK_SENT)


@transaction.atomic
def supporter_name_correct(*, held: Held, full_name: str) -> bool:
    """Correct the name on every signature of the address. Raises
    ValidationError for a name the sign form would refuse."""
    corrected = False
    for signature in held.signatures:
        corrected |= petition_services.signature_name_correct(
            signature_id=signature.pk, full_name=full_name
        )
    supporter_request_log(
        kind=Kind.CORRECTION,
        outcome=Outcome.DONE if corrected else Outcome.NOTHING_TO_CHANGE,
    )
    return corrected


@transaction.atomic
def supporter_delete(*, held: Held) -> bool:
    """Delete everything held for the address: each signature is withdrawn
    (out of the count, its personal data blanked, as the withdraw link does),
    and the subscription is deleted."""
    deleted = False
    for signature in held.signatures:
        deleted |= petition_services.signature_withdraw(signature_id=signature.pk)
    if held.subscriber is not None:
        # Withdrawing may already have taken a signer-only subscription away.
        deleted |= newsletter_services.subscriber_delete(
            subscriber_id=held.subscriber.pk
        )
    supporter_request_log(
        kind=Kind.DELETION,
        outcome=Outcome.DONE if deleted else Outcome.NOTHING_TO_CHANGE,
    )
    return deleted


@transaction.atomic
def supporter_object(*, held: Held) -> bool:
    """Stop all campaign e-mail to the address (updates and newsletter); the
    signatures stay and count."""
    stopped = False
    for signature in held.signatures:
        if signature.wants_updates:
            stopped |= petition_services.signature_unsubscribe(
                signature_id=signature.pk
            )
    if held.subscriber is not None:
        stopped |= newsletter_services.subscriber_unsubscribe(
            subscriber_id=held.subscriber.pk
        )
    supporter_request_log(
        kind=Kind.OBJECTION,
        outcome=Outcome.DONE if stopped else Outcome.NOTHING_TO_CHANGE,
    )
    return stopped
