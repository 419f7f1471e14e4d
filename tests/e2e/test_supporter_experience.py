"""Issue 13 in a browser: what a supporter sees first on a phone, the live
count, the consent checkbox's contrast, sharing, and absolute links that use
the configured site address — in English and Spanish, at 390 and 1280 px.

Screenshots go to screenshots/ux-*.png (git-ignored) for people to look at.
"""

import re
import uuid
from pathlib import Path
from urllib.parse import unquote

import pytest
from django.core import mail
from django.test import override_settings
from playwright.sync_api import expect

from petitions import tokens
from tests.e2e.steps import (
    DESKTOP,
    PETITION_SLUG,
    PHONE,
    add_confirmed_signatures,
    confirmation_email,
    fill_sign_form,
    petition_url,
    submit_sign_form,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
LANGUAGES = [("en", ""), ("es", "/es")]
VIEWPORTS = [PHONE, DESKTOP]


@pytest.fixture(autouse=True)
def _fresh_page_shells(settings):
    # Petition pages are cached as rendered shells keyed by the release; a
    # new release per test means no shell from another test (with another
    # SITE_URL) is served.
    settings.RELEASE = uuid.uuid4().hex[:12]


def first_screen_bottom(page):
    return page.evaluate("window.innerHeight")


def box_top_and_bottom(page, selector):
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not displayed"
    return box["y"], box["y"] + box["height"]


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["390", "1280"])
@pytest.mark.parametrize("language,prefix", LANGUAGES)
def test_count_and_form_are_in_the_first_screen_of_the_petition_page(
    site, page, language, prefix, viewport
):
    page.set_viewport_size(viewport)
    page.goto(petition_url(site, prefix))
    height = first_screen_bottom(page)
    _top, count_bottom = box_top_and_bottom(page, ".count-number")
    _top, progress_bottom = box_top_and_bottom(page, "progress.signature-progress")
    form_top, _bottom = box_top_and_bottom(page, "#id_full_name")
    assert count_bottom <= height and progress_bottom <= height
    assert form_top + 40 <= height, "the first field is not in the first screen"
    # The ask is there too: the title, above the count.
    title_top, _bottom = box_top_and_bottom(page, "h1")
    assert title_top < count_bottom
    # The long text comes after the form on a phone, not before it.
    if viewport is PHONE:
        lead_top, _bottom = box_top_and_bottom(page, ".petition-text .lead")
        assert lead_top > form_top


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["390", "1280"])
@pytest.mark.parametrize("language,prefix", LANGUAGES)
def test_count_and_sign_button_are_in_the_first_screen_of_the_home_page(
    site, page, language, prefix, viewport
):
    page.set_viewport_size(viewport)
    page.goto(f"{site}{prefix}/")
    height = first_screen_bottom(page)
    _top, count_bottom = box_top_and_bottom(page, ".count-number")
    _top, button_bottom = box_top_and_bottom(page, ".hero .btn-sign")
    assert count_bottom <= height and button_bottom <= height
    if viewport is PHONE:
        form_top, _bottom = box_top_and_bottom(page, "#id_full_name")
        assert form_top < height


@pytest.mark.parametrize("language,prefix", LANGUAGES)
def test_every_absolute_link_uses_the_configured_site_address(
    site, page, settings, language, prefix
):
    # A public address unlike the live server's, as behind a proxy on PORT.
    public = "https://campaign.example:8443"
    settings.SITE_URL = public
    pages = [
        f"{site}{prefix}/",
        petition_url(site, prefix),
        f"{site}{prefix}/what-happened/",
        f"{site}{prefix}/petitions/{PETITION_SLUG}/check-your-inbox/",
    ]
    (signature,) = add_confirmed_signatures(1)
    thanks = tokens.make_token(signature.pk, "thanks")
    pages.append(f"{petition_url(site, prefix)}thanks/?t={thanks}")
    for address in pages:
        page.goto(address)
        path = address.removeprefix(site).split("?")[0]
        canonical = page.locator('link[rel="canonical"]').get_attribute("href")
        og_url = page.locator('meta[property="og:url"]').get_attribute("content")
        assert canonical == public + path, address
        assert og_url == public + path, address
        for link in page.locator('link[rel="alternate"][hreflang]').all():
            assert link.get_attribute("href").startswith(public + "/"), address
        assert (
            page.locator('meta[property="og:image"]')
            .get_attribute("content")
            .startswith(public + "/static/")
        )
        shares = page.locator("[data-share-url]")
        for box in shares.all():
            assert box.get_attribute("data-share-url").startswith(public + "/")
            for link in box.locator(".share-links a").all():
                href = unquote(link.get_attribute("href"))
                assert public + "/" in href, href
        html = page.content()
        # Nothing of ours is addressed any other way.
        assert "127.0.0.1:8000" not in html and site not in html, address

    mail.outbox.clear()
    page.goto(petition_url(site, prefix))
    fill_sign_form(page, email="links@example.org")
    submit_sign_form(page)
    page.wait_for_url(f"**{prefix}/petitions/{PETITION_SLUG}/check-your-inbox/")
    message = confirmation_email("links@example.org")
    html = message.alternatives[0][0]
    for text in [message.body, html]:
        links = re.findall(r"https?://[^\s\"<>]+", text)
        for purpose in ["confirm", "withdraw"]:
            assert any(
                link.startswith(f"{public}{prefix}/petitions/{purpose}/?t=")
                for link in links
            ), (purpose, links)
        assert not [link for link in links if "127.0.0.1" in link or site in link]
    assert message.extra_headers["List-Unsubscribe"].startswith(f"<{public}/")


def contrast(first, second):
    def luminance(rgb):
        channels = []
        for value in rgb[:3]:
            c = value / 255
            channels.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
        red, green, blue = channels
        return 0.2126 * red + 0.7152 * green + 0.0722 * blue

    light, dark = sorted([luminance(first), luminance(second)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


def rgb(css):
    values = [float(v) for v in re.findall(r"[\d.]+", css)]
    assert len(values) == 3 or values[3] == 1, f"translucent colour {css}"
    return values[:3]


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["390", "1280"])
@pytest.mark.parametrize("language,prefix", LANGUAGES)
def test_consent_checkbox_is_big_and_has_three_to_one_contrast(
    site, page, language, prefix, viewport
):
    page.set_viewport_size(viewport)
    page.goto(petition_url(site, prefix))
    consent = page.locator("#id_consent")
    box = consent.bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24, box
    colours = consent.evaluate(
        """element => {
          const style = getComputedStyle(element);
          // The colour the checkbox sits on: the first ancestor with one.
          let node = element.parentElement, behind = "rgba(0, 0, 0, 0)";
          while (node && /rgba\\(0, 0, 0, 0\\)|transparent/.test(behind)) {
            behind = getComputedStyle(node).backgroundColor;
            node = node.parentElement;
          }
          if (/rgba\\(0, 0, 0, 0\\)|transparent/.test(behind)) behind = "rgb(255, 255, 255)";
          return {border: style.borderTopColor, width: style.borderTopWidth,
                  fill: style.backgroundColor, behind: behind};
        }"""
    )
    assert float(colours["width"].removesuffix("px")) >= 1
    assert contrast(rgb(colours["border"]), rgb(colours["behind"])) >= 3, colours
    # Ticked, the box is filled: the fill must stand out as well.
    consent.check()
    ticked = consent.evaluate("element => getComputedStyle(element).backgroundColor")
    assert contrast(rgb(ticked), rgb(colours["behind"])) >= 3, ticked


@pytest.mark.parametrize("language,prefix", LANGUAGES)
def test_the_count_moves_while_the_page_is_open(
    site, page, csp_violations, language, prefix
):
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.clock.install()
    page.goto(petition_url(site, prefix))
    expect(page.locator(".count-number")).to_have_text("0")
    add_confirmed_signatures(3)

    # A hidden tab does not ask.
    page.evaluate(
        """() => {
          Object.defineProperty(document, "hidden", {value: true, configurable: true});
          document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )
    page.clock.run_for(60_000)
    assert not [url for url in requests if url.endswith(".json")]
    expect(page.locator(".count-number")).to_have_text("0")

    page.evaluate(
        """() => {
          Object.defineProperty(document, "hidden", {value: false, configurable: true});
          document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )
    expect(page.locator(".count-number")).to_have_text("3")
    add_confirmed_signatures(2)
    page.clock.run_for(30_000)
    expect(page.locator(".count-number")).to_have_text("5")
    expect(page.locator("progress.signature-progress")).to_have_attribute("value", "5")
    expect(page.locator(".signature-count")).to_have_text(
        re.compile(r"^5\s+(signatures|firmas)$")
    )
    json_requests = [url for url in requests if url.endswith(".json")]
    assert json_requests
    assert all(
        url.startswith(site) and url.endswith(f"/petitions/{PETITION_SLUG}.json")
        for url in json_requests
    )
    # Only our own origin, ever.
    assert all(url.startswith(site) for url in requests), requests
    assert csp_violations == []


def test_without_script_the_count_is_still_shown_and_nothing_is_polled(site, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    add_confirmed_signatures(2)
    page.goto(petition_url(site))
    expect(page.locator(".count-number")).to_have_text("2")
    page.wait_for_timeout(500)
    assert not [url for url in requests if url.endswith(".json")]
    # The share links work without script; the buttons that need it stay hidden.
    (signature,) = add_confirmed_signatures(1)
    page.goto(
        f"{petition_url(site)}thanks/?t={tokens.make_token(signature.pk, 'thanks')}"
    )
    expect(page.locator(".share-links a").first).to_be_visible()
    expect(page.locator(".share-copy")).to_be_hidden()
    expect(page.locator(".share-native")).to_be_hidden()
    context.close()


@pytest.mark.parametrize("language,prefix", LANGUAGES)
def test_copy_link_puts_the_petition_address_on_the_clipboard(
    site, browser, settings, language, prefix
):
    context = browser.new_context(
        permissions=["clipboard-read", "clipboard-write"], base_url=site
    )
    page = context.new_page()
    page.goto(f"{site}{prefix}/petitions/{PETITION_SLUG}/check-your-inbox/")
    page.locator(".share-copy").click()
    expect(page.locator(".share-status")).not_to_be_empty()
    copied = page.evaluate(
        "() => window.getSelection().toString() || navigator.clipboard.readText()"
    )
    assert copied == f"{settings.SITE_URL}{prefix}/petitions/{PETITION_SLUG}/"
    context.close()


def test_where_supporters_are_is_linked_from_the_petition_page(site, page):
    add_confirmed_signatures(3, country="GB")
    add_confirmed_signatures(1, country="IS")
    page.goto(petition_url(site))
    page.locator(f'a[href="/petitions/{PETITION_SLUG}/countries/"]').click()
    table = page.locator("table.country-table")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table).to_contain_text("United Kingdom")
    expect(table).not_to_contain_text("Iceland")


@override_settings(CAMPAIGN_ORGANISATION="Peru Solidarity Network")
def test_the_404_page_footer_sits_at_the_bottom_and_leads_to_the_petition(site, page):
    for viewport in VIEWPORTS:
        page.set_viewport_size(viewport)
        response = page.goto(f"{site}/no-such-page/")
        assert response.status == 404
        footer = page.locator(".site-footer").bounding_box()
        assert footer["y"] + footer["height"] >= viewport["height"] - 1
        expect(page.locator(".call-to-action a.btn-sign")).to_be_visible()
        expect(page.locator(".site-footer")).to_contain_text("Peru Solidarity Network")


def test_printing_leaves_out_the_menu_form_and_footer(site, page):
    page.emulate_media(media="print")
    page.goto(petition_url(site))
    for selector in [".site-nav", ".sign-form", ".site-footer"]:
        expect(page.locator(selector)).to_be_hidden()
    expect(page.locator("h1")).to_be_visible()


def test_icons_are_pngs_and_the_favicon_is_not_svg(site, page):
    response = page.goto(f"{site}/favicon.ico")
    assert response.headers["content-type"] in {
        "image/x-icon",
        "image/vnd.microsoft.icon",
    }
    page.goto(f"{site}/")
    touch = page.locator('link[rel="apple-touch-icon"]').get_attribute("href")
    assert page.request.get(site + touch).headers["content-type"] == "image/png"


@pytest.mark.parametrize("language,prefix", LANGUAGES)
def test_screenshots_of_the_supporter_pages(site, page, language, prefix):
    (signature,) = add_confirmed_signatures(1)
    thanks = tokens.make_token(signature.pk, "thanks")
    pages = {
        "petition": petition_url(site, prefix),
        "home": f"{site}{prefix}/",
        "thanks": f"{petition_url(site, prefix)}thanks/?t={thanks}",
        "check-inbox": f"{petition_url(site, prefix)}check-your-inbox/",
        "countries": f"{petition_url(site, prefix)}countries/",
        "about": f"{site}{prefix}/about/",
        "what-happened": f"{site}{prefix}/what-happened/",
        "news": f"{site}{prefix}/news/",
        "not-found": f"{site}{prefix}/no-such-page/",
    }
    SCREENSHOTS.mkdir(exist_ok=True)
    for viewport in VIEWPORTS:
        page.set_viewport_size(viewport)
        for name, address in pages.items():
            page.goto(address)
            path = SCREENSHOTS / f"ux-{language}-{name}-{viewport['width']}.png"
            page.screenshot(path=path, full_page=name != "petition")
            # Nothing makes the page scroll sideways.
            assert page.evaluate(
                "document.documentElement.scrollWidth <= window.innerWidth"
            ), (name, viewport)
