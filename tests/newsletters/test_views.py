import datetime
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from core.markdown import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, render_markdown

from .factories import (
    EntryFactory,
    EntrySourceFactory,
    StaffUserFactory,
    UserFactory,
    make_editor,
)

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


def _html(response):
    assert response.status_code == 200
    return response.content.decode()


def test_news_lists_published_entries_grouped_by_year_and_month_newest_first(client):
    EntryFactory(title="December story", month=datetime.date(2023, 12, 1))
    EntryFactory(title="February story", month=datetime.date(2024, 2, 1))
    EntryFactory(title="June story one", month=datetime.date(2024, 6, 1))
    EntryFactory(title="June story two", month=datetime.date(2024, 6, 1))
    html = _html(client.get("/news/"))
    assert html.count("<h1") == 1
    headings = re.findall(r"<h([23])[^>]*>.*?>([^<>]+)</(?:a|time)>", html)
    assert headings == [
        ("2", "2024"),
        ("3", "June 2024"),
        ("3", "February 2024"),
        ("2", "2023"),
        ("3", "December 2023"),
    ]
    positions = [
        html.index(t) for t in ("June story", "February story", "December story")
    ]
    assert positions == sorted(positions)
    assert 'href="/news/2024/06/"' in html and 'href="/news/2024/"' in html


def test_news_page_says_so_when_there_is_no_news(client):
    assert "There is no news yet" in _html(client.get("/news/"))


def test_entry_page_shows_body_summary_and_sources(client):
    entry = EntryFactory(
        title="UN expert warns on forestry law",
        slug="forestry-law",
        month=datetime.date(2024, 2, 1),
        body="The law was **never consulted** on.",
    )
    EntrySourceFactory(
        entry=entry,
        title="OHCHR",
        url="https://www.ohchr.org/en/special-procedures/sr-indigenous-peoples",
    )
    EntrySourceFactory(
        entry=entry, title="Human Rights Watch", url="https://www.hrw.org/americas/peru"
    )
    html = _html(client.get("/news/2024/02/forestry-law/"))
    assert html.count("<h1") == 1
    assert "<h1>UN expert warns on forestry law</h1>" in html
    assert "<strong>never consulted</strong>" in html
    assert html.index("OHCHR") < html.index("Human Rights Watch")
    assert (
        'href="https://www.ohchr.org/en/special-procedures/sr-indigenous-peoples"'
        in html
    )
    assert "February 2024" in html


def test_entry_is_found_only_under_the_month_it_covers(client):
    EntryFactory(slug="forestry-law", month=datetime.date(2024, 2, 1))
    assert client.get("/news/2024/03/forestry-law/").status_code == 404
    assert client.get("/news/2023/02/forestry-law/").status_code == 404
    # One address per entry: months have two digits.
    assert client.get("/news/2024/2/forestry-law/").status_code == 404


@pytest.mark.parametrize("trait", ["draft", "scheduled"])
def test_drafts_and_scheduled_entries_are_hidden_everywhere(client, trait):
    hidden = EntryFactory(
        title="Hidden entry title",
        slug="hidden",
        month=datetime.date(2024, 6, 1),
        **{trait: True},
    )
    EntryFactory(title="Visible entry title", month=datetime.date(2024, 6, 1))
    assert client.get(hidden.get_absolute_url()).status_code == 404
    for path in [
        "/news/",
        "/news/2024/",
        "/news/2024/06/",
        "/",
        "/news/feed/",
        "/news/feed/atom/",
        "/sitemap.xml",
    ]:
        body = client.get(path).content.decode()
        assert "Hidden entry title" not in body, path
        assert "/news/2024/06/hidden/" not in body, path
    assert "Visible entry title" in client.get("/news/").content.decode()


def test_scheduled_entry_appears_everywhere_when_its_time_comes(client, monkeypatch):
    entry = EntryFactory(
        title="Scheduled entry title",
        slug="scheduled",
        month=datetime.date(2024, 7, 1),
        pub_date=timezone.now() + datetime.timedelta(hours=3),
    )
    assert client.get(entry.get_absolute_url()).status_code == 404
    later = timezone.now() + datetime.timedelta(hours=4)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert client.get(entry.get_absolute_url()).status_code == 200
    for path in [
        "/news/",
        "/news/2024/",
        "/news/2024/07/",
        "/",
        "/news/feed/",
        "/news/feed/atom/",
    ]:
        assert "Scheduled entry title" in client.get(path).content.decode(), path
    assert "/news/2024/07/scheduled/" in client.get("/sitemap.xml").content.decode()


def test_year_archive_lists_that_year_by_month(client):
    EntryFactory(title="February story", month=datetime.date(2024, 2, 1))
    EntryFactory(title="July story", month=datetime.date(2024, 7, 1))
    EntryFactory(title="Older story", month=datetime.date(2023, 12, 1))
    html = _html(client.get("/news/2024/"))
    assert html.count("<h1") == 1 and "News from 2024" in html
    assert html.index("July 2024") < html.index("February 2024")
    assert "July story" in html and "February story" in html
    assert "Older story" not in html
    assert 'href="/news/2023/"' in html


def test_month_archive_lists_that_month_only(client):
    EntryFactory(title="June story", month=datetime.date(2024, 6, 1))
    EntryFactory(title="July story", month=datetime.date(2024, 7, 1))
    html = _html(client.get("/news/2024/06/"))
    assert "News for June 2024" in html
    assert "June story" in html and "July story" not in html
    assert 'href="/news/2024/07/"' in html


def test_archives_without_public_entries_are_404(client):
    EntryFactory(month=datetime.date(2024, 6, 1), draft=True)
    assert client.get("/news/2024/").status_code == 404
    assert client.get("/news/2024/06/").status_code == 404
    assert client.get("/news/2024/13/").status_code == 404


def test_home_page_shows_the_latest_three_entries(client):
    EntryFactory(title="Oldest story", month=datetime.date(2024, 1, 1))
    for month in (2, 6, 7):
        EntryFactory(
            title=f"Story for month {month}", month=datetime.date(2024, month, 1)
        )
    html = _html(client.get("/"))
    assert html.count("<h1") == 1
    assert "Latest news" in html
    for month in (2, 6, 7):
        assert f"Story for month {month}" in html
    assert "Oldest story" not in html
    assert html.index("Story for month 7") < html.index("Story for month 2")


def test_feeds_are_valid_xml_with_published_entries_newest_first(client):
    now = timezone.now()
    EntryFactory(title="Older", pub_date=now - datetime.timedelta(days=3))
    newer = EntryFactory(title="Newer", pub_date=now - datetime.timedelta(days=1))
    EntryFactory(title="Draft", draft=True)
    EntryFactory(title="Scheduled", scheduled=True)

    rss = client.get("/news/feed/")
    assert rss["Content-Type"].startswith("application/rss+xml")
    channel = ET.fromstring(rss.content).find("channel")
    assert [item.findtext("title") for item in channel.findall("item")] == [
        "Newer",
        "Older",
    ]
    assert (
        channel.find("item").findtext("link")
        == f"http://testserver{newer.get_absolute_url()}"
    )

    atom = client.get("/news/feed/atom/")
    assert atom["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(atom.content)
    assert root.tag == f"{ATOM}feed"
    assert [e.findtext(f"{ATOM}title") for e in root.findall(f"{ATOM}entry")] == [
        "Newer",
        "Older",
    ]


def test_every_page_announces_both_feeds(client):
    EntryFactory(slug="story", month=datetime.date(2024, 6, 1))
    for path in ["/", "/news/", "/news/2024/06/story/", "/no-such-page/"]:
        html = client.get(path).content.decode()
        assert (
            '<link rel="alternate" type="application/rss+xml"' in html
            and 'href="/news/feed/"' in html
        ), path
        assert (
            '<link rel="alternate" type="application/atom+xml"' in html
            and 'href="/news/feed/atom/"' in html
        ), path


def test_navigation_links_to_news_and_reports(client):
    html = client.get("/news/").content.decode()
    assert '<a href="/news/" aria-current="page">News</a>' in html
    assert '<a href="/reports/">Reports</a>' in html


# --- Staff preview ---------------------------------------------------------


def test_preview_sends_anonymous_visitors_to_the_admin_login(client):
    entry = EntryFactory(draft=True)
    response = client.get(f"/news/preview/{entry.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/news/preview/")


@pytest.mark.parametrize("user_factory", [UserFactory, StaffUserFactory])
def test_preview_is_refused_without_staff_and_change_permission(client, user_factory):
    entry = EntryFactory(draft=True, title="Secret draft")
    client.force_login(user_factory())
    response = client.get(f"/news/preview/{entry.pk}/")
    assert response.status_code == 403
    assert "Secret draft" not in response.content.decode()


def test_preview_is_refused_to_a_non_staff_user_even_with_the_permission(client):
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="change_entry"))
    client.force_login(user)
    assert (
        client.get(f"/news/preview/{EntryFactory(draft=True).pk}/").status_code == 403
    )


@pytest.mark.parametrize("trait", ["draft", "scheduled"])
def test_editor_previews_an_unpublished_entry_as_the_public_will_see_it(client, trait):
    entry = EntryFactory(
        title="Draft title",
        body="Draft **body**",
        slug="draft",
        month=datetime.date(2024, 6, 1),
        **{trait: True},
    )
    EntrySourceFactory(entry=entry, title="Human Rights Watch")
    client.force_login(make_editor())
    response = client.get(f"/news/preview/{entry.pk}/")
    html = _html(response)
    cache_control = response["Cache-Control"]
    for directive in ("no-cache", "no-store", "private"):
        assert directive in cache_control
    assert "<h1>Draft title</h1>" in html and "<strong>body</strong>" in html
    assert "Human Rights Watch" in html
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert "Preview for staff." in html
    assert response.templates[0].name == "newsletters/entry_detail.html"
    # The same entry, once public, renders through the same template.
    entry.is_published = True
    entry.pub_date = timezone.now() - datetime.timedelta(minutes=1)
    entry.save()
    public = client.get(entry.get_absolute_url())
    assert public.templates[0].name == "newsletters/entry_detail.html"
    assert "Preview for staff." not in public.content.decode()


def test_preview_of_a_missing_entry_is_404(client):
    client.force_login(make_editor())
    assert client.get("/news/preview/999999/").status_code == 404


# --- Sanitising ------------------------------------------------------------

HOSTILE = [
    "<script>alert('x')</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    '<img src="x" onerror="alert(1)">',
    '<p onclick="alert(1)">click me</p>',
    '<svg onload="alert(1)"><circle r="1"/></svg>',
    "[click me](javascript:alert(1))",
    '<a href="javascript:alert(1)">click me</a>',
    '<a href="JaVaScRiPt:alert(1)">click me</a>',
    '<a href="&#106;avascript:alert(1)">click me</a>',
    '<a href="  javascript:alert(1)">click me</a>',
    '<iframe src="https://evil.example/"></iframe>',
    "<style>body { display: none }</style>",
    "[data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    '<object data="https://evil.example/x.swf"></object>',
    '<form action="https://evil.example/"><input name="q"></form>',
    '<a href="https://example.org/" style="position:fixed">styled</a>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
]

FORBIDDEN = [
    re.compile(r"<\s*script", re.I),
    re.compile(r"<[^>]*\son\w+\s*=", re.I),
    re.compile(r"javascript:", re.I),
    re.compile(
        r"<\s*(iframe|style|object|embed|form|input|svg|meta\s+http-equiv)", re.I
    ),
    re.compile(r"(href|src)\s*=\s*[\"']?\s*data:", re.I),
    re.compile(r"\sstyle\s*=", re.I),
]


def _assert_safe(html):
    for pattern in FORBIDDEN:
        assert not pattern.search(html), (pattern.pattern, html)


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_markdown_and_html_in_the_body_is_neutralised(client, payload):
    entry = EntryFactory(
        slug="hostile",
        month=datetime.date(2024, 6, 1),
        body=f"Before.\n\n{payload}\n\nAfter **bold**.",
    )
    html = _html(client.get(entry.get_absolute_url()))
    article = html[html.index("<article") : html.index("</article>")]
    _assert_safe(article)
    assert "<strong>bold</strong>" in article


def test_hostile_title_summary_and_source_are_escaped(client):
    entry = EntryFactory(
        slug="hostile",
        month=datetime.date(2024, 6, 1),
        title="<script>alert(1)</script>",
        summary='<img src=x onerror="alert(1)">',
    )
    EntrySourceFactory(entry=entry, title="<b onmouseover=alert(1)>HRW</b>")
    html = _html(client.get(entry.get_absolute_url()))
    tags = _PageTags()
    tags.feed(html)
    assert "img" not in tags.names
    # The only scripts are the site's own, loaded from its files.
    own_script = re.compile(r'<script src="/static/js/[\w-]+\.js" defer></script>')
    assert own_script.sub("", html).count("<script") == 0
    assert not [name for name in tags.attributes if name.startswith("on")]
    assert "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>" in html
    for path in ["/news/", "/", "/news/feed/", "/news/feed/atom/"]:
        assert "<script>alert(1)</script>" not in client.get(path).content.decode(), (
            path
        )


def test_safe_markdown_keeps_its_formatting_and_links(client):
    entry = EntryFactory(
        slug="safe",
        month=datetime.date(2024, 6, 1),
        body="## Background\n\n- one\n- two\n\n[Human Rights Watch](https://www.hrw.org/americas/peru)",
    )
    html = _html(client.get(entry.get_absolute_url()))
    assert "<h2>Background</h2>" in html
    assert "<li>one</li>" in html
    assert (
        '<a href="https://www.hrw.org/americas/peru" rel="noopener noreferrer">Human Rights Watch</a>'
        in html
    )


class _PageTags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.names, self.attributes = set(), set()

    def handle_starttag(self, tag, attrs):
        self.names.add(tag)
        self.attributes.update(name for name, _ in attrs)


class _MarkupAudit(HTMLParser):
    """Collects every tag and attribute the browser would see."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            if name not in ALLOWED_ATTRIBUTES.get(tag, set()) | {"rel"}:
                self.problems.append(f"attribute {name} on <{tag}>")
            if name == "href" and urlsplit(
                (value or "").strip()
            ).scheme.lower() not in {"", "http", "https", "mailto"}:
                self.problems.append(f"link to {value!r}")

    handle_startendtag = handle_starttag


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(st.sampled_from(HOSTILE), st.text(max_size=20)),
        min_size=1,
        max_size=6,
    )
)
def test_no_mix_of_hostile_fragments_survives_rendering(fragments):
    audit = _MarkupAudit()
    audit.feed(render_markdown("".join(fragments)))
    audit.close()
    assert audit.problems == []
