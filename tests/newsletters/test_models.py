import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from newsletters.models import Entry

from .factories import EntryFactory

pytestmark = pytest.mark.django_db


def test_published_is_only_switched_on_entries_whose_time_has_come():
    public = EntryFactory()
    EntryFactory(draft=True)
    EntryFactory(scheduled=True)
    EntryFactory(draft=True, scheduled=True)
    assert list(Entry.objects.published()) == [public]


def test_is_public_and_is_scheduled_describe_the_state():
    assert EntryFactory().is_public
    scheduled = EntryFactory(scheduled=True)
    assert scheduled.is_scheduled and not scheduled.is_public
    draft = EntryFactory(draft=True)
    assert not draft.is_public and not draft.is_scheduled


def test_entries_are_ordered_by_month_covered_then_newest_first():
    june = EntryFactory(month=datetime.date(2024, 6, 1))
    february = EntryFactory(month=datetime.date(2024, 2, 1))
    july = EntryFactory(month=datetime.date(2024, 7, 1))
    assert list(Entry.objects.all()) == [july, june, february]


def test_clean_saves_any_day_as_the_first_of_the_month():
    entry = EntryFactory.build(month=datetime.date(2024, 2, 17))
    entry.full_clean()
    assert entry.month == datetime.date(2024, 2, 1)


def test_database_refuses_a_month_that_is_not_the_first_day():
    with pytest.raises(IntegrityError), transaction.atomic():
        EntryFactory(month=datetime.date(2024, 2, 17))


def test_same_slug_is_allowed_in_different_months():
    EntryFactory(slug="monthly-round-up", month=datetime.date(2024, 6, 1))
    EntryFactory(slug="monthly-round-up", month=datetime.date(2024, 7, 1))
    assert Entry.objects.filter(slug="monthly-round-up").count() == 2


def test_same_slug_in_the_same_month_is_refused_with_a_clear_message():
    EntryFactory(slug="monthly-round-up", month=datetime.date(2024, 6, 1))
    duplicate = EntryFactory.build(
        slug="monthly-round-up", month=datetime.date(2024, 6, 9)
    )
    with pytest.raises(ValidationError) as excinfo:
        duplicate.full_clean()
    assert "Another entry for this month already uses this slug" in str(excinfo.value)
    with pytest.raises(IntegrityError), transaction.atomic():
        EntryFactory(slug="monthly-round-up", month=datetime.date(2024, 6, 1))


def test_absolute_url_uses_the_month_covered_with_two_digits():
    entry = EntryFactory(slug="forestry-law", month=datetime.date(2024, 2, 1))
    assert entry.get_absolute_url() == "/news/2024/02/forestry-law/"
