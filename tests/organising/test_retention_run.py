"""The retention rules run by themselves, on fixed clocks, with exact counts."""

import datetime
import re

import pytest
from dateutil.relativedelta import relativedelta
from django.core.management import call_command
from procrastinate.contrib.django import app

from newsletters.models import Subscriber
from organising.models import PaperBatch, RetentionRun
from organising.services import retention_run
from organising.tasks import purge_expired_data
from petitions.models import Signature
from petitions.services import petition_counts_by_country, petition_signature_count
from tests.newsletters.factories import SubscriberFactory
from tests.petitions.factories import ConfirmedSignatureFactory, PetitionFactory

from .factories import organiser, recount

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 9, 15, 12, 0, tzinfo=datetime.UTC)
A_MOMENT = datetime.timedelta(minutes=1)


def _personal(signature_id):
    return Signature.objects.values_list(
        "full_name", "email", "email_normalised", "postcode", "ip_hash"
    ).get(pk=signature_id)


def _blank(signature_id) -> bool:
    return _personal(signature_id) == ("", "", None, "", "")


def test_unconfirmed_signatures_go_when_their_link_expires(settings):
    expiry = NOW - datetime.timedelta(days=settings.SIGNATURE_PENDING_RETENTION_DAYS)
    pending = Signature.Status.PENDING
    expired = ConfirmedSignatureFactory(status=pending, created_at=expiry - A_MOMENT)
    alive = ConfirmedSignatureFactory(status=pending, created_at=expiry + A_MOMENT)
    confirmed_old = ConfirmedSignatureFactory(created_at=expiry - A_MOMENT)
    run = retention_run(now=NOW)
    assert run.unconfirmed_deleted == 1
    assert not Signature.objects.filter(pk=expired.pk).exists()
    assert Signature.objects.filter(pk__in=[alive.pk, confirmed_old.pk]).count() == 2


def test_closed_petitions_are_anonymised_after_the_stated_months(settings):
    closed_at = NOW - relativedelta(months=settings.SIGNATURE_RETENTION_MONTHS)
    old = PetitionFactory(closes_at=closed_at - A_MOMENT, opens_at=None)
    recent = PetitionFactory(closes_at=closed_at + A_MOMENT, opens_at=None)
    for petition in (old, recent):
        for country in ("PE", "PE", "GB"):
            ConfirmedSignatureFactory(
                petition=petition,
                country=country,
                postcode="15001",
                created_at=closed_at - datetime.timedelta(days=30),
            )
        PaperBatch.objects.create(
            petition=petition,
            count=4,
            country="PE",
            names="Rosa Huamán",
            collected_on=closed_at.date(),
        )
        recount(petition)
    before = {p.pk: petition_counts_by_country(p)[0] for p in (old, recent)}
    run = retention_run(now=NOW)
    assert (run.closed_anonymised, run.paper_batches_anonymised) == (3, 1)
    for signature in Signature.objects.filter(petition=old):
        assert _blank(signature.pk)
        assert signature.status == Signature.Status.CONFIRMED
        assert signature.anonymised_at == NOW
    assert not any(_blank(s.pk) for s in Signature.objects.filter(petition=recent))
    assert PaperBatch.objects.get(petition=old).names == ""
    assert PaperBatch.objects.get(petition=recent).names == "Rosa Huamán"
    for petition in (old, recent):
        assert petition_counts_by_country(petition)[0] == before[petition.pk]
        assert petition_signature_count(petition) == 3 + 4


def test_invalidated_signatures_are_anonymised_after_the_undo_window(settings):
    window_end = NOW - datetime.timedelta(days=settings.BULK_INVALIDATION_UNDO_DAYS)
    petition = PetitionFactory()
    invalid = Signature.Status.INVALIDATED
    past = ConfirmedSignatureFactory(
        petition=petition, status=invalid, invalidated_at=window_end - A_MOMENT
    )
    undoable = ConfirmedSignatureFactory(
        petition=petition, status=invalid, invalidated_at=window_end + A_MOMENT
    )
    counted = ConfirmedSignatureFactory(petition=petition)
    recount(petition)
    run = retention_run(now=NOW)
    assert run.invalidated_anonymised == 1
    assert _blank(past.pk)
    assert not _blank(undoable.pk)
    assert not _blank(counted.pk)
    past.refresh_from_db()
    assert past.status == invalid
    assert petition_signature_count(petition) == 1


def test_unsubscribed_and_unconfirmed_subscribers_are_deleted(settings):
    cutoff = NOW - datetime.timedelta(days=settings.SIGNATURE_PENDING_RETENTION_DAYS)
    gone = SubscriberFactory(status="unsubscribed", status_changed_at=cutoff - A_MOMENT)
    kept = SubscriberFactory(status="unsubscribed", status_changed_at=cutoff + A_MOMENT)
    pending = SubscriberFactory(
        status="pending", confirmed_at=None, status_changed_at=cutoff - A_MOMENT
    )
    reader = SubscriberFactory(status="confirmed", status_changed_at=cutoff - A_MOMENT)
    run = retention_run(now=NOW)
    assert run.subscribers_deleted == 2
    assert set(Subscriber.objects.values_list("pk", flat=True)) == {kept.pk, reader.pk}
    assert not Subscriber.objects.filter(pk__in=[gone.pk, pending.pk]).exists()


def test_each_run_is_recorded_with_numbers_only():
    ConfirmedSignatureFactory(
        status=Signature.Status.PENDING, created_at=NOW - datetime.timedelta(days=90)
    )
    retention_run(now=NOW)
    run = RetentionRun.objects.get()
    assert run.started_at == NOW
    assert run.finished_at == NOW
    assert run.unconfirmed_deleted == 1
    text_fields = [
        field.name
        for field in RetentionRun._meta.get_fields()
        if field.get_internal_type() in ("CharField", "TextField", "JSONField")
    ]
    assert text_fields == []


def test_a_dry_run_changes_and_records_nothing():
    stale = ConfirmedSignatureFactory(
        status=Signature.Status.PENDING, created_at=NOW - datetime.timedelta(days=90)
    )
    run = retention_run(now=NOW, dry_run=True)
    assert run.unconfirmed_deleted == 1
    assert Signature.objects.filter(pk=stale.pk).exists()
    assert not RetentionRun.objects.exists()
    call_command("purge_expired_data", "--dry-run", verbosity=0)
    assert Signature.objects.filter(pk=stale.pk).exists()
    assert not RetentionRun.objects.exists()


def test_the_hourly_job_is_scheduled_and_runs_the_rules():
    schedule = app.periodic_registry.periodic_tasks[(purge_expired_data.name, "")]
    assert schedule.cron == "17 * * * *"
    ConfirmedSignatureFactory(
        status=Signature.Status.PENDING, created_at=NOW - datetime.timedelta(days=90)
    )
    summary = purge_expired_data(timestamp=0)
    assert summary.startswith("Deleted 1 unconfirmed signatures")
    assert RetentionRun.objects.get().unconfirmed_deleted == 1


def test_the_dashboard_says_when_the_rules_last_ran_and_what_they_did(client):
    PetitionFactory(slug="justice")
    client.force_login(organiser())
    page = client.get("/admin/petitions/petition/dashboard/").content.decode()
    assert "have not run yet" in page
    ConfirmedSignatureFactory(
        status=Signature.Status.PENDING,
        full_name="Rosa Quispe",
        created_at=NOW - datetime.timedelta(days=90),
    )
    RetentionRun.objects.create(
        started_at=NOW - A_MOMENT, finished_at=NOW - A_MOMENT, unconfirmed_deleted=9
    )
    retention_run(now=NOW)
    page = client.get("/admin/petitions/petition/dashboard/").content.decode()
    assert re.search(r'id="retention-last-run">Last run: [^<]*2026', page)
    assert "1 unconfirmed signatures deleted" in page
    assert "9 unconfirmed" not in page
    assert "Rosa" not in page
