"""Full-page screenshots of the main pages, on a phone and a desktop, for people to look at.

They are written to screenshots/ at the repository root (git-ignored), named
<page>-<width>.png in English and es-<page>-<width>.png in Spanish, and
replaced on every run.
"""

import struct
from pathlib import Path

import pytest
from django.utils import translation
from playwright.sync_api import expect

from petitions import tokens
from tests.e2e.steps import (
    DESKTOP,
    PHONE,
    add_confirmed_signatures,
    petition_url,
    submit_sign_form,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_width(path):
    # The IHDR chunk follows the signature: length, type, then width.
    return struct.unpack(">I", path.read_bytes()[16:20])[0]


@pytest.mark.parametrize("language", ["en", "es"])
def test_screenshots_of_the_main_pages_on_a_phone_and_a_desktop(site, page, language):
    prefix = "" if language == "en" else f"/{language}"
    (signature,) = add_confirmed_signatures(1)
    thanks_token = tokens.make_token(signature.pk, "thanks")
    with translation.override(language):
        supporter_one = translation.gettext(
            "You are supporter number %(position)s."
        ) % {"position": 1}

    def show_home():
        page.goto(f"{site}{prefix}/")

    def show_petition_with_errors():
        page.goto(petition_url(site, prefix))
        submit_sign_form(page)
        expect(page.locator(".error-summary")).to_be_focused()

    def show_thanks():
        page.goto(f"{petition_url(site, prefix)}thanks/?t={thanks_token}")
        expect(page.get_by_text(supporter_one)).to_be_visible()

    def show_news():
        page.goto(f"{site}{prefix}/news/")

    pages = {
        "home": show_home,
        "petition-with-errors": show_petition_with_errors,
        "thanks": show_thanks,
        "news": show_news,
    }
    SCREENSHOTS.mkdir(exist_ok=True)
    for viewport in [PHONE, DESKTOP]:
        page.set_viewport_size(viewport)
        for name, show in pages.items():
            file_name = f"{name}-{viewport['width']}.png"
            path = SCREENSHOTS / (
                file_name if not prefix else f"{language}-{file_name}"
            )
            path.unlink(missing_ok=True)
            show()
            page.screenshot(path=path, full_page=True)
            assert path.read_bytes().startswith(PNG_SIGNATURE), path
            # As wide as the screen: nothing makes the page scroll sideways.
            assert png_width(path) == viewport["width"], path
