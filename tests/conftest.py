"""Shared fixtures. Tests run against the real PostgreSQL started by `make test`."""

import pytest
from django.core.management import call_command


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # The hashed-manifest storage needs `collectstatic` first; unit tests only
    # need working {% static %} URLs, and so do most browser tests;
    # tests/e2e/test_page_weight.py collects and serves the real storage itself.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }


@pytest.fixture(autouse=True)
def _pages_render_afresh(settings):
    # Public pages are shared for PAGE_CACHE_SECONDS (core.http_cache); tests
    # check a change on the next request, and tests of that cache set it.
    settings.PAGE_CACHE_SECONDS = 0


@pytest.fixture
def campaign_content(db):
    call_command("load_campaign_content", verbosity=0, stdout=open("/dev/null", "w"))
