"""Publishing rules for newsletter entries, used by the admin and by tests."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Entry


@transaction.atomic
def entry_publish(*, entry: Entry, at: datetime.datetime | None = None) -> bool:
    """Switch an entry on so that it goes public at `at` (default: now).

    A time in the future schedules the entry. An entry that is already public
    is left as it is, so publishing it twice does not move its date.
    Returns whether anything changed.
    """
    now = timezone.now()
    if at is not None and timezone.is_naive(at):
        raise ValidationError(
            _("The publication time needs a time zone."), code="naive_datetime"
        )
    if entry.is_published and entry.pub_date <= now and at is None:
        return False
    entry.is_published = True
    entry.pub_date = at or now
    entry.save(update_fields=["is_published", "pub_date", "updated_at"])
    return True


@transaction.atomic
def entry_unpublish(*, entry: Entry) -> bool:
    """Turn an entry back into a draft. Returns whether anything changed."""
    if not entry.is_published:
        return False
    entry.is_published = False
    entry.save(update_fields=["is_published", "updated_at"])
    return True
