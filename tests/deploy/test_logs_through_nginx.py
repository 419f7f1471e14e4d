"""Signing and subscribing through the nginx in front (deploy/nginx/, as `make
run` renders it) leave no supporter's name or address in nginx's access log
or PostgreSQL's server log (issue 22, point 7).

The site runs in this process behind nginx, on the Unix socket nginx
proxies to, against the test database.
"""

import http.client
import shutil
import signal
import socketserver
import urllib.parse
from wsgiref.simple_server import WSGIRequestHandler

import pytest
from django.core.wsgi import get_wsgi_application
from django.db import connections

from core.encryption import email_index
from petitions.models import Signature
from tests.deploy.test_nginx_front import nginx_front
from tests.peru_campaign.test_logs_hold_no_personal_data import _server_log
from tests.petitions.factories import PetitionFactory

NAME = "Quilla Tupayachi"
EMAILS = ["quilla.tupayachi@corp.example", "quilla.tupayachi+news@corp.example"]
POSTCODE = "EC1A 1QT"


class _Handler(WSGIRequestHandler):
    def setup(self):
        super().setup()
        # A Unix socket has no peer address; nginx's own is in X-Forwarded-For.
        self.client_address = ("127.0.0.1", 0)

    def log_message(self, *args):
        pass

    def handle(self):
        try:
            super().handle()
        finally:
            connections.close_all()


class _Site(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str):
        super().__init__(path, _Handler)
        self.base_environ = {
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "80",
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SCRIPT_NAME": "",
        }
        self.application = get_wsgi_application()

    def get_app(self):
        return self.application


@pytest.fixture
def site_behind_nginx(settings, transactional_db):
    if not shutil.which("nginx"):
        pytest.skip("needs nginx")
    settings.TRUSTED_PROXY_COUNT = 1
    with nginx_front(_Site, prefix="test-logs-") as (port, _site, serve_dir, nginx):
        yield port, serve_dir / "log" / "nginx-access.log", nginx


def _request(port, method, path, form=None) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    # As a browser sends it from the site's own page (core.fetch_metadata).
    headers = {"Sec-Fetch-Site": "same-origin"}
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status


def _post_form(port, page, action, form) -> int:
    """Open the page, then send its form, as a person does."""
    assert _request(port, "GET", page) == 200
    return _request(port, "POST", action, form)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_journeys_through_nginx_leave_no_personal_data_in_either_log(
    site_behind_nginx,
):
    port, access_log, nginx = site_behind_nginx
    database_log = _server_log()
    start = database_log.stat().st_size
    PetitionFactory(slug="justice")
    signer = {
        "full_name": NAME,
        "email": EMAILS[0],
        "country": "GB",
        "postcode": POSTCODE,
        "consent": "on",
    }
    page, sign = "/petitions/justice/", "/petitions/justice/sign/"
    assert _post_form(port, page, sign, signer) == 303
    assert _post_form(port, page, sign, signer) == 303
    assert _post_form(port, page, sign, {**signer, "postcode": "nonsense"}) == 400
    subscribe = "/news/subscribe/"
    for _twice in range(2):
        assert _post_form(port, subscribe, subscribe, {"email": EMAILS[1]}) == 303
    assert (
        Signature.objects.filter(email_normalised=email_index(EMAILS[0])).count() == 1
    )
    # nginx writes its log in blocks; a graceful stop writes what is left.
    nginx.send_signal(signal.SIGQUIT)
    nginx.wait(10)
    written = {
        "nginx": access_log.read_text(errors="replace"),
        "PostgreSQL": database_log.read_bytes()[start:].decode(errors="replace"),
    }
    assert '"POST /petitions/justice/sign/" 303' in written["nginx"]
    assert '"POST /news/subscribe/" 303' in written["nginx"]
    for log_name, text in written.items():
        for secret in [NAME, *NAME.split(), POSTCODE, *EMAILS, "tupayachi"]:
            assert secret.lower() not in text.lower(), (log_name, secret)
