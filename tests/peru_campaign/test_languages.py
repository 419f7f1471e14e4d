"""The site in English (unprefixed URLs) and Spanish (/es/...)."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command

from newsletters.models import Entry
from pages.models import Page
from petitions.models import Petition, Signature
from petitions.outbox import signature_emails_send

pytestmark = pytest.mark.django_db
ENTRY_PATH = "news/2024/07/icc-asked-to-examine-protest-killings/"


@pytest.fixture(autouse=True)
def _content(campaign_content, settings):
    settings.SITE_URL = "https://campaign.example"


def html_of(client, path, **headers):
    response = client.get(path, headers=headers)
    assert response.status_code == 200, path
    return response.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "",
        "what-happened/",
        # "petitions/" leads straight to the only petition (a redirect).
        "petitions/justice-for-peru/countries/",
        "about/",
        "petitions/justice-for-peru/",
        "petitions/justice-for-peru/check-your-inbox/",
        "news/",
        ENTRY_PATH,
        "reports/",
        "reports/amnesty-international-peru-2023/",
        "privacy/",
        "accessibility/",
    ],
)
def test_every_public_page_exists_in_spanish_and_links_its_english_twin(client, path):
    html = html_of(client, f"/es/{path}")
    assert '<html lang="es">' in html
    # The switcher keeps the visitor on the same page.
    assert f'<a href="/{path}" hreflang="en" lang="en">English</a>' in html
    assert '<span aria-current="true" lang="es">Español</span>' in html
    for code, url in [
        ("en", f"/{path}"),
        ("es", f"/es/{path}"),
        ("x-default", f"/{path}"),
    ]:
        assert (
            f'<link rel="alternate" hreflang="{code}" '
            f'href="https://campaign.example{url}">' in html
        )
    english = html_of(client, f"/{path}")
    assert '<html lang="en">' in english
    assert f'<a href="/es/{path}" hreflang="es" lang="es">Español</a>' in english


def test_spanish_pages_show_spanish_interface_and_content(client):
    html = html_of(client, "/es/petitions/justice-for-peru/")
    assert "Firma la petición" in html and "Sign the petition" not in html
    assert (
        "<h1>Verdad, justicia y reparación para las víctimas de la represión en Perú</h1>"
        in html
    )
    assert "Part of this text" not in html and "translation-missing" not in html
    news = html_of(client, "/es/news/")
    entry = Entry.objects.get(slug="icc-asked-to-examine-protest-killings")
    assert entry.title_es and entry.title_es in news
    assert entry.title_en not in news


def test_the_url_alone_decides_the_language(client):
    """A Spanish-speaking browser at an English address gets English: an
    address shared by a supporter shows the same page to everyone."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    response = client.get(
        "/petitions/justice-for-peru/", headers={"accept_language": "es"}
    )
    html = response.content.decode()
    assert '<html lang="en">' in html and "Sign the petition" in html
    assert response["Content-Language"] == "en"
    spanish = client.get("/es/petitions/justice-for-peru/")
    assert '<html lang="es">' in spanish.content.decode()
    assert spanish["Content-Language"] == "es"


def test_a_missing_translation_shows_english_marked_as_such(client):
    page = Page.objects.get(slug="what-happened")
    page.body_es = ""
    page.save()
    html = html_of(client, "/es/what-happened/")
    assert page.title_es in html  # the translated heading stays Spanish
    assert re.search(r'<div lang="en"><p>From December 2022', html)
    assert (
        "Parte de este texto aún no está disponible en este idioma, "
        "por eso se muestra en inglés." in html
    )
    assert "translation-missing" not in html_of(client, "/what-happened/")


def test_an_untranslated_news_entry_is_badged_in_the_spanish_list(client):
    entry = Entry.objects.get(slug="icc-asked-to-examine-protest-killings")
    entry.title_es = entry.summary_es = entry.body_es = ""
    entry.save()
    html = html_of(client, "/es/news/")
    assert re.search(
        rf'<a href="/es/{ENTRY_PATH}" lang="en">{re.escape(entry.title_en)}</a>'
        r' <span class="translation-missing-badge">en inglés</span>',
        html,
    )


def test_signing_in_spanish_sends_the_email_in_spanish_with_spanish_links(client):
    petition = Petition.objects.get(slug="justice-for-peru")
    response = client.post(
        "/es/petitions/justice-for-peru/sign/",
        {
            "full_name": "Rosa Mamani",
            "email": "rosa@example.org",
            "country": "PE",
            "consent": "on",
        },
    )
    assert response.status_code == 303
    assert response["Location"] == "/es/petitions/justice-for-peru/check-your-inbox/"
    signature = Signature.objects.get()
    assert signature.consent_language == "es"

    signature_emails_send()
    message = mail.outbox[0]
    assert message.subject == f"Confirma tu firma: {petition.title_es}"
    assert "Hola, Rosa:" in message.body
    link = re.search(
        r"https://campaign\.example/es/petitions/confirm/\?t=\S+", message.body
    )
    assert link, message.body
    html_body = message.alternatives[0][0]
    assert 'lang="es"' in html_body and "/es/petitions/confirm/" in html_body

    confirm_path = link.group(0).removeprefix("https://campaign.example")
    page = html_of(client, confirm_path)
    assert "Confirmar mi firma" in page
    token = re.search(r'name="t" value="([^"]+)"', page).group(1)
    thanks = client.post("/es/petitions/confirm/", {"t": token}, follow=True)
    assert thanks.redirect_chain[-1][0].startswith("/es/petitions/justice-for-peru/")
    signature.refresh_from_db()
    assert signature.confirmed_at is not None


def test_signing_in_english_keeps_the_email_in_english(client):
    client.post(
        "/petitions/justice-for-peru/sign/",
        {
            "full_name": "Ann Smith",
            "email": "ann@example.org",
            "country": "GB",
            "consent": "on",
        },
    )
    Signature.objects.get()  # one row, its e-mail due
    signature_emails_send()
    assert mail.outbox[0].subject.startswith("Please confirm your signature")
    assert "https://campaign.example/petitions/confirm/?t=" in mail.outbox[0].body


def test_errors_are_explained_in_spanish(client):
    response = client.post("/es/petitions/justice-for-peru/sign/", {"email": "x"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Escribe tu nombre completo." in html
    assert "Elige tu país de la lista." in html
    assert "Perú" in html  # country names come in Spanish too
    assert not Signature.objects.exists()


def test_the_spanish_feed_is_in_spanish(client):
    response = client.get("/es/news/feed/")
    xml = response.content.decode()
    assert response.status_code == 200
    assert "<language>es</language>" in xml
    entry = Entry.objects.get(slug="icc-asked-to-examine-protest-killings")
    assert entry.title_es in xml
    assert (
        f"https://campaign.example/es/{ENTRY_PATH}" in xml or f"/es/{ENTRY_PATH}" in xml
    )


def test_the_sitemap_lists_both_languages_with_alternates(client):
    xml = client.get("/sitemap.xml").content.decode()
    assert f"/es/{ENTRY_PATH}</loc>" in xml
    assert re.search(
        rf'<xhtml:link rel="alternate" hreflang="es" href="[^"]+/es/{ENTRY_PATH}"/>',
        xml,
    )
    assert 'hreflang="x-default"' in xml


def test_loading_content_fills_missing_translations_but_keeps_staff_edits():
    """A site that existed before Spanish gets it on the next load, children
    included; what editors wrote stays."""
    import tomllib

    from newsletters.models import EntrySource
    from reports.models import ReportConcern

    files = Path(settings.BASE_DIR) / "content"
    privacy = tomllib.loads((files / "pages/privacy.toml").read_text())
    Page.objects.filter(slug="privacy").update(title_es="", body_es=None)
    event = Page.objects.get(slug="what-happened").events.order_by("date").first()
    type(event).objects.filter(pk=event.pk).update(title_es=None, body_es="")
    EntrySource.objects.update(title_es=None)
    ReportConcern.objects.update(text_es="")
    Petition.objects.update(title_es="Título de la editora")

    call_command("load_campaign_content", verbosity=0, stdout=open("/dev/null", "w"))

    page = Page.objects.get(slug="privacy")
    assert page.title_es == privacy["title_es"]
    assert page.body_es == privacy["body_es"].strip()
    event.refresh_from_db()
    assert event.title_es and event.body_es and event.title_es != event.title_en
    assert not EntrySource.objects.filter(title_es__isnull=True).exists()
    assert not ReportConcern.objects.filter(text_es="").exists()
    assert Petition.objects.get().title_es == "Título de la editora"


def _msgfmt_statistics(po_file: Path) -> str:
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(po_file)],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stderr


@pytest.mark.skipif(not shutil.which("msgfmt"), reason="needs gettext (.ci/run)")
def test_every_string_in_the_code_has_a_spanish_translation(tmp_path):
    """Extracts the strings afresh, as `makemessages` would, from a copy of the
    code, and checks that the committed catalogue translates all of them and
    that the committed .mo is compiled from it."""
    base = Path(settings.BASE_DIR)
    copy = tmp_path / "site"
    shutil.copytree(
        base,
        copy,
        ignore=shutil.ignore_patterns(
            ".venv",
            ".pgdata",
            "staticfiles",
            "bench-results",
            "screenshots",
            ".git",
            "node_modules",
            "__pycache__",
            "tests",
            # make run's sockets, logs and cache, while the site is running.
            "var",
        ),
    )
    subprocess.run(
        [
            str(base / ".venv/bin/python"),
            "manage.py",
            "makemessages",
            "--locale=es",
            "--no-obsolete",
            "--ignore=scripts",
            "--verbosity=0",
        ],
        cwd=copy,
        check=True,
    )
    po_file = copy / "locale/es/LC_MESSAGES/django.po"
    statistics = _msgfmt_statistics(po_file)
    assert "untranslated" not in statistics and "fuzzy" not in statistics, statistics

    committed_po = base / "locale/es/LC_MESSAGES/django.po"
    compiled = subprocess.run(
        ["msgfmt", "-o", "-", str(committed_po)], capture_output=True, check=True
    ).stdout
    assert compiled == (committed_po.with_suffix(".mo")).read_bytes(), (
        "Run msgfmt (or `manage.py compilemessages`) after editing the catalogue."
    )


def test_the_switcher_on_the_form_shown_again_leads_to_the_petition_page(client):
    response = client.post("/es/petitions/justice-for-peru/sign/", {"email": "x"})
    html = response.content.decode()
    assert '<a href="/petitions/justice-for-peru/" hreflang="en"' in html
    assert (
        '<link rel="canonical" href="https://campaign.example/es/petitions/justice-for-peru/">'
        in html
    )


def test_the_switcher_keeps_the_query_string_but_cached_pages_never_do(client):
    html = html_of(client, "/news/?page=1")
    assert '<a href="/es/news/?page=1" hreflang="es"' in html
    first = html_of(client, "/es/petitions/justice-for-peru/?t=private-token")
    assert "private-token" not in first
    assert "private-token" not in html_of(client, "/es/petitions/justice-for-peru/")


def test_editors_see_and_edit_both_languages_in_the_admin(admin_client):
    entry = Entry.objects.get(slug="icc-asked-to-examine-protest-killings")
    html = admin_client.get(
        f"/admin/newsletters/entry/{entry.pk}/change/"
    ).content.decode()
    for field in ("title", "summary", "body"):
        assert f'name="{field}_en"' in html and f'name="{field}_es"' in html
    assert 'name="sources-0-title_es"' in html


SPANISH_PAGES = [
    "/es/",
    "/es/what-happened/",
    "/es/petitions/justice-for-peru/countries/",
    "/es/about/",
    "/es/petitions/justice-for-peru/",
    "/es/petitions/justice-for-peru/check-your-inbox/",
    "/es/news/",
    f"/es/{ENTRY_PATH}",
    "/es/reports/",
    "/es/reports/amnesty-international-peru-2023/",
    "/es/privacy/",
    "/es/accessibility/",
]


def test_no_english_interface_string_is_left_on_a_spanish_page(client):
    """Every English string of the catalogue that a Spanish page still shows
    was evaluated before the language was chosen (or never translated)."""
    import gettext
    import html as html_module

    mo_file = Path(settings.BASE_DIR) / "locale/es/LC_MESSAGES/django.mo"
    with mo_file.open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)._catalog
    english = {
        msgid
        for msgid, msgstr in catalogue.items()
        if isinstance(msgid, str)
        and len(msgid) >= 12
        and msgid != msgstr
        and "%" not in msgid
        and "{" not in msgid
        and "\n" not in msgid
    }
    for path in SPANISH_PAGES:
        text = html_module.unescape(html_of(client, path))
        left = sorted(msgid for msgid in english if msgid in text)
        assert left == [], path
    form = client.post("/es/petitions/justice-for-peru/sign/", {"email": "x"})
    text = html_module.unescape(form.content.decode())
    assert sorted(msgid for msgid in english if msgid in text) == []
    assert "Elige tu país" in text and "Lee cómo protegemos tus datos" in text


@pytest.mark.parametrize("template", ["500.html", "503.html"])
def test_error_pages_are_labelled_with_the_language_they_are_in(template):
    from django.template.loader import render_to_string
    from django.utils import translation

    with translation.override("es"):
        html = render_to_string(template)
    assert '<html lang="es">' in html
    with translation.override("en"):
        assert '<html lang="en">' in render_to_string(template)


def test_on_a_missing_page_the_switcher_leads_to_the_other_home_page(client):
    # A missing campaign page (/<slug>/) has its twin address in the other
    # language; an address no route knows has none, so the home page it is.
    html = client.get("/es/no-such-page/").content.decode()
    assert '<a href="/no-such-page/" hreflang="en" lang="en">English</a>' in html
    response = client.get("/es/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert '<a href="/" hreflang="en" lang="en">English</a>' in html
    html = client.get("/no/such/page/").content.decode()
    assert '<a href="/es/" hreflang="es" lang="es">Español</a>' in html


def test_link_previews_show_a_card_in_the_page_language(client):
    spanish = html_of(client, "/es/petitions/justice-for-peru/")
    assert 'content="https://campaign.example/static/img/share-card-es.png"' in spanish
    assert '<meta property="og:locale" content="es_PE">' in spanish
    english = html_of(client, "/petitions/justice-for-peru/")
    assert 'content="https://campaign.example/static/img/share-card.png"' in english


def test_robots_keep_token_pages_out_of_search_in_both_languages(client):
    robots = client.get("/robots.txt").content.decode()
    for prefix in ["", "/es"]:
        for path in ["petitions/confirm/", "petitions/withdraw/", "news/preview/"]:
            assert f"Disallow: {prefix}/{path}\n" in robots
