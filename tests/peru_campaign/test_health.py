"""The health check and the 503 page, against a live and a stopped database."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.django_db

PROBE = r"""
import json, os, django
os.environ["DJANGO_SETTINGS_MODULE"] = "peru_campaign.settings"
django.setup()
from django.db import connection
from django.test import Client
client = Client()
results = {}
results["health_down"] = [client.get("/healthz").status_code, client.get("/healthz").json()]
page = client.get("/what-happened/")
results["page_down"] = [page.status_code, page.content.decode()]
# The database comes back: the next request must reconnect by itself.
connection.settings_dict.update(json.loads(os.environ["LIVE_DATABASE"]))
results["health_up"] = [client.get("/healthz").status_code, client.get("/healthz").json()]
print(json.dumps(results))
"""


def test_healthz_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_stopped_database_gives_503_and_the_site_recovers(tmp_path):
    live = {
        key: connection.settings_dict[key] for key in ("NAME", "USER", "HOST", "PORT")
    }
    live["PASSWORD"] = connection.settings_dict.get("PASSWORD", "")
    env = {
        **os.environ,
        "DJANGO_ENV": "development",
        # A server that is not running: nothing listens on this port.
        "DATABASE_URL": "postgres://peru@127.0.0.1:1/down",
        "LIVE_DATABASE": json.dumps(live),
    }
    completed = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    results = json.loads(completed.stdout.strip().splitlines()[-1])
    assert results["health_down"] == [503, {"status": "unavailable"}]
    status, body = results["page_down"]
    assert status == 503
    assert "back in a moment" in body
    assert results["health_up"] == [200, {"status": "ok"}]


RESTART_PROBE = r"""
import io, json, os, django, psycopg
os.environ["DJANGO_SETTINGS_MODULE"] = "peru_campaign.settings"
django.setup()
from django.conf import settings
# As in tests/conftest.py: no collectstatic manifest is needed for {% static %}.
settings.STORAGES = {**settings.STORAGES, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
from wsgiref.util import setup_testing_defaults
from django.core.wsgi import get_wsgi_application
from django.db import connection
connection.settings_dict.update(json.loads(os.environ["LIVE_DATABASE"]))
# The real WSGI handler, as gunicorn calls it: unlike the test client, it runs
# Django's request_started/finished connection housekeeping.
application = get_wsgi_application()

def get(path):
    environ = {"PATH_INFO": path, "HTTP_HOST": "127.0.0.1", "wsgi.input": io.BytesIO()}
    setup_testing_defaults(environ)
    status = []
    body = b"".join(application(environ, lambda s, h, e=None: status.append(s)))
    return int(status[0].split()[0]), body.decode()

results = {"before": get("/healthz")[0]}
# The server drops our persistent connection, as a database restart would.
backend_pid = connection.connection.info.backend_pid
s = connection.settings_dict
with psycopg.connect(dbname=s["NAME"], user=s["USER"], host=s["HOST"],
                     port=s["PORT"] or None, password=s["PASSWORD"] or None,
                     autocommit=True) as admin:
    admin.execute("SELECT pg_terminate_backend(%s)", [backend_pid])
status, body = get("/petitions/")
results["during"] = [status, "back in a moment" in body]
results["after"] = [get("/petitions/")[0], get("/healthz")[0]]
print(json.dumps(results))
"""


def test_a_dropped_connection_fails_one_request_politely_then_recovers():
    live = {
        key: connection.settings_dict[key] for key in ("NAME", "USER", "HOST", "PORT")
    }
    live["PASSWORD"] = connection.settings_dict.get("PASSWORD", "")
    completed = subprocess.run(
        [sys.executable, "-c", RESTART_PROBE],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "DJANGO_ENV": "development",
            "LIVE_DATABASE": json.dumps(live),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    results = json.loads(completed.stdout.strip().splitlines()[-1])
    assert results["before"] == 200
    assert results["during"] == [503, True], completed.stderr
    assert results["after"] == [200, 200]
