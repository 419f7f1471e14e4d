"""A multi-host DATABASE_URL reaches psycopg as libpq's own host list.

Production names both database hosts (docs/operations.md, "Standby and
failover"); libpq tries them in turn and, with target_session_attrs=read-write,
keeps the one that takes writes, so the site follows a promotion.
"""

import json
import os
import subprocess
import sys
import urllib.parse

from django.conf import settings
from django.db import connection

PROBE = r"""
import json, django, os
os.environ["DJANGO_SETTINGS_MODULE"] = "peru_campaign.settings"
django.setup()
from django.db import connection
params = connection.get_connection_params()
with connection.cursor() as cursor:
    cursor.execute("SELECT current_database(), pg_is_in_recovery()")
    database, in_recovery = cursor.fetchone()
print(json.dumps({
    "host": params.get("host"),
    "port": params.get("port"),
    "target_session_attrs": params.get("target_session_attrs"),
    "database": database,
    "in_recovery": in_recovery,
    "connected_to": connection.connection.info.host,
}))
"""


def test_a_multi_host_url_tries_each_host_and_keeps_the_writable_one(tmp_path):
    live = connection.settings_dict
    live_host = live["HOST"] or "localhost"
    live_port = str(live["PORT"] or 5432)
    # A first host that is down, as a killed primary is: a socket folder with
    # no server in it.
    dead = tmp_path / "down"
    dead.mkdir()
    hosts = ",".join(
        f"{urllib.parse.quote(host, safe='')}:{port}"
        for host, port in ((str(dead), live_port), (live_host, live_port))
    )
    user = urllib.parse.quote(live["USER"], safe="")
    password = live.get("PASSWORD") or ""
    auth = f"{user}:{urllib.parse.quote(password, safe='')}" if password else user
    url = f"postgresql://{auth}@{hosts}/{live['NAME']}?target_session_attrs=read-write"
    completed = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_ENV": "development", "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["host"] == f"{dead},{live_host}"
    assert result["port"] == f"{live_port},{live_port}"
    assert result["target_session_attrs"] == "read-write"
    assert result["database"] == live["NAME"]
    assert result["in_recovery"] is False
    assert result["connected_to"] == live_host
