import datetime

import pytest
from django.core.management import call_command

from newsletters.models import Entry, EntrySource

pytestmark = pytest.mark.django_db


def test_loader_creates_the_three_2024_entries_published(campaign_content):
    entries = Entry.objects.published().order_by("month")
    assert [e.month for e in entries] == [
        datetime.date(2024, 2, 1),
        datetime.date(2024, 6, 1),
        datetime.date(2024, 7, 1),
    ]


@pytest.mark.parametrize(
    ("month", "facts", "source"),
    [
        (2, ["Special Rapporteur", "Forestry and Wildlife Law", "dispossession",
             "free, prior and informed consent", "voluntary isolation"],
         ("OHCHR", "https://www.ohchr.org/en/special-procedures/sr-indigenous-peoples")),
        (6, ["10 May", "presidential decree", "mental health conditions",
             "Essential Health Insurance Plan", "Health Ministry", "marry",
             "civil union", "gender identity", "discrimination"],
         ("Human Rights Watch", "https://www.hrw.org/americas/peru")),
        (7, ["Amnesty International", "new report", "International Federation for Human Rights",
             "APRODEH", "International Criminal Court", "Dina Boluarte",
             "crimes against humanity", "49 people", "preliminary examination"],
         ("FIDH", "https://www.fidh.org/en/region/americas/peru/")),
    ],
)  # fmt: skip
def test_each_entry_keeps_its_facts_and_names_its_sources(
    client, campaign_content, month, facts, source
):
    entry = Entry.objects.get(month=datetime.date(2024, month, 1))
    html = client.get(entry.get_absolute_url()).content.decode()
    for fact in facts:
        assert fact in html, fact
    title, url = source
    assert any(title in s.title and s.url == url for s in entry.sources.all())
    assert f'href="{url}"' in html


def test_loaded_entries_are_on_the_news_page_feeds_and_home(client, campaign_content):
    titles = list(Entry.objects.values_list("title", flat=True))
    for path in ["/news/", "/news/feed/", "/news/feed/atom/", "/"]:
        body = client.get(path).content.decode()
        for title in titles:
            assert title in body, (path, title)


def test_loader_is_idempotent(campaign_content, capsys):
    before = list(Entry.objects.values_list("pk", "title", "body", "updated_at"))
    sources = list(EntrySource.objects.values_list("pk", "title", "url"))
    call_command("load_campaign_content")
    assert (
        list(Entry.objects.values_list("pk", "title", "body", "updated_at")) == before
    )
    assert list(EntrySource.objects.values_list("pk", "title", "url")) == sources
    assert "0 created" in capsys.readouterr().out


def test_loader_never_overwrites_editors_changes(campaign_content):
    entry = Entry.objects.get(month=datetime.date(2024, 6, 1))
    entry.body = "Rewritten by an editor."
    entry.is_published = False
    entry.save()
    entry.sources.all().delete()
    call_command("load_campaign_content", verbosity=0, stdout=open("/dev/null", "w"))
    entry.refresh_from_db()
    assert entry.body == "Rewritten by an editor."
    assert not entry.is_published
    assert not entry.sources.exists()
    assert Entry.objects.count() == 3
