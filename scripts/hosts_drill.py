"""`make failover-drill` (and the second half of `make faults`): two web
hosts behind a load balancer, on a primary database with a synchronous
standby, broken the way a lost machine breaks them.

Run by scripts/hosts_drill.sh, which builds the two clusters (the standby by
pg_basebackup -R, synchronous) and the database, then runs this with
DATABASE_URL naming both clusters (target_session_attrs=read-write). This
starts two web stacks (scripts/serve.sh: nginx, gunicorn, the worker and the
outbox each, own ports and runtime folders, as two hosts would have) and an
HAProxy load balancer on PORT in front of them (deploy/haproxy), then checks:

  1. the per-address signing limit and the admin lock-out (django-axes) count
     across both hosts: requests alternating between them meet one limit;
  2. a withdrawn name leaves both hosts' petition pages within the promised
     time (PAGE_CACHE_SECONDS + PUBLIC_CACHE_SECONDS, docs/signing.md);
  3. one host killed (kill -9 every process of it) loses no signature: the
     balancer routes around it;
  0. a signature is acknowledged only once the standby has it: with the
     standby frozen (SIGSTOP) the sign POST waits, and answers once thawed;
  4. the primary killed with kill -9 under sign load, the standby promoted
     (the one step done by hand, as an operator would): the site answers again
     within 30 s, every program on both hosts ran on by itself, and every
     accepted signature is on the new primary with its confirmation e-mail.

Prints PASS or FAIL per check and a last line with the result; exits 1 on
any failure. Stops the web stacks and the balancer it started.
"""

import email
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import django
import faults
import psycopg
from django.conf import settings
from django.db import connection
from faults import report, request, wait_for

ROOT = faults.ROOT
PORT = faults.PORT
HERE = Path(os.environ["DRILL_DIR"])
HOST_PORTS = [PORT + 1, PORT + 2]
PETITION = faults.PETITION
STANDBY_DIR = os.environ["DRILL_STANDBY_DIR"]
PRIMARY_SOCKET_DIR = os.environ["DRILL_PRIMARY_SOCKET_DIR"]
RECOVERY_LIMIT = 30.0
# Addresses the background signer takes turns with: each signs once in a
# minute or two, far below the limit that check 1 meets from its own address.
SIGNER_SOURCES = [f"127.0.{block}.{last}" for block in (1, 2) for last in range(1, 251)]


def site_headers(extra: dict[str, str] | None = None) -> dict[str, str]:
    """What a browser on the site's own pages sends: the balancer's address
    as Host and Origin, whichever host a request is sent to."""
    headers = {
        "Host": f"127.0.0.1:{PORT}",
        "Origin": f"http://127.0.0.1:{PORT}",
        "Sec-Fetch-Site": "same-origin",
    }
    headers.update(extra or {})
    return headers


def form(fields: dict[str, str]) -> str:
    return urllib.parse.urlencode(fields)


def sign(address: str, *, port=None, source=None, public_name=None) -> int:
    fields = {
        "full_name": f"{public_name} Drill" if public_name else "Drill Tester",
        "email": address,
        "country": "GB",
        "postcode": "SW1A 1AA",
        "consent": "on",
    }
    if public_name:
        fields["show_publicly"] = "on"
    answer = request(
        f"/petitions/{PETITION}/sign/",
        method="POST",
        body=form(fields),
        headers=site_headers({"Content-Type": "application/x-www-form-urlencoded"}),
        port=port,
        source=source,
    )
    return answer[0] if answer else 0


# -- the hosts and the balancer ----------------------------------------------


class Host:
    """One web host: scripts/serve.sh (supervisord and its programs) on its
    own port and runtime folder, sharing the database with the other."""

    def __init__(self, number: int, port: int) -> None:
        self.number = number
        self.name = f"host {number}"
        self.port = port
        self.dir = HERE / f"web{number}"
        self.socket = str(self.dir / "run" / "supervisor.sock")
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "PORT": str(self.port), "SERVE_DIR": str(self.dir)}
        log = (HERE / f"web{self.number}.log").open("ab")
        self.process = subprocess.Popen(
            [str(ROOT / "scripts" / "serve.sh")],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )

    def programs(self, field: str) -> dict:
        """One field ("statename", "pid") of each program supervisord runs."""
        return {
            info["name"]: info[field]
            for info in faults.supervisord(self.socket).supervisor.getAllProcessInfo()
        }

    def states(self) -> dict[str, str]:
        return self.programs("statename")

    def pids(self) -> dict[str, int]:
        return self.programs("pid")

    def up(self) -> bool:
        try:
            running = set(self.states().values()) == {"RUNNING"}
        except OSError:
            return False
        return running and faults.status_of("/healthz", port=self.port) == 200

    def kill(self) -> None:
        """The machine is gone: supervisord first (so nothing restarts), then
        every process under it, all with SIGKILL."""
        victims = [self.process.pid, *descendants(self.process.pid)]
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(40)
            except subprocess.TimeoutExpired:
                self.kill()


def descendants(pid: int) -> list[int]:
    found = []
    for child in faults.children_of(pid):
        found.append(int(child))
        found.extend(descendants(int(child)))
    return found


def start_balancer() -> subprocess.Popen:
    env = {
        **os.environ,
        "SERVE_DIR": str(HERE / "balancer"),
        "BALANCER_HOSTS": ",".join(f"127.0.0.1:{port}" for port in HOST_PORTS),
    }
    conf = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "render.py"), "balancer"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # -db: in the foreground, so this process owns it and stops it.
    return subprocess.Popen(
        ["haproxy", "-db", "-f", conf],
        stdout=(HERE / "balancer.log").open("ab"),
        stderr=subprocess.STDOUT,
    )


# -- 0. a signature waits for the standby --------------------------------------


def cluster_pids(socket_dir: str) -> list[int]:
    postmaster = int(
        (Path(socket_dir).parent / "data" / "postmaster.pid").read_text().split()[0]
    )
    return [postmaster, *descendants(postmaster)]


def standby_holds_every_commit() -> None:
    """Freeze the standby: a signature is then not acknowledged; thaw it: the
    answer comes. So an accepted signature is on both clusters' disks."""
    label = "0. a signature is acknowledged only once the standby has it"
    with psycopg.connect(host=PRIMARY_SOCKET_DIR, user="peru", dbname="postgres") as db:
        row = db.execute(
            "SELECT sync_state, current_setting('synchronous_commit') "
            "FROM pg_stat_replication"
        ).fetchall()
    standby = cluster_pids(str(Path(STANDBY_DIR).resolve() / "run"))
    for pid in standby:
        os.kill(pid, signal.SIGSTOP)
    answer: list[int] = []
    started = time.monotonic()
    post = threading.Thread(
        target=lambda: answer.append(
            sign(f"sync-{time.time_ns()}@example.org", source="127.0.0.96")
        )
    )
    post.start()
    post.join(3)
    waiting = post.is_alive()
    for pid in standby:
        os.kill(pid, signal.SIGCONT)
    post.join(30)
    took = time.monotonic() - started
    report(
        label,
        row == [("sync", "on")] and waiting and answer == [303],
        f"replication {row} (sync_state, synchronous_commit); with the standby "
        f"frozen the sign POST was {'still waiting' if waiting else 'ANSWERED'} "
        f"after 3 s; thawed, it answered {answer} after {took:.2f} s in all",
    )


# -- 1. limits shared by both hosts -----------------------------------------


def shared_sign_limit() -> None:
    burst = int(os.environ["SIGN_RATE_BURST"])
    source = "127.0.0.99"
    statuses = []
    for number in range(burst + 1):
        port = HOST_PORTS[number % 2]
        statuses.append(
            sign(f"limit-{time.time_ns()}@example.org", port=port, source=source)
        )
    after = [
        sign(f"limit-{time.time_ns()}@example.org", port=port, source=source)
        for port in HOST_PORTS
    ]
    ok = statuses[:burst] == [303] * burst and statuses[burst] == 429
    ok = ok and after == [429, 429]
    report(
        "1. the signing limit counts across both hosts",
        ok,
        f"{burst + 1} signatures from one address, alternating hosts: "
        f"{statuses} (limit {burst}); then one more at each host: {after}",
    )


def csrf_for(port: int, source: str) -> tuple[str, str] | None:
    answer = request("/admin/login/", headers=site_headers(), port=port, source=source)
    if not answer:
        return None
    _status, response, body = answer
    cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie") or "")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    return (cookie[1], token[1].decode()) if cookie and token else None


def shared_lockout() -> None:
    limit = int(os.environ["AXES_FAILURE_LIMIT"])
    source = "127.0.0.98"
    statuses = []
    csrf = csrf_for(HOST_PORTS[0], source)
    for number in range(limit + 3):
        port = HOST_PORTS[number % 2]
        if csrf is None:
            statuses.append(0)
            continue
        cookie, token = csrf
        answer = request(
            "/admin/login/?next=/admin/",
            method="POST",
            body=form(
                {
                    "csrfmiddlewaretoken": token,
                    "username": "drill-nobody@example.org",
                    "password": f"wrong-{number}",
                    "next": "/admin/",
                }
            ),
            headers=site_headers(
                {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Cookie": f"csrftoken={cookie}",
                }
            ),
            port=port,
            source=source,
        )
        statuses.append(answer[0] if answer else 0)
    first_lock = statuses.index(429) + 1 if 429 in statuses else None
    # Each host counting alone would let about twice the limit through.
    ok = (
        first_lock is not None
        and first_lock <= limit + 1
        and set(statuses[: first_lock - 1]) == {200}
        and set(statuses[first_lock - 1 :]) == {429}
    )
    report(
        "1. the admin lock-out counts across both hosts",
        ok,
        f"wrong passwords from one address, alternating hosts: {statuses} "
        f"(AXES_FAILURE_LIMIT {limit}); locked out from attempt "
        f"{first_lock or 'never'} on, at both hosts",
    )


# -- 2. a withdrawn name leaves both hosts' pages ---------------------------


def mail_links(address: str) -> dict[str, str] | None:
    """The confirmation and withdrawal links of the e-mail sent to address."""
    for path in faults.MAIL_DIR.glob("*.log"):
        for raw in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            message = email.message_from_bytes(raw.lstrip(b"\n"))
            if message.get("To") != address:
                continue
            for part in message.walk():
                if part.get_content_type() != "text/plain":
                    continue
                text = part.get_payload(decode=True).decode()
                links = {}
                for kind in ("confirm", "withdraw"):
                    found = re.search(rf"https?://\S+/{kind}/\?t=\S+", text)
                    if found:
                        split = urllib.parse.urlsplit(found[0])
                        links[kind] = f"{split.path}?{split.query}"
                if len(links) == 2:
                    return links
    return None


def page_shows(port: int, text: str) -> bool | None:
    path = f"/petitions/{PETITION}/"
    for _hop in range(3):
        answer = request(path, headers=site_headers(), port=port)
        if not answer:
            return None
        status, response, body = answer
        if status in (301, 302, 303, 307, 308):
            path = urllib.parse.urlsplit(response.getheader("Location")).path
            continue
        return text.encode() in body if status == 200 else None
    return None


def post_link(link: str) -> int:
    path, _, query = link.partition("?")
    token = urllib.parse.parse_qs(query)["t"][0]
    answer = request(
        path,
        method="POST",
        body=form({"t": token}),
        headers=site_headers({"Content-Type": "application/x-www-form-urlencoded"}),
    )
    return answer[0] if answer else 0


def withdrawn_name_leaves_both() -> None:
    promise = settings.PAGE_CACHE_SECONDS + settings.PUBLIC_CACHE_SECONDS
    label = "2. a withdrawn name leaves both hosts' pages"
    # A first name nobody else signs with, letters only (names are checked).
    name = "Drill" + "".join(chr(ord("a") + int(d)) for d in str(time.time_ns())[-8:])
    address = f"withdraw-{time.time_ns()}@example.org"
    status = sign(address, public_name=name, source="127.0.0.97")
    links = None
    if status == 303:
        wait_for(lambda: mail_links(address) is not None, 60)
        links = mail_links(address)
    if not links:
        report(label, False, f"signing answered {status}; no e-mail with links")
        return
    confirmed = post_link(links["confirm"])
    shown = wait_for(lambda: all(page_shows(p, name) for p in HOST_PORTS), 30)
    if confirmed != 303 or shown is None:
        report(label, False, f"confirm answered {confirmed}; name shown: {shown}")
        return
    withdrawn = post_link(links["withdraw"])
    answered = time.monotonic()
    # Per host: when the last request that still showed the name was sent,
    # and when the first that no longer did. The promise holds if no request
    # sent later than it allows still showed the name.
    last_seen = dict.fromkeys(HOST_PORTS, 0.0)
    gone_at: dict[int, float] = {}
    while time.monotonic() - answered < 30 and len(gone_at) < len(HOST_PORTS):
        for port in HOST_PORTS:
            if port in gone_at:
                continue
            asked = time.monotonic() - answered
            shows = page_shows(port, name)
            if shows is False:
                gone_at[port] = asked
            elif shows:
                last_seen[port] = asked
        time.sleep(0.05)
    kept = max(last_seen.values())
    report(
        label,
        withdrawn == 200 and len(gone_at) == len(HOST_PORTS) and kept <= promise,
        f"confirmed name shown on both after {shown:.2f} s; withdrawal answered "
        f"{withdrawn}; "
        + "; ".join(
            f"host {n + 1} last showed it to a request sent "
            f"{last_seen[port]:.2f} s after, not to one sent "
            f"{faults.secs(gone_at.get(port))} after"
            for n, port in enumerate(HOST_PORTS)
        )
        + f" (promised: gone within {promise} s)",
    )


# -- 3. one host lost ---------------------------------------------------------


def lose_a_host(signer: faults.Signer, host: Host) -> None:
    before = len(signer.accepted)
    host.kill()
    killed = time.monotonic()
    seen: dict[int, int] = {}
    while time.monotonic() - killed < 8:
        status = faults.status_of("/healthz", timeout=3)
        seen[status] = seen.get(status, 0) + 1
        time.sleep(0.1)
    after = sum(1 for at in signer.accepted_at if at > killed)
    report(
        "3. one host killed (kill -9 supervisord, nginx, gunicorn, worker, outbox)",
        after > 0 and set(seen) == {200},
        f"{before} signatures accepted before; in the 8 s after, the balancer's "
        f"/healthz answered {dict(sorted(seen.items()))} and {after} more "
        "signatures were accepted (their rows and e-mails: check 4's count)",
    )


# -- 4. the primary lost --------------------------------------------------------


def fail_over(signer: faults.Signer, hosts: list[Host]) -> None:
    pids_before = {host.name: host.pids() for host in hosts}
    for pid in cluster_pids(PRIMARY_SOCKET_DIR):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    killed = time.monotonic()
    # An operator (or a monitor) notices, and promotes: the one step by hand.
    time.sleep(2)
    subprocess.run(
        [str(ROOT / "scripts" / "localdb.sh"), "promote"],
        env={**os.environ, "LOCALDB_DIR": STANDBY_DIR},
        check=True,
    )
    promoted = time.monotonic() - killed
    answered = wait_for(lambda: faults.status_of("/healthz", timeout=3) == 200, 60)
    back = None if answered is None else promoted + answered
    signed = wait_for(
        lambda: any(at > killed + promoted for at in signer.accepted_at), 60
    )
    signed_after = None if signed is None else promoted + (answered or 0) + signed
    # Let the signer go on a while against the new primary.
    time.sleep(5)
    signer.stop.set()
    signer.join(10)
    pids_after = {host.name: host.pids() for host in hosts}
    restarted = sorted(
        f"{name}: {program}"
        for name, programs in pids_before.items()
        for program, pid in programs.items()
        if pids_after[name].get(program) != pid
    )
    running = all(set(host.states().values()) == {"RUNNING"} for host in hosts)
    report(
        "4. primary killed -9, standby promoted",
        back is not None
        and back <= RECOVERY_LIMIT
        and signed_after is not None
        and running,
        f"standby promoted {promoted:.2f} s after the kill; the balancer's "
        f"/healthz answered 200 {faults.secs(back)} after it, a signature was "
        f"accepted {faults.secs(signed_after)} after it (limit "
        f"{RECOVERY_LIMIT:.0f} s); nothing else done by hand: every program on "
        f"both hosts RUNNING, restarted by their supervisors: "
        f"{', '.join(restarted) or 'none'}",
    )
    on_new_primary(signer, hosts, promoted_at=killed + promoted)


def workers_beating_since(moment: float) -> int:
    """Job workers whose last heartbeat reached the database after moment."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM procrastinate_workers "
            "WHERE last_heartbeat > now() - make_interval(secs => %s)",
            [time.monotonic() - moment],
        )
        return cursor.fetchone()[0]


def on_new_primary(signer: faults.Signer, hosts: list[Host], promoted_at: float):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        (in_recovery,) = cursor.fetchone()
    where = connection.connection.info.host
    # Each host's job worker beats every few seconds (docs/signing.md).
    wait_for(lambda: workers_beating_since(promoted_at) >= len(hosts), 30)
    beating = workers_beating_since(promoted_at)
    report(
        "4. the site now writes to the promoted standby, the job workers too",
        where == str(Path(STANDBY_DIR).resolve() / "run")
        and not in_recovery
        and beating >= len(hosts),
        f"connected through {where}, in recovery: {in_recovery}; "
        f"{beating} job workers beat on it since the promotion "
        f"({len(hosts)} hosts)",
    )
    faults.nothing_lost(
        signer,
        label="4. every accepted signature is on the new primary with its e-mail",
    )


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peru_campaign.settings")
    django.setup()
    hosts = [Host(1, HOST_PORTS[0]), Host(2, HOST_PORTS[1])]
    balancer = None
    try:
        for host in hosts:
            host.start()
        balancer = start_balancer()
        if wait_for(lambda: all(host.up() for host in hosts), 120) is None:
            print("drill: the web hosts never came up; see web*.log", file=sys.stderr)
            return 1
        if wait_for(lambda: faults.status_of("/healthz") == 200, 30) is None:
            print("drill: the balancer never answered", file=sys.stderr)
            return 1
        print(
            f"drill: two web hosts on ports {HOST_PORTS} behind a balancer on "
            f"{PORT}, database primary with a synchronous standby",
            flush=True,
        )
        standby_holds_every_commit()
        signer = faults.Signer(sources=SIGNER_SOURCES)
        signer.start()
        shared_sign_limit()
        shared_lockout()
        withdrawn_name_leaves_both()
        lose_a_host(signer, hosts[1])
        # The lost host comes back (a new machine, or the old one rebooted).
        hosts[1].start()
        wait_for(hosts[1].up, 120)
        fail_over(signer, hosts)
    finally:
        for host in hosts:
            host.stop()
        if balancer:
            balancer.terminate()
            balancer.wait(10)
    return faults.summary("drill")


if __name__ == "__main__":
    sys.exit(main())
