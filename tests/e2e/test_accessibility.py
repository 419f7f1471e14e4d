"""axe-core (bundled by axe-playwright-python, run inside Chromium) checks each
public page against WCAG 2.2 A/AA and axe's best practices, as the
accessibility statement promises."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
PAGES = [
    "/",
    "/what-happened/",
    "/petitions/justice-for-peru/",
    "/petitions/justice-for-peru/check-your-inbox/",
    "/news/",
    "/news/2024/07/icc-asked-to-examine-protest-killings/",
    "/news/feed/",
    "/reports/",
    "/reports/amnesty-international-peru-2023/",
    "/privacy/",
    "/accessibility/",
    "/no-such-page/",
]


@pytest.fixture
def site(live_server):
    call_command("load_campaign_content", verbosity=0)
    return live_server.url


def _violations(page):
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": RULES}})
    assert results.response["passes"], "axe did not run"
    return [
        (rule["id"], rule["help"], [node["target"] for node in rule["nodes"]])
        for rule in results.response["violations"]
    ]


@pytest.mark.parametrize("path", [p for p in PAGES if not p.endswith("feed/")])
def test_public_pages_have_no_accessibility_violations(site, page, path):
    page.goto(site + path)
    assert _violations(page) == []


def test_the_sign_form_with_errors_has_no_accessibility_violations(site, page):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(site + "/petitions/justice-for-peru/")
    page.get_by_role("button", name="Sign the petition").click()
    assert page.get_by_text("Enter your full name.").is_visible()
    assert _violations(page) == []
