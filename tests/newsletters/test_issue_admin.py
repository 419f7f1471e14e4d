"""Sending from the admin: previews, a test, the confirmation step, progress;
and who may see subscribers' addresses."""

import pytest
from django.contrib.auth.models import Permission
from django.core import mail

from newsletters.models import Delivery, Issue
from newsletters.webhooks import handle_tracking_event

from .factories import (
    EntryFactory,
    IssueFactory,
    StaffUserFactory,
    SubscriberFactory,
    make_editor,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(client):
    client.force_login(make_editor(email="editor@example.org"))
    return client


def test_an_editor_creates_an_issue_from_published_entries(editor_client):
    entry = EntryFactory(title="Court ruling")
    draft = EntryFactory(draft=True)
    page = editor_client.get("/admin/newsletters/issue/add/").content.decode()
    assert "Court ruling" in page and draft.title not in page
    response = editor_client.post(
        "/admin/newsletters/issue/add/",
        {"subject_en": "", "subject_es": "", "entries": [entry.pk], "_save": "Save"},
    )
    assert response.status_code == 302
    assert list(Issue.objects.get().entries.all()) == [entry]


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("fmt", ["html", "txt"])
def test_previews_in_both_languages(editor_client, language, fmt):
    entry = EntryFactory(
        title="Court ruling", title_es="Fallo judicial", body_es="Texto"
    )
    issue = IssueFactory(entries=[entry])
    response = editor_client.get(
        f"/admin/newsletters/issue/{issue.pk}/preview/{language}.{fmt}"
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert ("Fallo judicial" if language == "es" else "Court ruling") in text
    assert "/news/unsubscribe/?t=" in text
    if fmt == "html":
        assert "<img" not in text
        assert "unsafe-inline" in response["Content-Security-Policy"]
    else:
        assert response["Content-Type"].startswith("text/plain")


def test_an_unknown_preview_language_is_a_404(editor_client):
    issue = IssueFactory()
    response = editor_client.get(f"/admin/newsletters/issue/{issue.pk}/preview/fr.html")
    assert response.status_code == 404


def test_send_a_test_to_myself(editor_client):
    issue = IssueFactory()
    response = editor_client.post(f"/admin/newsletters/issue/{issue.pk}/send-test/")
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["editor@example.org"]] * 2
    assert not Delivery.objects.exists()


def test_the_send_step_shows_the_count_then_queues(editor_client):
    issue = IssueFactory()
    for _ in range(3):
        SubscriberFactory()
    SubscriberFactory(status="unsubscribed")
    page = editor_client.get(f"/admin/newsletters/issue/{issue.pk}/send/")
    assert page.status_code == 200
    assert "<strong>3 subscribers</strong>" in page.content.decode()
    assert not Delivery.objects.exists()
    response = editor_client.post(f"/admin/newsletters/issue/{issue.pk}/send/")
    assert response.status_code == 302
    assert response["Location"].endswith(f"/issue/{issue.pk}/progress/")
    assert Delivery.objects.count() == 3
    progress = editor_client.get(response["Location"]).content.decode()
    assert 'http-equiv="refresh"' in progress
    assert (
        '<tr id="state-queued"><th scope="row">Queued</th><td>3</td></tr>' in progress
    )
    # Sent issues are a record: no more changes, no second send.
    assert (
        editor_client.post(f"/admin/newsletters/issue/{issue.pk}/send/").status_code
        == 302
    )
    assert Delivery.objects.count() == 3
    change = editor_client.get(f"/admin/newsletters/issue/{issue.pk}/change/")
    assert "Send to the list" not in change.content.decode()


def test_progress_shows_how_many_were_retransmitted_after_an_interruption(
    editor_client,
):
    issue = IssueFactory(status=Issue.Status.SENDING)
    for _ in range(3):
        Delivery.objects.create(issue=issue, subscriber=SubscriberFactory())
    url = f"/admin/newsletters/issue/{issue.pk}/progress/"
    assert 'id="issue-retransmitted"' not in editor_client.get(url).content.decode()
    Delivery.objects.filter(pk__in=Delivery.objects.values("pk")[:2]).update(
        retransmitted=1
    )
    page = editor_client.get(url).content.decode()
    assert (
        "2 deliveries were retransmitted after an interruption (same Message-ID)"
        in page
    )
    # Retransmission is automatic now: no button to send anything again.
    assert "resend" not in page and "<form" not in page.split('id="content-main"')[1]


def test_sending_an_issue_with_a_draft_entry_is_explained(editor_client):
    issue = IssueFactory(entries=[EntryFactory(draft=True)])
    page = editor_client.get(f"/admin/newsletters/issue/{issue.pk}/send/")
    assert "is not published yet" in page.content.decode()
    editor_client.post(f"/admin/newsletters/issue/{issue.pk}/send/")
    assert not Delivery.objects.exists()


def test_scheduling_from_the_admin(editor_client):
    entry = EntryFactory(scheduled=True)
    issue = IssueFactory(entries=[entry])
    editor_client.post(f"/admin/newsletters/issue/{issue.pk}/schedule/")
    issue.refresh_from_db()
    assert issue.status == "scheduled" and issue.send_at == entry.pub_date
    editor_client.post(
        f"/admin/newsletters/issue/{issue.pk}/schedule/", {"action": "unschedule"}
    )
    issue.refresh_from_db()
    assert issue.status == "draft"


def test_staff_without_the_send_permission_cannot_send(client):
    user = StaffUserFactory()
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_issue", "change_issue"])
    )
    client.force_login(user)
    issue = IssueFactory()
    SubscriberFactory()
    assert (
        client.get(f"/admin/newsletters/issue/{issue.pk}/preview/en.html").status_code
        == 200
    )
    for url in ("send/", "send-test/", "schedule/"):
        assert (
            client.post(f"/admin/newsletters/issue/{issue.pk}/{url}").status_code == 403
        )
    assert not Delivery.objects.exists()
    assert mail.outbox == []


def test_the_admin_lists_subscribers_without_addresses(editor_client):
    subscriber = SubscriberFactory(email="secret@example.org")
    listing = editor_client.get("/admin/newsletters/subscriber/").content.decode()
    assert "secret@example.org" not in listing
    detail = editor_client.get(
        f"/admin/newsletters/subscriber/{subscriber.pk}/change/"
    ).content.decode()
    assert "secret@example.org" not in detail
    # Finding one by its exact address still works.
    found = editor_client.get("/admin/newsletters/subscriber/?q=Secret@example.org")
    assert (
        f"/admin/newsletters/subscriber/{subscriber.pk}/change/"
        in found.content.decode()
    )


def export(client, ids):
    return client.post(
        "/admin/newsletters/subscriber/",
        {"action": "export_addresses", "_selected_action": ids},
    )


def test_exporting_addresses_needs_the_signers_address_permission(client):
    subscriber = SubscriberFactory(email="=evil@example.org")
    user = make_editor()
    client.force_login(user)
    response = export(client, [subscriber.pk])
    assert b"example.org" not in b"".join(
        getattr(response, "streaming_content", [response.content])
    )
    user.user_permissions.add(Permission.objects.get(codename="export_emails"))
    user = type(user).objects.get(pk=user.pk)
    client.force_login(user)
    response = export(client, [subscriber.pk])
    body = b"".join(response.streaming_content).decode()
    assert response["Content-Disposition"].startswith("attachment")
    assert "'=evil@example.org" in body


def test_the_dashboard_shows_subscriber_totals(client):
    from tests.petitions.factories import PetitionFactory

    PetitionFactory(slug="justice", state="open")
    SubscriberFactory(language="es", source="signer")
    SubscriberFactory(language="en")
    user = StaffUserFactory()
    user.user_permissions.add(Permission.objects.get(codename="view_dashboard"))
    client.force_login(user)
    page = client.get("/admin/petitions/petition/dashboard/").content.decode()
    assert "2 addresses receive the newsletter." in page
    assert 'id="subscribers-language-es"' in page
    assert 'id="subscribers-source-signer"' in page


# --- webhooks and the bounce list ---------------------------------------------
def tracking_event(event_type, recipient, reject_reason=None):
    from anymail.signals import AnymailTrackingEvent

    return AnymailTrackingEvent(
        event_type=event_type, recipient=recipient, reject_reason=reject_reason
    )


@pytest.mark.parametrize(
    ("event_type", "reject_reason", "status"),
    [
        ("bounced", None, "bounced"),
        ("rejected", "invalid", "bounced"),
        ("complained", None, "complained"),
        ("unsubscribed", None, "unsubscribed"),
        ("deferred", None, "confirmed"),
        ("delivered", None, "confirmed"),
    ],
)
def test_provider_events_mark_the_address(event_type, reject_reason, status):
    subscriber = SubscriberFactory(email="x@example.org")
    handle_tracking_event(
        None,
        event=tracking_event(event_type, "X@example.org", reject_reason),
        esp_name="Test",
    )
    subscriber.refresh_from_db()
    assert subscriber.status == status


def test_the_tracking_webhook_needs_its_secret_and_marks_bounces(client, settings):
    import base64
    import json

    subscriber = SubscriberFactory(email="gone@example.org")
    url = "/anymail/postmark/tracking/"
    payload = json.dumps(
        {
            "RecordType": "Bounce",
            "Type": "HardBounce",
            "TypeCode": 1,
            "Email": "gone@example.org",
            "MessageID": "00000000-0000-0000-0000-000000000000",
            "BouncedAt": "2026-12-01T00:00:00Z",
            "Description": "The server was unable to deliver your message",
        }
    )
    assert client.post(url, payload, content_type="application/json").status_code == 400
    subscriber.refresh_from_db()
    assert subscriber.status == "confirmed"
    secret = settings.ANYMAIL["WEBHOOK_SECRET"]
    auth = "Basic " + base64.b64encode(secret.encode()).decode()
    response = client.post(
        url, payload, content_type="application/json", HTTP_AUTHORIZATION=auth
    )
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == "bounced"


def test_importing_a_bounce_list(tmp_path):
    from io import StringIO

    from django.core.management import call_command

    SubscriberFactory(email="one@example.org")
    SubscriberFactory(email="two@example.org")
    kept = SubscriberFactory(email="three@example.org")
    path = tmp_path / "bounces.csv"
    path.write_text(
        "Email,Reason\none@example.org,hard\nTWO@example.org,hard\nnobody@example.org,x\n"
    )
    out = StringIO()
    call_command("import_bounces", str(path), stdout=out)
    assert "Read 3 addresses; marked 2 subscribers as bounced" in out.getvalue()
    assert "one@example.org" not in out.getvalue()
    kept.refresh_from_db()
    assert kept.status == "confirmed"
    path.write_text("three@example.org\n")
    call_command("import_bounces", str(path), "--complaints", stdout=StringIO())
    kept.refresh_from_db()
    assert kept.status == "complained"


def test_importing_a_missing_file_is_a_clear_error():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError):
        call_command("import_bounces", "/nonexistent.csv")
