"""A supporter signs in the widget, framed by a partner's page on another site."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from petitions.models import Signature
from tests.e2e.steps import PETITION_SLUG, confirmation_email, fill_sign_form

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def partner_site(site):
    """A partner's page that frames a path of ours, served by a second server.

    The live server answers on localhost; this one on 127.0.0.1, which is
    another origin and another site to the browser. A real server (rather
    than a faked response) keeps Chromium's local-network checks satisfied.
    """
    framed = {}

    class PartnerPage(BaseHTTPRequestHandler):
        def do_GET(self):
            body = (
                "<!doctype html><html lang='en'><title>Partner</title>"
                "<h1>Our partner page</h1>"
                f"<iframe src='{site}{framed['path']}' title='Sign' "
                "width='400' height='700'></iframe></html>"
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), PartnerPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def page_framing(path):
        framed["path"] = path
        return f"http://127.0.0.1:{server.server_port}/campaign.html"

    yield page_framing
    server.shutdown()
    server.server_close()


def test_the_framed_widget_signs_without_script_or_cookies(browser, partner_site):
    # Script off: the form must work on its own.
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(partner_site(f"/embed/petitions/{PETITION_SLUG}/?partner=partner-org"))
    frame = page.frame_locator("iframe")
    expect(frame.locator(".signature-count")).to_contain_text("signatures")
    fill_sign_form(frame, full_name="Ana Quispe", email="ana@example.org")
    frame.get_by_role("button", name="Sign the petition").click()
    expect(frame.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    # The partner's page is still there around the frame.
    expect(page.get_by_role("heading", level=1)).to_have_text("Our partner page")
    signature = Signature.objects.get()
    assert signature.source == "widget-partner-org"
    assert signature.status == "pending"
    assert confirmation_email("ana@example.org").to == ["ana@example.org"]
    assert context.cookies() == []
    context.close()


def test_other_pages_refuse_to_be_framed(page, partner_site):
    page.goto(partner_site(f"/petitions/{PETITION_SLUG}/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Our partner page")
    page.wait_for_load_state("load")
    petition_frame = page.frames[1]
    # Chromium swaps a refused frame for its own error page.
    assert petition_frame.url.startswith("chrome-error://"), petition_frame.url
    assert page.frame_locator("iframe").locator("#id_full_name").count() == 0


RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


@pytest.mark.parametrize("prefix", ["", "/es"])
def test_the_widget_passes_axe_empty_with_errors_and_sent(site, page, prefix):
    from axe_playwright_python.sync_playwright import Axe

    def violations():
        results = Axe().run(page, options={"runOnly": {"type": "tag", "values": RULES}})
        assert results.response["passes"], "axe did not run"
        return [
            (rule["id"], [node["target"] for node in rule["nodes"]])
            for rule in results.response["violations"]
        ]

    page.goto(f"{site}{prefix}/embed/petitions/{PETITION_SLUG}/")
    assert violations() == []
    page.locator(".btn-sign").click()
    expect(page.locator(".error-summary")).to_be_visible()
    assert violations() == []
    fill_sign_form(page, full_name="Ana Quispe", email="ana@example.org")
    page.locator(".btn-sign").click()
    expect(page.locator("h1")).to_have_count(1)
    assert "/sent/" in page.url
    assert violations() == []
