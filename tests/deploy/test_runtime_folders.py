"""Two runs of the production shape in one checkout keep out of each other's way.

`make run`, `make bench` and `make faults` each render deploy/ into a runtime
folder of their own (SERVE_DIR). Everything the processes write (sockets, pid
files, logs, nginx's cache and temporary files) must live under that folder,
or a bench beside a serving `make run` would take over its sockets.
"""

import configparser
import re
import socket
import subprocess
from pathlib import Path

from deploy.render import ROOT, render

NGINX_WRITES = re.compile(
    r"^\s*(?:pid|\w+_temp_path|proxy_cache_path|access_log|error_log)\s+(/[^\s;]+)",
    re.MULTILINE,
)
NGINX_UPSTREAM = re.compile(r"server unix:([^\s;]+)")
GUNICORN_BIND = re.compile(r"--bind unix:(\S+)")


def written_paths(conf_dir: Path) -> dict[str, Path]:
    """What the rendered configuration tells each process to create or write."""
    supervisor = configparser.RawConfigParser()
    supervisor.read(conf_dir / "supervisord.conf")
    paths = {
        "supervisord log": supervisor["supervisord"]["logfile"],
        "supervisord pid": supervisor["supervisord"]["pidfile"],
        "supervisord child logs": supervisor["supervisord"]["childlogdir"],
        "supervisord control socket": supervisor["unix_http_server"]["file"],
        "supervisorctl server": supervisor["supervisorctl"]["serverurl"].removeprefix(
            "unix://"
        ),
    }
    for program in ("gunicorn", "gunicorn-spare"):
        command = supervisor[f"program:{program}"]["command"]
        paths[f"{program} socket"] = GUNICORN_BIND.search(command).group(1)
    _wrapper, prefix, _conf, pidfile = supervisor["program:nginx"]["command"].split()
    paths["nginx prefix"] = prefix
    paths["nginx pid (run.sh)"] = pidfile
    nginx = "\n".join(
        (conf_dir / name).read_text()
        for name in ("nginx.conf", "campaign-http.conf", "campaign-server.conf")
    )
    for number, path in enumerate(NGINX_WRITES.findall(nginx)):
        paths[f"nginx path {number}"] = path
    for number, path in enumerate(NGINX_UPSTREAM.findall(nginx)):
        paths[f"nginx upstream {number}"] = path
    return {name: Path(path) for name, path in paths.items()}


def render_in(folder: Path, port: int, manage_db: str) -> dict[str, Path]:
    conf_dir = render(
        {"PORT": str(port), "SERVE_DIR": str(folder), "SERVE_MANAGE_DB": manage_db}
    )
    assert conf_dir.is_relative_to(folder)
    return written_paths(conf_dir)


def test_two_runtime_folders_share_no_socket_pid_or_log_path(tmp_path):
    serving = render_in(tmp_path / "serve", 8000, "1")
    bench = render_in(tmp_path / "bench", 8765, "0")

    assert {"gunicorn socket", "supervisord control socket", "nginx pid (run.sh)"} <= (
        serving.keys()
    )
    # pid, five temporary folders, the cache and the access log.
    assert len([name for name in serving if name.startswith("nginx path")]) >= 8
    for name, path in serving.items():
        assert path.is_relative_to(tmp_path / "serve"), (name, path)
    for name, path in bench.items():
        assert path.is_relative_to(tmp_path / "bench"), (name, path)
    assert not set(serving.values()) & set(bench.values())


def test_serve_refuses_a_runtime_folder_whose_supervisord_is_running(tmp_path):
    serve_dir = tmp_path / "serve"
    (serve_dir / "run").mkdir(parents=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with socket.socket(socket.AF_UNIX) as running:
        running.bind(str(serve_dir / "run" / "supervisor.sock"))
        running.listen()
        result = subprocess.run(
            [str(ROOT / "scripts" / "serve.sh")],
            env={
                "PATH": "/usr/bin:/bin",
                "PORT": str(port),
                "SERVE_DIR": str(serve_dir),
            },
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    assert result.returncode == 1
    assert f"{serve_dir} is in use by a running serve.sh" in result.stderr
    assert "SERVE_DIR=" in result.stderr
    # Refused before rendering: the running one's configuration is untouched.
    assert not (serve_dir / "conf").exists()
