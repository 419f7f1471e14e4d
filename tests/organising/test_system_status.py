"""The operators' view: the /metrics endpoint, its alert rules, and the
admin's System status page, all read from the same selectors."""

import datetime
import re
from pathlib import Path

import pytest
import yaml
from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from procrastinate.contrib.django import app

from newsletters.models import Delivery, Issue, SendThrottle
from newsletters.services import subscriber_subscribe
from organising import system_status
from organising.models import RetentionRun
from petitions import outbox, services
from petitions.management.commands import send_signature_emails as send_command
from petitions.models import ProcessHeartbeat
from petitions.outbox import OUTBOX_PROCESS_KIND, heartbeat_record
from tests.newsletters.factories import IssueFactory, SubscriberFactory
from tests.petitions.factories import PetitionFactory, staff_user

pytestmark = pytest.mark.django_db

TOKEN = "s3cret-operators-token"
ALERTS = Path(settings.BASE_DIR) / "deploy" / "prometheus" / "alerts.yml"


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape(client, token=TOKEN):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.get("/metrics", **headers)


def sample(text: str, name: str, labels: str = "") -> float | None:
    match = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, flags=re.MULTILINE)
    return float(match.group(1)) if match else None


def test_metrics_do_not_exist_without_a_configured_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert scrape(client).status_code == 404
    assert scrape(client, token="").status_code == 404


def test_metrics_refuse_a_wrong_or_missing_token(client, metrics_token):
    assert scrape(client, token="").status_code == 404
    assert scrape(client, token=TOKEN + "x").status_code == 404
    assert scrape(client, token=TOKEN[:-1]).status_code == 404
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}")
    assert response.status_code == 404


def test_metrics_answer_the_operators_token_and_are_never_cached(client, metrics_token):
    response = scrape(client)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert "no-store" in response["Cache-Control"]


def test_metrics_count_sign_outcomes_and_the_waiting_emails(client, metrics_token):
    petition = PetitionFactory()
    now = timezone.now()
    for n in range(3):
        services.signature_create(
            petition=petition,
            full_name=f"Signer {n}",
            email=f"signer{n}@example.org",
            country="PE",
            now=now - datetime.timedelta(seconds=400),
        )
    text = scrape(client).content.decode()
    assert sample(text, "campaign_signatures_recent", '{status="pending"}') == 3
    assert sample(text, "campaign_signatures_recent", '{status="confirmed"}') == 0
    assert sample(text, "campaign_signature_emails_due") == 3
    assert sample(text, "campaign_signature_email_oldest_due_seconds") >= 400


def test_no_personal_data_in_the_metrics_or_the_status_page(
    client, metrics_token, admin_client
):
    petition = PetitionFactory()
    services.signature_create(
        petition=petition,
        full_name="Rosa Huamán Quispe",
        email="rosa.huaman@example.pe",
        country="PE",
        postcode="LIMA 15001",
        ip_hash="hash-of-rosas-address",
    )
    subscriber_subscribe(email="lucho.mamani@example.pe")
    metrics = scrape(client).content.decode()
    status = admin_client.get(reverse("organising:system_status")).content.decode()
    for text in (metrics, status):
        for secret in (
            "Rosa",
            "Huam",
            "rosa.huaman",
            "example.pe",
            "lucho",
            "LIMA 15001",
            "hash-of-rosas-address",
        ):
            assert secret not in text


def test_worker_and_outbox_heartbeats_are_read(client, metrics_token):
    now = timezone.now()
    heartbeat_record(
        kind=OUTBOX_PROCESS_KIND,
        process="outbox:test:1",
        now=now - datetime.timedelta(seconds=90),
    )
    worker_id = async_to_sync(app.job_manager.register_worker)()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE procrastinate_workers SET last_heartbeat = %s WHERE id = %s",
            [now - datetime.timedelta(seconds=30), worker_id],
        )
    text = scrape(client).content.decode()
    assert sample(text, "campaign_outbox_processes") == 1
    assert sample(text, "campaign_outbox_heartbeat_age_seconds") >= 90
    assert sample(text, "campaign_workers") == 1
    assert 30 <= sample(text, "campaign_worker_heartbeat_age_seconds") < 90


def test_outbox_command_beats_and_takes_its_row_away_when_it_stops(monkeypatch):
    seen_while_running = []

    def send_and_look():
        seen_while_running.extend(ProcessHeartbeat.objects.values_list("kind"))
        return outbox.signature_emails_send()

    monkeypatch.setattr(send_command, "signature_emails_send", send_and_look)
    call_command("send_signature_emails", "--once")
    assert seen_while_running == [(OUTBOX_PROCESS_KIND,)]
    # Stopped cleanly: not mistaken for a silent process afterwards.
    assert not ProcessHeartbeat.objects.exists()


def test_a_silent_process_is_reported_in_words():
    heartbeat_record(
        kind=OUTBOX_PROCESS_KIND,
        process="outbox:test:2",
        now=timezone.now() - datetime.timedelta(minutes=5),
    )
    lines = system_status.status_lines(system_status.system_readings())
    outbox = next(line for line in lines if line.text.startswith("Outbox"))
    assert outbox.attention
    assert "last seen" in outbox.text
    worker = next(line for line in lines if line.text.startswith("Worker"))
    assert worker.text == "Worker: never seen."
    assert worker.attention


def test_newsletter_delivery_progress(client, metrics_token):
    issue = IssueFactory(status=Issue.Status.SENDING)
    for _n in range(2):
        Delivery.objects.create(issue=issue, subscriber=SubscriberFactory())
    SendThrottle.objects.create(
        name="newsletter", updated_at=timezone.now() - datetime.timedelta(minutes=20)
    )
    text = scrape(client).content.decode()
    assert sample(text, "campaign_newsletter_issues_sending") == 1
    assert sample(text, "campaign_newsletter_deliveries_queued") == 2
    assert sample(text, "campaign_newsletter_last_progress_seconds") >= 1200
    lines = system_status.status_lines(system_status.system_readings())
    newsletter = next(line for line in lines if "newsletter is going out" in line.text)
    assert newsletter.attention


def test_replica_lag_is_absent_without_a_replica(client, metrics_token):
    text = scrape(client).content.decode()
    assert "# TYPE campaign_replica_lag_seconds gauge" in text
    assert sample(text, "campaign_replica_lag_seconds") is None


def test_each_alert_rule_parses_and_names_an_exported_metric(client, metrics_token):
    rules = yaml.safe_load(ALERTS.read_text())["groups"][0]["rules"]
    exported = set(
        re.findall(r"^# TYPE (\S+) ", scrape(client).content.decode(), re.MULTILINE)
    )
    names = {rule["alert"] for rule in rules}
    assert {
        "ConfirmationEmailWaiting",
        "ReplicaLagging",
        "WorkerSilent",
        "OutboxSilent",
        "NewsletterDeliveryStuck",
        "BackupMissing",
        "RetentionNotRunning",
    } <= names
    for rule in rules:
        used = set(re.findall(r"\bcampaign_[a-z_]+", rule["expr"]))
        assert used, rule["alert"]
        assert used <= exported, (rule["alert"], used - exported)


def test_the_status_page_warns_at_the_alert_rules_thresholds():
    rules = {
        rule["alert"]: rule["expr"]
        for rule in yaml.safe_load(ALERTS.read_text())["groups"][0]["rules"]
    }
    assert (
        f"> {system_status.EMAIL_WAIT_ALERT_SECONDS}"
        in rules["ConfirmationEmailWaiting"]
    )
    assert f"> {system_status.REPLICA_LAG_ALERT_SECONDS}" in rules["ReplicaLagging"]
    assert f"> {system_status.WORKER_SILENT_ALERT_SECONDS}" in rules["WorkerSilent"]
    assert f"> {system_status.OUTBOX_SILENT_ALERT_SECONDS}" in rules["OutboxSilent"]
    assert (
        f"> {system_status.NEWSLETTER_STUCK_ALERT_SECONDS}"
        in rules["NewsletterDeliveryStuck"]
    )
    assert f"> {system_status.BACKUP_AGE_ALERT_SECONDS}" in rules["BackupMissing"]
    assert (
        f"> {system_status.RETENTION_AGE_ALERT_SECONDS}" in rules["RetentionNotRunning"]
    )


def test_status_page_needs_its_permission(client):
    url = reverse("organising:system_status")
    client.force_login(staff_user("volunteer"))
    assert client.get(url).status_code == 403
    client.force_login(
        staff_user("operator", permissions=["organising.view_system_status"])
    )
    response = client.get(url)
    assert response.status_code == 200
    assert b"No confirmation e-mail is waiting to be sent." in response.content


def test_status_page_says_how_long_the_oldest_email_waited(admin_client):
    services.signature_create(
        petition=PetitionFactory(),
        full_name="Ana Quispe",
        email="ana@example.org",
        country="PE",
        now=timezone.now() - datetime.timedelta(seconds=400),
    )
    response = admin_client.get(reverse("organising:system_status"))
    text = response.content.decode()
    assert "1 e-mails to signers are waiting; the oldest has waited 4" in text
    assert "Needs attention:" in text


def test_the_last_backup_and_retention_run_are_read(client, metrics_token, monkeypatch):
    now = timezone.now()
    finished = now - datetime.timedelta(hours=26)
    monkeypatch.setattr(
        system_status.backups, "backup_latest_finished_at", lambda: finished
    )
    RetentionRun.objects.create(
        started_at=now - datetime.timedelta(minutes=10),
        finished_at=now - datetime.timedelta(minutes=9),
        closed_anonymised=7,
        subscribers_deleted=2,
    )
    text = scrape(client).content.decode()
    assert sample(text, "campaign_backup_age_seconds") >= 26 * 3600
    assert 9 * 60 <= sample(text, "campaign_retention_run_age_seconds") < 11 * 60
    assert (
        sample(text, "campaign_retention_rows_cleared", '{kind="closed_anonymised"}')
        == 7
    )
    lines = system_status.status_lines(system_status.system_readings(now=now))
    backup_line = next(line for line in lines if "backup" in line.text)
    assert backup_line.attention
    retention_line = next(line for line in lines if "retention" in line.text)
    assert "cleared 9 rows" in retention_line.text
    assert not retention_line.attention


def test_no_backup_in_sight_is_said_and_left_out_of_the_metrics(
    client, metrics_token, monkeypatch
):
    def unreadable():
        raise system_status.backups.BackupError("no repository here")

    monkeypatch.setattr(system_status.backups, "backup_latest_finished_at", unreadable)
    text = scrape(client).content.decode()
    assert sample(text, "campaign_backup_age_seconds") is None
    lines = system_status.status_lines(system_status.system_readings())
    assert any(
        "No backup can be seen" in line.text and line.attention for line in lines
    )
