"""Who runs the campaign, where the content pages lead, and the site's small
parts (icons, manifest, time zone) — the server-side half of issue 13; the
browser half is tests/e2e/test_supporter_experience.py."""

import datetime
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from pages.models import Page, TimelineEvent
from petitions.emails import build_signature_email
from petitions.models import Petition
from reports.models import Report
from tests.petitions.factories import PetitionFactory, SignatureFactory

pytestmark = pytest.mark.django_db

ORGANISATION = "Peru Solidarity Network"
ADDRESS = "12 Calle Falsa, Lima"
CONTROLLER = "Peru Solidarity Network Trust"


@pytest.fixture
def campaign_owner(settings):
    settings.CAMPAIGN_ORGANISATION = ORGANISATION
    settings.CAMPAIGN_POSTAL_ADDRESS = ADDRESS
    settings.DATA_CONTROLLER = CONTROLLER
    settings.CONTACT_EMAIL = "hello@example.org"


def settings_value(name, **env):
    """A setting as a fresh process computes it from `env` alone."""
    clean = {k: v for k, v in os.environ.items() if k not in env and k != "SITE_URL"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = "
            "'peru_campaign.settings'; from django.conf import settings; "
            f"print(settings.{name})",
        ],
        env={**clean, **env},
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
    )
    return result.stdout.strip() or result.stderr


def test_in_development_site_url_follows_the_port():
    assert (
        settings_value("SITE_URL", DJANGO_ENV="development", PORT="8080")
        == "http://127.0.0.1:8080"
    )
    assert (
        settings_value(
            "SITE_URL",
            DJANGO_ENV="development",
            PORT="8080",
            SITE_URL="https://standwithperu.example",
        )
        == "https://standwithperu.example"
    )


def test_production_refuses_to_start_without_naming_who_runs_the_campaign():
    production = {
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "example.org",
        "CONTACT_EMAIL": "a@example.org",
        "SITE_URL": "https://example.org",
        "EMAIL_URL": "smtp://mail.example.org:587",
        "SIGNER_DATA_KEY": "Rk9yVGVzdHNPbmx5LVNpZ25lckRhdGFLZXktMzJieXQ",
    }
    assert "CAMPAIGN_ORGANISATION must be set in production" in settings_value(
        "CAMPAIGN_ORGANISATION", **production
    )
    named = {
        **production,
        "CAMPAIGN_ORGANISATION": "Org",
        "CAMPAIGN_POSTAL_ADDRESS": "1 St",
    }
    # The data controller defaults to the organisation.
    assert settings_value("DATA_CONTROLLER", **named) == "Org"


def test_time_zone_is_peru_by_default():
    assert settings_value("TIME_ZONE", DJANGO_ENV="development") == "America/Lima"
    assert (
        settings_value("TIME_ZONE", DJANGO_ENV="development", TIME_ZONE="Europe/Madrid")
        == "Europe/Madrid"
    )


@pytest.mark.parametrize("prefix", ["", "/es"])
def test_every_page_footer_names_who_runs_the_campaign(
    client, campaign_content, campaign_owner, prefix
):
    for path in ["/", "/what-happened/", "/news/", "/petitions/justice-for-peru/"]:
        html = client.get(prefix + path).content.decode()
        assert ORGANISATION in html and ADDRESS in html and CONTROLLER in html, path
        assert f'href="{prefix}/about/"' in html, path


@pytest.mark.parametrize("prefix", ["", "/es"])
def test_about_and_privacy_pages_say_who_holds_the_data(
    client, campaign_content, campaign_owner, prefix
):
    for slug in ["about", "privacy"]:
        response = client.get(f"{prefix}/{slug}/")
        assert response.status_code == 200
        html = response.content.decode()
        assert 'class="who-runs"' in html
        assert CONTROLLER in html and "mailto:hello@example.org" in html


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_signature_email_names_the_organisation(campaign_owner, language):
    signature = SignatureFactory(consent_language=language)
    for kind in ["confirm", "already_signed"]:
        message = build_signature_email(signature, kind)
        html = message.alternatives[0][0]
        for text in [message.body, html]:
            assert ORGANISATION in text and ADDRESS in text and CONTROLLER in text
            assert "hello@example.org" in text


def test_the_from_name_is_the_organisation_by_default():
    assert settings_value(
        "DEFAULT_FROM_EMAIL",
        DJANGO_ENV="development",
        CAMPAIGN_ORGANISATION="Peru Solidarity Network",
    ) == ("Peru Solidarity Network <no-reply@localhost>")


@pytest.mark.parametrize(
    "path",
    ["/what-happened/", "/es/what-happened/", "report", "/no-such-page/"],
)
def test_content_pages_and_the_404_lead_to_the_petition(client, campaign_content, path):
    if path == "report":
        path = Report.objects.published().first().get_absolute_url()
    response = client.get(path)
    html = response.content.decode()
    assert 'class="call-to-action"' in html, path
    assert 'href="/petitions/justice-for-peru/#sign"' in html or (
        'href="/es/petitions/justice-for-peru/#sign"' in html
    ), path


def test_no_call_to_action_when_no_petition_takes_signatures(client, campaign_content):
    Petition.objects.update(state=Petition.State.CLOSED)
    html = client.get("/what-happened/").content.decode()
    assert 'class="call-to-action"' not in html


def test_news_entries_offer_sharing_and_the_petition(client, campaign_content):
    news = client.get("/news/").content.decode()
    entry_path = news.split('<ul class="entry-list">', 1)[1].split('href="', 1)[1]
    entry_path = entry_path.split('"', 1)[0]
    html = client.get(entry_path).content.decode()
    assert f'data-share-url="{settings.SITE_URL}{entry_path}"' in html
    assert 'class="call-to-action"' in html
    assert "https://wa.me/?text=" in html and "mailto:?subject=" in html


def test_the_petition_menu_item_leads_straight_to_the_only_petition(
    client, campaign_content
):
    response = client.get("/petitions/")
    assert response.status_code == 302
    assert response["Location"] == "/petitions/justice-for-peru/"
    PetitionFactory()
    assert client.get("/petitions/").status_code == 200


def test_stale_wording_is_reworded_in_a_database_loaded_before(campaign_content):
    petition = Petition.objects.get(slug="justice-for-peru")
    assert "More than a year later" not in petition.body
    stale = (
        "More than a year later, no public official has been arrested for these abuses."
    )
    fresh = "By 2024, more than a year on, no public official had been arrested"
    petition.body = petition.body.replace(
        fresh, stale.removesuffix(" for these abuses.")
    )
    petition.save()
    event = TimelineEvent.objects.get(title_en="In 2024, still no official arrested")
    TimelineEvent.objects.filter(pk=event.pk).update(
        title_en="More than a year later, no official arrested"
    )
    call_command("load_campaign_content", verbosity=0)
    petition.refresh_from_db()
    assert stale not in petition.body and fresh in petition.body
    assert fresh in petition.body_html
    event.refresh_from_db()
    assert event.title_en == "In 2024, still no official arrested"


def test_rewording_leaves_text_staff_rewrote(campaign_content):
    Petition.objects.filter(slug="justice-for-peru").update(body_en="Our own words.")
    call_command("load_campaign_content", verbosity=0)
    assert Petition.objects.get(slug="justice-for-peru").body_en == "Our own words."


def test_last_updated_is_when_the_text_was_written_not_loaded(client, campaign_content):
    page = Page.objects.get(slug="privacy")
    assert timezone.localdate(page.updated_at) == datetime.date(2026, 12, 3)
    assert "3 December 2026" in client.get("/privacy/").content.decode()
    page.body = "Edited by staff."
    page.save()
    call_command("load_campaign_content", verbosity=0)
    page.refresh_from_db()
    assert timezone.localdate(page.updated_at) == timezone.localdate()


def test_petition_page_twitter_title_is_the_petition(client, campaign_content):
    petition = Petition.objects.get(slug="justice-for-peru")
    html = client.get("/petitions/justice-for-peru/").content.decode()
    assert f'<meta name="twitter:title" content="{petition.title}">' in html
    assert 'href="/petitions/justice-for-peru/countries/"' in html


def test_icons_and_manifest(client, campaign_content):
    html = client.get("/what-happened/").content.decode()
    assert 'rel="apple-touch-icon"' in html and 'type="image/png"' in html
    assert 'rel="manifest" href="/manifest.webmanifest"' in html
    manifest = client.get("/manifest.webmanifest")
    assert manifest["Content-Type"] == "application/manifest+json"
    assert {icon["sizes"] for icon in manifest.json()["icons"]} == {
        "192x192",
        "512x512",
    }
    assert 'media="print"' in html


def test_spanish_months_are_lower_case_after_a_title(client, campaign_content):
    html = client.get("/es/").content.decode()
    assert "julio de 2024</time>" in html and "Julio de 2024</time>" not in html


def test_the_privacy_notice_describes_the_rights_page_in_both_languages(
    client, campaign_content
):
    english = client.get("/privacy/").content.decode()
    assert "Your rights over your data" in english
    assert 'href="/your-data/"' in english
    assert "leave my name out" in english
    spanish = client.get("/es/privacy/").content.decode()
    assert "Tus derechos sobre tus datos" in spanish
    assert 'href="/es/your-data/"' in spanish
