"""Shared fixtures. Tests run against the real PostgreSQL started by `make test`."""

import pytest
from django.core.management import call_command
from django.utils import translation


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
def _no_language_left_over():
    # LocaleMiddleware activates each request's language and leaves it active
    # in the thread: after a test that fetched /es/..., a test rendering
    # outside a request would otherwise run in Spanish.
    yield
    translation.deactivate()


@pytest.fixture
def campaign_content(db):
    call_command("load_campaign_content", verbosity=0, stdout=open("/dev/null", "w"))
