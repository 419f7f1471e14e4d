"""Reads of the mailing list for other apps (the organisers' milestone notes,
the supporters' own page)."""

from django.db.models import QuerySet

from core.encryption import email_indexes

from .models import Subscriber


def suppressed_addresses() -> QuerySet:
    """The normalised addresses no campaign e-mail may go to (bounced hard or
    complained), as a subquery: `.exclude(email_normalised__in=...)`."""
    return Subscriber.objects.suppressed().values("email_normalised")


def subscriber_of_address(*, email: str) -> Subscriber | None:
    """The subscriber with this e-mail address, if any: what a supporter's own
    page shows and changes.

    The one place the supporters' rights find a subscriber by address.
    """
    return Subscriber.objects.filter(email_normalised__in=email_indexes(email)).first()
