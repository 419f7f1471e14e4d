"""Fraud watch: hotspots, alerts to organisers, bulk invalidation and its undo."""

import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from procrastinate.contrib.django.models import ProcrastinateJob

from core.encryption import email_domain_label
from organising import fraud, paper
from organising.models import BulkInvalidation, SignatureAlert
from organising.tasks import check_signature_anomalies, run_bulk_invalidation
from petitions import services
from petitions.models import Signature
from tests.petitions.factories import (
    ConfirmedSignatureFactory,
    PetitionFactory,
    staff_user,
)

from .factories import organiser, recount

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(datetime.datetime(2026, 11, 30, 14, 40))
INVALIDATE = "/admin/petitions/petition/dashboard/justice/invalidate/"


@pytest.fixture
def petition():
    return PetitionFactory(slug="justice")


# A domain that is no big webmail provider is stored, and shown, as its label.
SPAM_LABEL = email_domain_label("x@spam.example")


def _flood(petition, number, *, ip_hash="f" * 32, domain="spam.example", at=NOW):
    for i in range(number):
        ConfirmedSignatureFactory(
            petition=petition,
            ip_hash=ip_hash,
            email=f"bot{i}-{ip_hash[:4]}@{domain}",
            created_at=at - datetime.timedelta(minutes=i % 30),
        )


def _last_half_hour():
    """A time in the previous hour, which every check made now looks at: a
    flood spread over minutes before `now` would straddle two hours when the
    test runs just after the hour, and fall below the threshold in each."""
    return timezone.now().replace(minute=0, second=0, microsecond=0) - (
        datetime.timedelta(minutes=20)
    )


def test_hotspots_rank_ip_hashes_and_domains_per_hour(petition):
    _flood(petition, 5)
    ConfirmedSignatureFactory.create_batch(2, petition=petition, created_at=NOW)
    spots = fraud.signature_hotspots(
        petition=petition,
        since=NOW - datetime.timedelta(hours=24),
        until=NOW + datetime.timedelta(minutes=1),
    )
    assert [(s.kind, s.value, s.count) for s in spots] == [
        ("ip_hash", "f" * 32, 5),
        ("email_domain", SPAM_LABEL, 5),
        ("email_domain", email_domain_label("x@example.org"), 2),
    ]
    assert {s.hour for s in spots} == {NOW.replace(minute=0)}


def test_an_alert_goes_to_organisers_once_per_hour_and_value(petition, settings):
    settings.FRAUD_ALERT_THRESHOLD = 5
    organiser("lead@example.org").__class__.objects.filter(
        username="lead@example.org"
    ).update(email="lead@example.org")
    staff_user("other@example.org").__class__.objects.filter(
        username="other@example.org"
    ).update(email="other@example.org")
    _flood(petition, 6)
    new = fraud.signature_anomalies_check(now=NOW + datetime.timedelta(minutes=1))
    assert {(h.kind, h.count) for h in new} == {("ip_hash", 6), ("email_domain", 6)}
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["lead@example.org"]
    assert "f" * 32 in mail.outbox[0].body and SPAM_LABEL in mail.outbox[0].body
    # Nothing personal: no names or addresses of signers.
    assert "bot0" not in mail.outbox[0].body
    assert (
        fraud.signature_anomalies_check(now=NOW + datetime.timedelta(minutes=5)) == []
    )
    assert len(mail.outbox) == 1
    assert SignatureAlert.objects.count() == 2


def test_below_the_threshold_or_webmail_nothing_is_sent(petition, settings):
    settings.FRAUD_ALERT_THRESHOLD = 5
    _flood(petition, 4)
    _flood(petition, 9, ip_hash="a" * 32, domain="gmail.com")
    new = fraud.signature_anomalies_check(now=NOW + datetime.timedelta(minutes=1))
    assert [(h.kind, h.value) for h in new] == [("ip_hash", "a" * 32)]


def test_the_command_runs_the_check(petition, settings, capsys):
    settings.FRAUD_ALERT_THRESHOLD = 3
    _flood(petition, 3, at=_last_half_hour())
    call_command("check_signature_anomalies", "--dry-run")
    assert f"{SPAM_LABEL}: 3" in capsys.readouterr().out
    assert not SignatureAlert.objects.exists()
    call_command("check_signature_anomalies")
    assert SignatureAlert.objects.count() == 2


def test_bulk_invalidation_counts_first_then_keeps_the_total_exact(petition):
    _flood(petition, 4)
    ConfirmedSignatureFactory.create_batch(3, petition=petition, created_at=NOW)
    recount(petition)
    criteria = fraud.Criteria(petition=petition, email_domain="@Spam.Example")
    assert fraud.signatures_matching(criteria).count() == 4
    bulk = fraud.signatures_invalidate_bulk(criteria=criteria)
    assert bulk.count == 4
    assert services.petition_signature_count(petition) == 3
    assert paper.signature_counts_reconcile(petition=petition) == (3, 3)


def test_undo_restores_status_publicity_and_count(petition):
    shown = ConfirmedSignatureFactory(
        petition=petition, ip_hash="b" * 32, show_publicly=True
    )
    pending = ConfirmedSignatureFactory(
        petition=petition,
        ip_hash="b" * 32,
        status=Signature.Status.PENDING,
    )
    recount(petition)
    bulk = fraud.signatures_invalidate_bulk(
        criteria=fraud.Criteria(petition=petition, ip_hash="b" * 32)
    )
    assert services.petition_signature_count(petition) == 0
    assert fraud.bulk_invalidation_undo(bulk=bulk) == 2
    shown.refresh_from_db()
    pending.refresh_from_db()
    assert (shown.status, shown.show_publicly, shown.invalidated_at) == (
        "confirmed",
        True,
        None,
    )
    assert pending.status == "pending"
    assert services.petition_signature_count(petition) == 1
    assert paper.signature_counts_reconcile(petition=petition) == (1, 1)
    with pytest.raises(fraud.ValidationError):
        fraud.bulk_invalidation_undo(bulk=bulk)


def test_undo_leaves_alone_signatures_withdrawn_since(petition):
    signature = ConfirmedSignatureFactory(petition=petition, country="BO")
    recount(petition)
    bulk = fraud.signatures_invalidate_bulk(
        criteria=fraud.Criteria(petition=petition, country="bo")
    )
    services.signature_withdraw(signature_id=signature.pk)
    assert fraud.bulk_invalidation_undo(bulk=bulk) == 0
    assert services.petition_signature_count(petition) == 0


def test_undo_is_refused_after_the_grace_period(petition, settings):
    settings.BULK_INVALIDATION_UNDO_DAYS = 7
    ConfirmedSignatureFactory(petition=petition, full_name="Fake Bot 1")
    bulk = fraud.signatures_invalidate_bulk(
        criteria=fraud.Criteria(petition=petition, name_contains="fake bot")
    )
    with pytest.raises(fraud.ValidationError):
        fraud.bulk_invalidation_undo(
            bulk=bulk, now=bulk.created_at + datetime.timedelta(days=7, seconds=1)
        )


def test_criteria_beyond_the_petition_are_required(petition):
    with pytest.raises(fraud.ValidationError):
        fraud.signatures_matching(fraud.Criteria(petition=petition))


def test_the_page_shows_the_count_before_anything_runs(client, petition):
    _flood(petition, 3)
    client.force_login(
        staff_user("boss", permissions=["petitions.invalidate_signature"])
    )
    page = client.get(INVALIDATE, {"email_domain": "spam.example"}).content.decode()
    assert "3 signatures still standing match these criteria" in page
    assert Signature.objects.filter(status="invalidated").count() == 0
    response = client.post(INVALIDATE, {"email_domain": "spam.example"}, follow=True)
    # Queued for the worker: nothing invalidated yet, and the page says so.
    assert "of the 3 matching signatures is queued" in response.content.decode()
    assert Signature.objects.filter(status="invalidated").count() == 0
    bulk = BulkInvalidation.objects.get()
    assert (bulk.state, bulk.created_by.username) == ("queued", "boss")
    job = ProcrastinateJob.objects.get(task_name=run_bulk_invalidation.name)
    assert job.args == {"bulk_id": bulk.pk}
    assert run_bulk_invalidation(bulk_id=bulk.pk) == "3 invalidated"
    bulk.refresh_from_db()
    assert (bulk.state, bulk.count) == ("done", 3)
    assert Signature.objects.filter(status="invalidated").count() == 3


def test_the_worker_runs_a_queued_invalidation_once_with_exact_counts(
    client, petition, run_jobs
):
    _flood(petition, 4)
    ConfirmedSignatureFactory.create_batch(2, petition=petition)
    recount(petition)
    client.force_login(
        staff_user("boss", permissions=["petitions.invalidate_signature"])
    )
    client.post(INVALIDATE, {"ip_hash": "f" * 32})
    listing = client.get("/admin/organising/bulkinvalidation/").content.decode()
    assert '<td class="field-state">Queued</td>' in listing
    assert services.petition_signature_count(petition) == 6
    run_jobs()
    bulk = BulkInvalidation.objects.get()
    assert (bulk.state, bulk.count) == ("done", 4) and bulk.done_at is not None
    assert ProcrastinateJob.objects.get().status == "succeeded"
    assert services.petition_signature_count(petition) == 2
    assert paper.signature_counts_reconcile(petition=petition) == (2, 2)
    listing = client.get("/admin/organising/bulkinvalidation/").content.decode()
    assert '<td class="field-state">Done</td>' in listing
    # A second run of the same record (a retried job) changes nothing.
    assert run_bulk_invalidation(bulk_id=bulk.pk) == "4 invalidated"
    assert bulk.items.count() == 4
    assert services.petition_signature_count(petition) == 2


def test_a_queued_invalidation_cannot_be_undone_before_it_runs(petition):
    _flood(petition, 2)
    bulk = fraud.bulk_invalidation_queue(
        criteria=fraud.Criteria(petition=petition, ip_hash="f" * 32)
    )
    with pytest.raises(fraud.ValidationError):
        fraud.bulk_invalidation_undo(bulk=bulk)


def test_the_criteria_travel_through_the_record_unchanged(petition):
    criteria = fraud.Criteria(
        petition=petition,
        created_from=NOW - datetime.timedelta(hours=1),
        created_until=NOW,
        ip_hash="f" * 32,
        email_domain="spam.example",
        country="PE",
        name_contains="bot",
    )
    assert fraud.criteria_from_json(petition=petition, data=criteria.as_json()) == (
        criteria
    )


def test_the_hourly_task_runs_the_anomaly_check(petition, settings):
    settings.FRAUD_ALERT_THRESHOLD = 3
    _flood(petition, 3, at=_last_half_hour())
    assert check_signature_anomalies(timestamp=0) == 2
    assert SignatureAlert.objects.count() == 2
    assert check_signature_anomalies(timestamp=1) == 0


def test_name_matching_needs_the_permission_to_view_signatures(client, petition):
    """Issue 22, item 10b: the count for a name says whether that person signed."""
    signature = ConfirmedSignatureFactory(petition=petition, full_name="Rosa Quispe")
    client.force_login(
        staff_user("boss", permissions=["petitions.invalidate_signature"])
    )
    page = client.get(INVALIDATE, {"name_contains": "Quispe"}).content.decode()
    assert "needs the permission to view signatures" in page
    assert "match these criteria" not in page
    client.post(INVALIDATE, {"name_contains": "Quispe"})
    assert not BulkInvalidation.objects.exists()
    signature.refresh_from_db()
    assert signature.status == Signature.Status.CONFIRMED

    client.force_login(
        staff_user(
            "reader",
            permissions=[
                "petitions.invalidate_signature",
                "petitions.view_signature",
            ],
        )
    )
    page = client.get(INVALIDATE, {"name_contains": "Quispe"}).content.decode()
    assert "1 signature still standing matches these criteria" in page


def test_an_empty_form_runs_nothing(client, petition):
    _flood(petition, 2)
    client.force_login(
        staff_user("boss", permissions=["petitions.invalidate_signature"])
    )
    response = client.post(INVALIDATE, {"email_domain": ""})
    assert response.status_code == 200
    assert "at least one criterion" in response.content.decode()
    assert Signature.objects.filter(status="invalidated").count() == 0


@pytest.mark.parametrize(
    "user_kwargs",
    [{"groups": ["Organisers"]}, {"groups": ["Editors"]}, {}],
)
def test_bulk_invalidation_needs_the_invalidate_permission(
    client, petition, user_kwargs
):
    _flood(petition, 2)
    client.force_login(staff_user("someone", **user_kwargs))
    assert client.get(INVALIDATE, {"email_domain": "spam.example"}).status_code == 403
    assert client.post(INVALIDATE, {"email_domain": "spam.example"}).status_code == 403
    assert client.get("/admin/organising/bulkinvalidation/").status_code == 403
    assert Signature.objects.filter(status="invalidated").count() == 0


def test_anonymous_visitors_go_to_the_login_page(client, petition):
    response = client.get(INVALIDATE)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_undo_action_in_the_admin(client, petition):
    _flood(petition, 2)
    recount(petition)
    client.force_login(
        staff_user("boss", permissions=["petitions.invalidate_signature"])
    )
    client.post(INVALIDATE, {"ip_hash": "f" * 32})
    bulk = BulkInvalidation.objects.get()
    run_bulk_invalidation(bulk_id=bulk.pk)
    client.post(
        "/admin/organising/bulkinvalidation/",
        {"action": "undo", "_selected_action": [bulk.pk]},
    )
    bulk.refresh_from_db()
    assert bulk.restored == 2 and bulk.undone_at is not None
    assert services.petition_signature_count(petition) == 2


def test_the_dashboard_lists_hotspots_for_organisers(client, petition):
    _flood(petition, 3, at=timezone.now())
    client.force_login(organiser())
    page = client.get("/admin/petitions/petition/dashboard/justice/").content.decode()
    assert f"<code>{SPAM_LABEL}</code>" in page
    # Organisers may look, not invalidate.
    assert "/invalidate/" not in page


def test_alerts_already_sent_are_listed_for_dashboard_viewers_only(client, petition):
    SignatureAlert.objects.create(
        petition=petition, hour=NOW, kind="ip_hash", value="c" * 32, count=60
    )
    client.force_login(organiser())
    page = client.get("/admin/organising/signaturealert/")
    assert page.status_code == 200 and "c" * 32 in page.content.decode()
    client.force_login(staff_user("staff@example.org"))
    assert client.get("/admin/organising/signaturealert/").status_code == 403
