import pytest
from django.core.management import call_command

from pages.models import Page, TimelineEvent

pytestmark = pytest.mark.django_db


def _load(capsys=None):
    call_command("load_campaign_content")


def test_loader_creates_the_campaign_pages(campaign_content):
    assert set(Page.objects.values_list("slug", flat=True)) >= {
        "what-happened",
        "privacy",
        "accessibility",
    }
    assert TimelineEvent.objects.filter(page__slug="what-happened").count() >= 5


def test_loader_is_idempotent(campaign_content, capsys):
    before = list(Page.objects.values_list("pk", "title", "body", "updated_at"))
    events_before = list(TimelineEvent.objects.values_list("pk", "title"))
    call_command("load_campaign_content")
    assert list(Page.objects.values_list("pk", "title", "body", "updated_at")) == before
    assert list(TimelineEvent.objects.values_list("pk", "title")) == events_before
    assert "0 created" in capsys.readouterr().out


def test_loader_never_overwrites_staff_edits(campaign_content):
    page = Page.objects.get(slug="privacy")
    page.body = "Edited by staff in the admin."
    page.save()
    TimelineEvent.objects.filter(page__slug="what-happened").first().delete()
    remaining = TimelineEvent.objects.count()
    call_command("load_campaign_content", verbosity=0)
    assert Page.objects.get(slug="privacy").body == "Edited by staff in the admin."
    assert TimelineEvent.objects.count() == remaining
