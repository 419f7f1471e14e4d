"""No nginx log names a client (issue 22, item 9).

Every server block, in the configuration `make run` renders and in
production's site file, must log in the campaign's format (no address, no
user agent, no query string with its ?t= tokens) or not at all; a server
without its own access_log falls back to Debian's "combined" log.
"""

import re
import shutil
import tempfile
from pathlib import Path

import pytest

from deploy.render import ROOT, render

PRODUCTION_SITE = ROOT / "deploy" / "nginx" / "production-site.conf"
CLIENT_VARIABLES = (
    "$remote_addr",
    "$binary_remote_addr",
    "$realip_remote_addr",
    "$http_x_forwarded_for",
    "$proxy_add_x_forwarded_for",
    "$http_user_agent",
    "$http_referer",
    "$request_uri",
    "$request ",
    '$request"',
    "$args",
    "$query_string",
    "$arg_",
    "$is_args",
)
QUIET_ERROR_LEVELS = {"alert", "emerg"}


def statements(text: str) -> list:
    """The configuration as nested lists: a directive is a list of words, a
    block is (words, [its statements])."""
    text = re.sub(r"#[^\n]*", "", text)
    tokens = re.findall(r"'[^']*'|\"[^\"]*\"|[{};]|[^\s{};]+", text)
    stack = [[]]
    heads = []
    words = []
    for token in tokens:
        if token == ";":
            stack[-1].append(words)
            words = []
        elif token == "{":
            heads.append(words)
            stack.append([])
            words = []
        elif token == "}":
            body = stack.pop()
            stack[-1].append((heads.pop(), body))
        else:
            words.append(token)
    return stack[0]


def expand(body: list, conf_dir: Path) -> list:
    """Directives with the campaign's includes read in."""
    expanded = []
    for item in body:
        if isinstance(item, list) and item[:1] == ["include"]:
            name = Path(item[1]).name
            if name.startswith("campaign-"):
                expanded += expand(statements((conf_dir / name).read_text()), conf_dir)
                continue
        if isinstance(item, tuple):
            item = (item[0], expand(item[1], conf_dir))
        expanded.append(item)
    return expanded


def servers(body: list):
    for item in body:
        if isinstance(item, tuple):
            head, inner = item
            if head == ["server"]:
                yield inner
            else:
                yield from servers(inner)


def log_formats(body: list) -> dict[str, str]:
    formats = {}
    for item in body:
        if isinstance(item, list) and item[:1] == ["log_format"]:
            formats[item[1]] = " ".join(item[2:])
        elif isinstance(item, tuple):
            formats |= log_formats(item[1])
    return formats


@pytest.fixture(scope="module")
def rendered():
    (ROOT / "var").mkdir(exist_ok=True)
    serve_dir = Path(tempfile.mkdtemp(prefix="test-logs-", dir=ROOT / "var"))
    yield render({"SERVE_DIR": str(serve_dir), "SERVE_MANAGE_DB": "0"})
    shutil.rmtree(serve_dir, ignore_errors=True)


def configurations(conf_dir: Path):
    yield (
        "make run",
        expand(statements((conf_dir / "nginx.conf").read_text()), conf_dir),
    )
    production = expand(statements(PRODUCTION_SITE.read_text()), conf_dir)
    yield "production", production


def test_the_campaign_log_format_names_no_client(rendered):
    for _name, configuration in configurations(rendered):
        formats = log_formats(configuration)
        assert "campaign" in formats
        for variable in CLIENT_VARIABLES:
            assert variable not in formats["campaign"] + '"', variable


def test_every_server_block_logs_no_client(rendered):
    checked = 0
    for name, configuration in configurations(rendered):
        for server in servers(configuration):
            own = [item for item in server if isinstance(item, list)]
            access = [words for words in own if words[:1] == ["access_log"]]
            errors = [words for words in own if words[:1] == ["error_log"]]
            assert access, f"{name}: a server without its own access_log: {server}"
            for words in access:
                assert words[1:] == ["off"] or words[2] == "campaign", (name, words)
            assert errors, f"{name}: a server without its own error_log: {server}"
            for words in errors:
                assert words[2] in QUIET_ERROR_LEVELS, (name, words)
            checked += 1
    # make run's one server, and production's three.
    assert checked == 4
