"""What the campaign holds about one e-mail address: its signatures (with
personal data still in them) and its subscription."""

from dataclasses import dataclass

from core import supporter_links
from newsletters.models import Subscriber
from newsletters.selectors import subscriber_of_address
from petitions.models import Signature
from petitions.selectors import signatures_of_address


@dataclass(frozen=True)
class Held:
    signatures: list[Signature]
    subscriber: Subscriber | None

    def __bool__(self) -> bool:
        return bool(self.signatures) or self.subscriber is not None

    @property
    def link_record(self) -> tuple[str, int]:
        """The record a link to this page names: the latest signature, else
        the subscription."""
        if self.signatures:
            return supporter_links.SIGNATURE, self.signatures[0].pk
        return supporter_links.SUBSCRIBER, self.subscriber.pk

    @property
    def language(self) -> str:
        if self.signatures:
            return self.signatures[0].consent_language
        return self.subscriber.language


def held_for_address(*, email: str) -> Held:
    return Held(
        signatures=list(signatures_of_address(email=email)),
        subscriber=subscriber_of_address(email=email),
    )


def held_for_link(*, kind: str, record_id: int) -> Held:
    """What is held for the address of the record a page link names; nothing
    once that record has lost its address (withdrawn, anonymised, deleted)."""
    model = Signature if kind == supporter_links.SIGNATURE else Subscriber
    email = (
        model.objects.filter(pk=record_id, email_normalised__isnull=False)
        .values_list("email", flat=True)
        .first()
    )
    if not email:
        return Held(signatures=[], subscriber=None)
    return held_for_address(email=email)
