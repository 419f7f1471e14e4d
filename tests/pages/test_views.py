import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_home_page_states_the_facts_with_their_source(client, campaign_content):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1" in html and html.count("<h1") == 1
    assert "Stand with the Victims of Repression in Peru" in html
    assert "49" in html and "December 2022" in html and "February 2023" in html
    assert "seriously injured hundreds" in html
    assert "Amnesty International" in html
    assert "truth" in html and "justice" in html and "redress" in html


def test_what_happened_page_has_a_dated_sourced_timeline(client, campaign_content):
    response = client.get("/what-happened/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    for fact in [
        "tear gas",
        "rubber",
        "metal",
        "pellets",
        "Indigenous",
        "campesinos",
        "Attorney General",
        "not a single public official has been detained",
        "December 2022",
        "July 2024",
    ]:
        assert fact in html, fact
    assert len(re.findall(r'<time datetime="\d{4}-\d{2}">', html)) >= 5
    assert html.count('class="source"') >= 5


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/privacy/", ["How long we keep it", "Six months after a petition closes",
                       "withdraw your signature", "keyed hash"]),
        ("/accessibility/", ["WCAG", "keyboard", "320 pixels"]),
    ],
)  # fmt: skip
def test_privacy_and_accessibility_pages(client, campaign_content, path, expected):
    response = client.get(path)
    assert response.status_code == 200
    for text in expected:
        assert text in response.content.decode(), text


def test_unknown_page_is_a_friendly_404(client, campaign_content):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "We can’t find that page" in response.content.decode()


def test_base_layout_has_landmarks_skip_link_and_social_metadata(
    client, campaign_content
):
    html = client.get("/what-happened/").content.decode()
    assert '<html lang="en">' in html
    assert 'href="#main"' in html and '<main id="main"' in html
    for landmark in ("<header", "<nav", "<footer"):
        assert landmark in html
    for meta in ('property="og:title"', 'property="og:image"', 'name="twitter:card"'):
        assert meta in html
    assert 'rel="icon"' in html


def test_pages_load_nothing_from_other_origins_and_no_inline_script(
    client, campaign_content
):
    for path in ["/", "/what-happened/", "/privacy/", "/accessibility/"]:
        html = client.get(path).content.decode()
        assert not re.search(r'<(script|img|iframe|source)[^>]+src="(https?:)?//', html)
        assert not re.search(
            r'<link[^>]+rel="(stylesheet|icon|preload|modulepreload)"[^>]+href="(https?:)?//',
            html,
        )
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)


def test_robots_and_sitemap(client, campaign_content):
    robots = client.get("/robots.txt")
    assert robots.status_code == 200
    for private in ["/admin/", "/petitions/confirm/", "/news/preview/"]:
        assert f"Disallow: {private}" in robots.content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in robots.content.decode()
    sitemap = client.get("/sitemap.xml")
    assert sitemap.status_code == 200
    assert "/what-happened/" in sitemap.content.decode()


def test_favicon_redirects_to_an_ico_file_not_the_svg(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith("favicon.ico")
    icon = finders.find("img/favicon.ico")
    # An ICO directory (reserved 0, type 1) holding one PNG image.
    with open(icon, "rb") as file:
        data = file.read()
    assert data[:4] == b"\x00\x00\x01\x00"
    assert b"\x89PNG" in data


def test_page_reverse_uses_slug():
    assert reverse("pages:detail", kwargs={"slug": "privacy"}) == "/privacy/"


def test_server_error_page_is_friendly_and_standalone(client, settings):
    from django.urls import path

    def broken(request):
        raise RuntimeError("boom")

    settings.ROOT_URLCONF = type("urls", (), {"urlpatterns": [path("boom/", broken)]})
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
