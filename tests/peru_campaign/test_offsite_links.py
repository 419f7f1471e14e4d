"""The language links never point off the site (issue 22, item 7).

`GET //evil.example/` gave the switcher and the Spanish hint line
`href="//evil.example/es/"`: a link on the campaign's own page to another site.
"""

import re
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.django_db


def hrefs(response) -> list[str]:
    return re.findall(r'href="([^"]*)"', response.content.decode())


@pytest.mark.parametrize(
    "path",
    [
        "//evil.example/",
        "//evil.example/es/",
        "///evil.example/",
        "/\\evil.example/",
        "//evil.example/no-such-page/",
    ],
)
def test_a_path_with_a_host_in_it_gives_no_offsite_link(client, campaign_content, path):
    response = client.get("/", PATH_INFO=path)
    assert response.status_code in (200, 301, 302, 404)
    for href in hrefs(response):
        # An absolute address on the site's own host (the canonical link)
        # keeps the odd path, but it is still this site.
        assert urlsplit(href).netloc in ("", "127.0.0.1:8000"), href
        assert not href.startswith(("//", "/\\")), href


def test_a_normal_page_links_to_its_spanish_version(client, campaign_content):
    response = client.get("/")
    assert response.status_code == 200
    assert '/es/"' in response.content.decode()
    assert 'hreflang="es"' in response.content.decode()


def test_a_missing_page_offers_a_spanish_link_on_the_site(client, campaign_content):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert 'href="/es/' in response.content.decode()
