"""Reads of the mailing list for other apps (the organisers' milestone notes)."""

from django.db.models import QuerySet

from .models import Subscriber


def suppressed_addresses() -> QuerySet:
    """The normalised addresses no campaign e-mail may go to (bounced hard or
    complained), as a subquery: `.exclude(email_normalised__in=...)`."""
    return Subscriber.objects.suppressed().values("email_normalised")
