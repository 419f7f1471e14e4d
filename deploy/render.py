"""Renders the nginx and supervisor configuration `make run` uses.

    python deploy/render.py        (environment below; prints the conf dir)

The templates beside this file use @NAME@ placeholders; everything the
processes write (sockets, pid files, logs, nginx's cache and temporary files)
goes under SERVE_DIR (default var/serve, git-ignored), so nothing needs root
and two checkouts never share a file. `make bench` (var/bench) and `make
faults` (var/faults/serve) render into folders of their own, so they run
beside a serving `make run` in the same checkout.

Environment: PORT (8000), SERVE_DIR, BIN (.venv/bin), WEB_CONCURRENCY (cores
+ 1), GUNICORN_THREADS (4), SERVE_MANAGE_DB (1: supervise the project-local
PostgreSQL cluster too), NGINX_REAL_IP_FROM (addresses of a load balancer
whose X-Forwarded-For nginx may believe; empty: none), GUNICORN_SOCKET
(default SERVE_DIR/run/gunicorn.sock), SERVE_STATIC_ROOT (default staticfiles/,
where collectstatic puts them), NGINX_ACCESS_LOG (SERVE_DIR/log/nginx-access.log) and
NGINX_ERROR_LOG (stderr).

Production renders the two campaign-*.conf files the same way and includes
them from Debian's nginx (deploy/nginx/production-site.conf).

`python deploy/render.py balancer` renders the load balancer of make faults'
two-host drill instead (haproxy/balancer.cfg.in): PORT, SERVE_DIR, and
BALANCER_HOSTS, the hosts' host:port list, comma-separated.

Standard library only: it runs before anything else is installed.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BROTLI_MODULE = Path("/usr/lib/nginx/modules/ngx_http_brotli_static_module.so")
PLACEHOLDER = re.compile(r"@([A-Z_]+)@")


def fill(template: str, values: dict[str, str]) -> str:
    def one(match):
        name = match.group(1)
        if name not in values:
            raise KeyError(f"no value for @{name}@")
        return values[name]

    return PLACEHOLDER.sub(one, template)


def user_can_read(user: str, path: Path) -> bool:
    result = subprocess.run(
        ["runuser", "-u", user, "--", "test", "-r", str(path)],
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


def nginx_user(static_root: Path, run_dir: Path) -> tuple[str, str]:
    """The `user` line for nginx's workers, and gunicorn's group option.

    Only a master started as root switches its workers to another user. Then
    www-data serves, and reaches gunicorn's socket through the group of its
    folder; a checkout www-data cannot read (e.g. under /root) keeps root's
    workers, acceptable for a development machine only. gunicorn gives its
    socket its own group, hence --group www-data (for its workers too).
    """
    if os.geteuid() != 0:
        run_dir.chmod(0o700)
        return "", ""
    if shutil.which("runuser") and user_can_read("www-data", static_root):
        shutil.chown(run_dir, group="www-data")
        # setgid: the socket gunicorn creates inherits the www-data group.
        run_dir.chmod(0o2750)
        return "user www-data;", "--group www-data"
    run_dir.chmod(0o700)
    return "user root;", ""


def render(env: dict[str, str]) -> Path:
    serve_dir = Path(env.get("SERVE_DIR") or ROOT / "var" / "serve").resolve()
    conf_dir, run_dir, log_dir = (serve_dir / name for name in ("conf", "run", "log"))
    for folder in (serve_dir, conf_dir, log_dir, run_dir, serve_dir / "nginx"):
        folder.mkdir(parents=True, exist_ok=True)
    serve_dir.chmod(0o711)
    static_root = Path(env.get("SERVE_STATIC_ROOT") or ROOT / "staticfiles")
    bin_dir = Path(env.get("BIN") or ROOT / ".venv" / "bin")
    if not bin_dir.is_absolute():
        bin_dir = ROOT / bin_dir
    nginx_directive, gunicorn_group = nginx_user(static_root, run_dir)
    real_ip = [a.strip() for a in env.get("NGINX_REAL_IP_FROM", "").split(",")]
    real_ip = [address for address in real_ip if address]
    values = {
        "ROOT": str(ROOT),
        "SERVE_DIR": str(serve_dir),
        "CONF_DIR": str(conf_dir),
        "RUN_DIR": str(run_dir),
        "SOCKET": env.get("GUNICORN_SOCKET") or str(run_dir / "gunicorn.sock"),
        "SPARE_SOCKET": str(run_dir / "gunicorn-spare.sock"),
        # make run's spare gunicorn (supervisord.conf.in); production's
        # systemd socket holds connections while gunicorn restarts instead.
        # With a spare, a gunicorn that failed is skipped for 2 s (its orphaned
        # workers may still accept connections they will never answer); the
        # spare itself is never skipped. Alone, gunicorn is never skipped.
        "SPARE_SERVER": ""
        if env.get("GUNICORN_SOCKET")
        else f"server unix:{run_dir / 'gunicorn-spare.sock'} backup max_fails=0;",
        "PRIMARY_FAILURES": "fail_timeout=0"
        if env.get("GUNICORN_SOCKET")
        else "max_fails=1 fail_timeout=2s",
        "LOG_DIR": str(log_dir),
        "BIN": str(bin_dir),
        "PORT": env.get("PORT") or "8000",
        "STATIC_ROOT": str(static_root),
        "ACCESS_LOG": env.get("NGINX_ACCESS_LOG") or str(log_dir / "nginx-access.log"),
        "ERROR_LOG": env.get("NGINX_ERROR_LOG") or "stderr",
        "WORKERS": env.get("WEB_CONCURRENCY") or str((os.cpu_count() or 1) + 1),
        "THREADS": env.get("GUNICORN_THREADS") or "4",
        "NGINX_USER": nginx_directive,
        "GUNICORN_GROUP": gunicorn_group,
        "BROTLI_MODULE": (
            f"load_module {BROTLI_MODULE};" if BROTLI_MODULE.exists() else ""
        ),
        "BROTLI_STATIC": "brotli_static on;" if BROTLI_MODULE.exists() else "",
        "REAL_IP": "".join(f"set_real_ip_from {address};\n" for address in real_ip)
        + ("real_ip_header X-Forwarded-For;\nreal_ip_recursive on;" if real_ip else ""),
    }
    for name in ("nginx.conf", "campaign-http.conf", "campaign-server.conf"):
        template = (HERE / "nginx" / f"{name}.in").read_text()
        (conf_dir / name).write_text(fill(template, values))
    supervisor = (HERE / "supervisor" / "supervisord.conf.in").read_text()
    if env.get("SERVE_MANAGE_DB", "1") == "1":
        supervisor += (HERE / "supervisor" / "postgres.conf.in").read_text()
    (conf_dir / "supervisord.conf").write_text(fill(supervisor, values))
    return conf_dir


def render_balancer(env: dict[str, str]) -> Path:
    serve_dir = Path(env["SERVE_DIR"]).resolve()
    conf_dir = serve_dir / "conf"
    conf_dir.mkdir(parents=True, exist_ok=True)
    hosts = [host.strip() for host in env["BALANCER_HOSTS"].split(",") if host.strip()]
    values = {
        "PORT": env["PORT"],
        "SERVERS": "".join(
            f"    server host{number} {host} check\n"
            for number, host in enumerate(hosts, start=1)
        ),
    }
    template = (HERE / "haproxy" / "balancer.cfg.in").read_text()
    (conf_dir / "balancer.cfg").write_text(fill(template, values))
    return conf_dir / "balancer.cfg"


if __name__ == "__main__":
    if sys.argv[1:] == ["balancer"]:
        print(render_balancer(dict(os.environ)))
        sys.exit(0)
    print(render(dict(os.environ)))
    sys.exit(0)
