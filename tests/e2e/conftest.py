"""End-to-end tests in headless Chromium (Debian's package), driven by Playwright.

Playwright's sync API keeps an event loop in the test process, so `make test`
runs these apart with DJANGO_ALLOW_ASYNC_UNSAFE=true: the ORM calls the tests
make between browser steps are still synchronous and safe.
"""

import os
import shutil

import pytest
from django.core.management import call_command

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def pytest_collection_modifyitems(items):
    if not os.path.exists(CHROMIUM):
        skip = pytest.mark.skip(
            reason="Chromium is not installed (.ci/run installs it)"
        )
        for item in items:
            if "e2e" in str(item.fspath):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def site(live_server, settings):
    """The live server's address, with the campaign's content loaded."""
    settings.SITE_URL = live_server.url
    call_command("load_campaign_content", verbosity=0)
    return live_server.url


@pytest.fixture
def csp_violations(page):
    """Messages the browser logs when the Content-Security-Policy blocks something."""
    found = []
    page.on(
        "console",
        lambda message: (
            found.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    return found


@pytest.fixture(autouse=True, scope="session")
def _no_persistent_connections_in_the_live_server():
    # The live server's request threads would otherwise keep their database
    # connections open after the test, and the test database could not be
    # dropped at the end of the run.
    from django.db import connections

    connections.settings["default"]["CONN_MAX_AGE"] = 0
