"""The load balancer of the two-host drill (deploy/haproxy/balancer.cfg.in).

Rendered by deploy/render.py as make failover-drill renders it, run by the
real HAProxy in front of two tiny HTTP servers standing in for the web hosts.
"""

import http.client
import json
import shutil
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from deploy.render import render_balancer

pytestmark = pytest.mark.skipif(
    shutil.which("haproxy") is None,
    reason="HAProxy is not installed (scripts/system-packages.sh test installs it)",
)


class FakeHost(ThreadingHTTPServer):
    """Answers every request with its name and the headers it was sent;
    /healthz answers 200 or, once `sick`, 503."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sick = False
        self.seen: list[str] = []
        super().__init__(("127.0.0.1", 0), Handler)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        host = self.server
        if self.path == "/healthz":
            status = 503 if host.sick else 200
            body = b"{}"
        else:
            host.seen.append(self.path)
            status = 200
            body = json.dumps(
                {"host": host.name, "xff": self.headers.get("X-Forwarded-For")}
            ).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def get(port, path, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def free_port() -> int:
    probe = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = probe.server_address[1]
    probe.server_close()
    return port


def wait_until(check, limit=10.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def balancer():
    hosts = [FakeHost("one"), FakeHost("two")]
    for host in hosts:
        threading.Thread(target=host.serve_forever, daemon=True).start()
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="test-balancer-"))
    conf = render_balancer(
        {
            "PORT": str(port),
            "SERVE_DIR": str(folder),
            "BALANCER_HOSTS": ",".join(
                f"127.0.0.1:{host.server_address[1]}" for host in hosts
            ),
        }
    )
    checked = subprocess.run(["haproxy", "-c", "-f", str(conf)], capture_output=True)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(
        ["haproxy", "-db", "-f", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def answers():
        try:
            return get(port, "/healthz")[0] == 200
        except OSError:
            return False

    assert wait_until(answers)
    yield port, hosts
    process.terminate()
    process.wait(10)
    for host in hosts:
        host.shutdown()
        host.server_close()
    shutil.rmtree(folder, ignore_errors=True)


def test_the_visitor_address_is_overwritten_not_appended(balancer):
    port, _hosts = balancer
    _status, body = get(port, "/", {"X-Forwarded-For": "203.0.113.9"})
    assert json.loads(body)["xff"] == "127.0.0.1"


def test_both_hosts_get_visitors(balancer):
    port, _hosts = balancer
    names = {json.loads(get(port, f"/page-{n}")[1])["host"] for n in range(6)}
    assert names == {"one", "two"}


def test_a_host_failing_its_health_check_gets_no_visitors(balancer):
    port, hosts = balancer
    hosts[1].sick = True
    # Two failed checks, half a second apart, take it out.
    time.sleep(2)
    hosts[1].seen.clear()
    answers = [get(port, f"/while-sick-{n}") for n in range(6)]
    assert {status for status, _body in answers} == {200}
    assert hosts[1].seen == []


def test_a_host_that_is_gone_is_routed_around(balancer):
    port, hosts = balancer
    hosts[1].shutdown()
    hosts[1].server_close()
    # Before any health check has noticed: a refused connection goes to the
    # other host.
    answers = [get(port, f"/gone-{n}") for n in range(6)]
    assert {status for status, _body in answers} == {200}
    assert {json.loads(body)["host"] for _status, body in answers} == {"one"}
