import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from newsletters.models import Entry
from newsletters.services import entry_publish, entry_unpublish

from .factories import EntryFactory

pytestmark = pytest.mark.django_db


def test_publishing_a_draft_makes_it_public_now():
    entry = EntryFactory(
        draft=True, pub_date=timezone.now() - datetime.timedelta(days=30)
    )
    before = timezone.now()
    assert entry_publish(entry=entry) is True
    entry.refresh_from_db()
    assert entry.is_published
    # Dated now, not when the draft was started, so it leads the feeds.
    assert before <= entry.pub_date <= timezone.now()
    assert Entry.objects.published().filter(pk=entry.pk).exists()


def test_publishing_at_a_future_time_schedules_the_entry(monkeypatch):
    entry = EntryFactory(draft=True)
    at = timezone.now() + datetime.timedelta(hours=6)
    assert entry_publish(entry=entry, at=at) is True
    entry.refresh_from_db()
    assert entry.is_published and entry.pub_date == at
    assert not Entry.objects.published().filter(pk=entry.pk).exists()

    later = at + datetime.timedelta(minutes=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert Entry.objects.published().filter(pk=entry.pk).exists()


def test_publishing_a_scheduled_entry_without_a_time_publishes_it_now():
    entry = EntryFactory(scheduled=True)
    assert entry_publish(entry=entry) is True
    entry.refresh_from_db()
    assert entry.pub_date <= timezone.now()
    assert entry.is_public


def test_publishing_an_entry_that_is_already_public_changes_nothing():
    entry = EntryFactory()
    original = Entry.objects.get(pk=entry.pk)
    assert entry_publish(entry=entry) is False
    entry.refresh_from_db()
    assert entry.pub_date == original.pub_date
    assert entry.updated_at == original.updated_at


def test_publishing_refuses_a_time_without_a_time_zone():
    entry = EntryFactory(draft=True)
    with pytest.raises(ValidationError, match="time zone"):
        entry_publish(entry=entry, at=datetime.datetime(2030, 1, 1, 9, 0))
    entry.refresh_from_db()
    assert not entry.is_published


def test_unpublishing_turns_a_public_entry_back_into_a_draft():
    entry = EntryFactory()
    assert entry_unpublish(entry=entry) is True
    entry.refresh_from_db()
    assert not entry.is_published
    assert not Entry.objects.published().exists()


def test_unpublishing_a_draft_changes_nothing():
    entry = EntryFactory(draft=True)
    assert entry_unpublish(entry=entry) is False
