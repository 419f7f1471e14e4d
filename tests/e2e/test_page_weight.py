"""The home page is light on a first visit, and static files are served as in production.

pytest-django's `live_server` serves /static/ itself, uncompressed and from the
source folders. Here the app runs behind a server that leaves /static/ to
WhiteNoise, which serves the files `collectstatic` wrote (hashed names, with
Brotli and gzip copies), exactly as gunicorn does in production.
"""

import re

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.test.testcases import LiveServerThread

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
# What a supporter on a slow mobile connection downloads to see the home page.
HOME_PAGE_BUDGET_BYTES = 100_000
PRODUCTION_STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# ManifestStaticFilesStorage puts 12 hex digits of the content's MD5 in names.
HASHED_NAME = re.compile(r"\.[0-9a-f]{12}\.\w+$")


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory):
    """A STATIC_ROOT filled by `collectstatic`, once per test run."""
    root = tmp_path_factory.mktemp("staticfiles")
    with override_settings(STATIC_ROOT=root, STORAGES=PRODUCTION_STORAGES):
        call_command("collectstatic", interactive=False, verbosity=0)
    return root


@pytest.fixture
def production_site(transactional_db, collected_static, settings):
    """The app served with WhiteNoise and the collected files, on a free port."""
    settings.STATIC_ROOT = collected_static
    # Changing these settings makes Django drop its storage object, so the
    # next {% static %} reads the new manifest (django.test.signals).
    settings.STORAGES = PRODUCTION_STORAGES
    # The live server's thread serves MEDIA_URL itself; the default ("/")
    # would put it in front of every address, /static/ included.
    settings.MEDIA_URL = "/media/"
    # The handler, and the WhiteNoise middleware in it, are built in the
    # thread, so after the settings above: WhiteNoise reads STATIC_ROOT then.
    server = LiveServerThread("localhost", static_handler=lambda app: app)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    settings.SITE_URL = f"http://localhost:{server.port}"
    call_command("load_campaign_content", verbosity=0)
    yield settings.SITE_URL
    server.terminate()


def test_first_visit_to_the_home_page_transfers_little(production_site, page):
    finished = []
    page.on("requestfinished", lambda request: finished.append(request))
    page.goto(production_site + "/")
    page.wait_for_load_state("networkidle")

    transfers = {}
    for request in finished:
        sizes = request.sizes()
        transfers[request.url] = (
            sizes["responseHeadersSize"] + sizes["responseBodySize"]
        )
    total = sum(transfers.values())
    assert any("bootstrap" in url for url in transfers), "the CSS was not fetched"
    assert total <= HOME_PAGE_BUDGET_BYTES, "\n".join(
        [f"{total} bytes in all:", *(f"{n:>8} {url}" for url, n in transfers.items())]
    )


def test_static_files_are_compressed_and_cached_for_good(production_site, page):
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto(production_site + "/")
    page.wait_for_load_state("networkidle")

    static = [r for r in responses if "/static/" in r.url]
    assert {re.sub(r"\..*", "", r.url.rsplit("/", 1)[1]) for r in static} >= {
        "bootstrap",
        "site",
    }
    for response in static:
        headers = response.all_headers()
        assert response.status == 200, response.url
        assert HASHED_NAME.search(response.url), response.url
        assert "max-age=315360000" in headers["cache-control"], response.url
        assert "immutable" in headers["cache-control"], response.url
        assert "public" in headers["cache-control"], response.url
        if response.url.endswith((".css", ".js", ".svg")):
            assert headers.get("content-encoding") == "br", response.url
