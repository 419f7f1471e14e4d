"""The nginx in front (deploy/nginx/), run for real against a tiny upstream.

deploy/render.py renders the same configuration `make run` uses, pointed at a
small HTTP server on a Unix socket that answers with the caching headers each
test needs and counts what reaches it. No database: nothing here is Django's.
"""

import contextlib
import gzip
import http.client
import json
import shutil
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from deploy.render import ROOT, render

HASHED_CSS = "site.0123456789ab.css"


class Upstream(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str) -> None:
        self.hits: dict[str, int] = {}
        self.lock = threading.Lock()
        super().__init__(path, Handler)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet, and no client address here
        pass

    def answer(self, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(200)
        for name, value in headers.items():
            self.send_header(name, value)
        # As Django's GZipMiddleware does.
        self.send_header("Vary", "Accept-Encoding")
        if "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body)
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def respond(self) -> None:
        path = self.path.split("?")[0]
        with self.server.lock:
            self.server.hits[path] = self.server.hits.get(path, 0) + 1
            hits = self.server.hits[path]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        kind = path.strip("/").split("/")[0]
        headers = {
            "public": {"Cache-Control": "public, max-age=60, s-maxage=60"},
            "cookie": {
                "Cache-Control": "public, max-age=60",
                "Set-Cookie": "csrftoken=abc; Path=/",
            },
            "private": {"Cache-Control": "private, max-age=60"},
            "plain": {},
        }.get(kind, {})
        self.answer(
            json.dumps(
                {
                    "hits": hits,
                    "x_forwarded_for": self.headers.get_all("X-Forwarded-For"),
                    "x_forwarded_proto": self.headers.get("X-Forwarded-Proto"),
                    "host": self.headers.get("Host"),
                    "accept_encoding": self.headers.get("Accept-Encoding"),
                    "body_length": len(body),
                    "padding": "campaign " * (300 if path.endswith("big") else 0),
                }
            ).encode(),
            headers,
        )

    do_GET = do_POST = respond


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def nginx_front(make_upstream, *, prefix: str):
    """nginx as `make run` renders it, in front of `make_upstream(socket path)`
    (a socketserver on the Unix socket nginx proxies to), in a folder of its
    own. Yields (port, upstream, serve_dir, nginx process)."""
    (ROOT / "var").mkdir(exist_ok=True)
    # Under the project, not /tmp: nginx's workers (www-data when root) must
    # reach the socket and the static files.
    serve_dir = Path(tempfile.mkdtemp(prefix=prefix, dir=ROOT / "var"))
    serve_dir.chmod(0o755)
    static = serve_dir / "static"
    static.mkdir()
    port = free_port()
    conf_dir = render(
        {
            "PORT": str(port),
            "SERVE_DIR": str(serve_dir),
            "SERVE_STATIC_ROOT": str(static),
            "SERVE_MANAGE_DB": "0",
        }
    )
    socket_path = serve_dir / "run" / "gunicorn.sock"
    upstream = make_upstream(str(socket_path))
    socket_path.chmod(0o770)
    shutil.chown(socket_path, group=(serve_dir / "run").group())
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    command = [
        "nginx",
        "-p",
        str(serve_dir / "nginx"),
        "-c",
        str(conf_dir / "nginx.conf"),
        "-e",
        "stderr",
    ]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    nginx = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield port, upstream, serve_dir, nginx
    finally:
        if nginx.poll() is None:
            nginx.terminate()
            nginx.wait(10)
        upstream.shutdown()
        upstream.server_close()
        shutil.rmtree(serve_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def front():
    with nginx_front(Upstream, prefix="test-front-") as (port, upstream, serve, _):
        static = serve / "static"
        (static / HASHED_CSS).write_text("body { color: black }\n" * 50)
        (static / f"{HASHED_CSS}.br").write_bytes(b"brotli bytes")
        (static / f"{HASHED_CSS}.gz").write_bytes(b"gzip bytes")
        (static / "plain.css").write_text("p {}\n")
        yield port, upstream


def get(port, path, headers=None, method="GET", body=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response, data


def test_client_address_is_overwritten_not_appended(front):
    port, _upstream = front
    response, data = get(
        port,
        "/plain/address",
        headers={"X-Forwarded-For": "203.0.113.9", "Host": "campaign.test"},
    )
    seen = json.loads(data)
    assert response.status == 200
    # Exactly one hop, the address nginx saw: a client cannot choose its own.
    assert seen["x_forwarded_for"] == ["127.0.0.1"]
    assert seen["x_forwarded_proto"] == "http"
    assert seen["host"] == "campaign.test"


def test_public_pages_are_shared_for_a_moment(front):
    port, upstream = front
    first, _ = get(port, "/public/page")
    second, data = get(port, "/public/page")
    assert first.getheader("X-Cache-Status") == "MISS"
    assert second.getheader("X-Cache-Status") == "HIT"
    assert json.loads(data)["hits"] == 1
    time.sleep(2.1)  # the micro-cache lasts one second, whatever max-age says
    get(port, "/public/page")
    get(port, "/public/page")  # served stale while the refresh runs, at most
    deadline = time.monotonic() + 3
    while upstream.hits["/public/page"] < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert upstream.hits["/public/page"] == 2
    # The refreshed copy, not the old file nginx still keeps open.
    refreshed, data = get(port, "/public/page")
    assert refreshed.getheader("X-Cache-Status") == "HIT"
    assert json.loads(data)["hits"] == 2


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/cookie/page", {}),  # carries Set-Cookie (today's CSRF cookie)
        ("/private/page", {}),  # Django said private
        ("/plain/page", {}),  # Django said nothing: not shareable either
        ("/public/staff", {"Cookie": "sessionid=abc"}),
        ("/public/api", {"Authorization": "Token abc"}),
        ("/public/confirm?t=secret-token", {}),
    ],
)
def test_what_must_not_be_shared_always_reaches_the_application(front, path, headers):
    port, upstream = front
    statuses = [get(port, path, headers)[0].getheader("X-Cache-Status") for _ in "ab"]
    assert upstream.hits[path.split("?")[0]] == 2
    assert "HIT" not in statuses


def test_staff_requests_do_not_poison_the_shared_copy(front):
    port, upstream = front
    get(port, "/public/mixed", {"Cookie": "sessionid=abc"})
    response, _ = get(port, "/public/mixed")
    assert response.getheader("X-Cache-Status") == "MISS"
    assert upstream.hits["/public/mixed"] == 2


def test_request_bodies_are_buffered_and_capped(front):
    port, upstream = front
    # Half a body, then a pause: gunicorn must not be holding it meanwhile.
    connection = socket.create_connection(("127.0.0.1", port), timeout=5)
    connection.sendall(
        b"POST /plain/slow-body HTTP/1.1\r\nHost: campaign.test\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 10\r\n\r\nhello"
    )
    time.sleep(0.3)
    assert "/plain/slow-body" not in upstream.hits
    connection.sendall(b"world")
    assert b" 200 " in connection.recv(65536).split(b"\r\n")[0]
    connection.close()
    assert upstream.hits["/plain/slow-body"] == 1

    response, _ = get(port, "/plain/huge", method="POST", body=b"x" * 100_000)
    assert response.status == 413
    assert "/plain/huge" not in upstream.hits


def test_static_files_come_precompressed_and_hashed_names_immutable(front):
    port, upstream = front
    response, data = get(port, f"/static/{HASHED_CSS}", {"Accept-Encoding": "br"})
    assert response.status == 200
    assert response.getheader("Content-Encoding") == "br"
    assert data == b"brotli bytes"
    assert response.getheader("Cache-Control") == "public, max-age=31536000, immutable"
    response, data = get(port, f"/static/{HASHED_CSS}", {"Accept-Encoding": "gzip"})
    assert response.getheader("Content-Encoding") == "gzip"
    response, _ = get(port, "/static/plain.css")
    assert "immutable" not in response.getheader("Cache-Control")
    assert not any(path.startswith("/static") for path in upstream.hits)


def test_pages_are_compressed_on_the_way_out(front):
    port, _upstream = front
    response, data = get(port, "/public/big", {"Accept-Encoding": "gzip"})
    assert response.getheader("Content-Encoding") == "gzip"
    assert len(data) < 1000
    response, data = get(port, "/public/big")
    assert response.getheader("Content-Encoding") is None
    assert len(data) > 2700


def test_compressed_and_plain_copies_are_cached_apart(front):
    port, upstream = front
    spellings = ["gzip", "gzip, deflate, br, zstd", "br;q=1.0, gzip;q=0.8"]
    for spelling in spellings:
        response, data = get(port, "/public/encoded-big", {"Accept-Encoding": spelling})
        assert response.getheader("Content-Encoding") == "gzip"
        # Django was asked for exactly gzip, once, whatever the browser wrote.
        assert json.loads(gzip.decompress(data))["accept_encoding"] == "gzip"
    assert upstream.hits["/public/encoded-big"] == 1
    response, data = get(port, "/public/encoded-big")
    assert response.getheader("Content-Encoding") is None
    # The application's Vary, once: nginx adds none of its own.
    assert response.msg.get_all("Vary") == ["Accept-Encoding"]
    # A client that takes no gzip gets a plain copy of its own.
    assert json.loads(data)["accept_encoding"] in ("", None)
    assert upstream.hits["/public/encoded-big"] == 2


def test_static_files_turn_off_browser_features(front):
    port, _upstream = front
    for path in (f"/static/{HASHED_CSS}", "/static/plain.css"):
        response, _ = get(port, path)
        policy = response.getheader("Permissions-Policy")
        assert "camera=()" in policy and "geolocation=()" in policy
