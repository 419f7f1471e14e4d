#!/usr/bin/env bash
# `make failover-drill` (also run by `make faults`): two web hosts behind a
# load balancer, on a primary PostgreSQL with a synchronous standby, all
# under var/drill/ (git-ignored) on ports DRILL_PORT (the balancer) and the
# two after it (the hosts). Builds the clusters and the database here, then
# scripts/hosts_drill.py starts the hosts and the balancer, breaks them and
# prints PASS/FAIL per check. Exits non-zero on any failure. Stops everything
# it started, and runs beside a serving `make run` in the same checkout.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=.venv/bin
PORT="${DRILL_PORT:-8790}"
here="$PWD/var/drill"

for port in "$PORT" $((PORT + 1)) $((PORT + 2)); do
  if ! python3 -c "
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $port))" 2>/dev/null; then
    echo "drill: port $port is taken; choose others with DRILL_PORT=... (it uses" \
      "DRILL_PORT and the two after it)" >&2
    exit 1
  fi
done

primary="$here/db1" standby="$here/db2"
stop_clusters() {
  LOCALDB_DIR="$primary" scripts/localdb.sh stop >/dev/null 2>&1 || true
  LOCALDB_DIR="$standby" scripts/localdb.sh stop >/dev/null 2>&1 || true
}
# A run that was itself killed may have left its clusters running.
stop_clusters
rm -rf "$here"
mkdir -p "$here/mail"
trap stop_clusters EXIT

unset SERVE_KEEP_DB
export DJANGO_ENV=development PORT DRILL_DIR="$here"
export LOCALDB_NAME=peru_campaign_drill
LOCALDB_DIR="$primary" scripts/localdb.sh start
LOCALDB_DIR="$standby" scripts/localdb.sh standby "$primary"
socket_dir() { echo "$(readlink -f "$1")/run"; }
export DRILL_PRIMARY_SOCKET_DIR="$(socket_dir "$primary")" DRILL_STANDBY_DIR="$standby"
# Both hosts of the database, as production names them (docs/operations.md):
# libpq tries them in turn and keeps the one that takes writes.
DATABASE_URL="$(python3 -c "
import sys, urllib.parse as u
hosts = ','.join(u.quote(h, safe='') + ':5432' for h in sys.argv[1:])
print(f'postgresql://peru@{hosts}/$LOCALDB_NAME?target_session_attrs=read-write')
" "$(socket_dir "$primary")" "$(socket_dir "$standby")")"
export DATABASE_URL
unset LOCALDB_DIR

export SITE_URL="http://127.0.0.1:$PORT"
export EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend
export EMAIL_FILE_PATH="$here/mail"
# Limits low enough to reach in a few requests; the background signer takes
# turns with hundreds of addresses, far below them.
export SIGN_RATE_BURST=4 AXES_FAILURE_LIMIT=3
# The hosts' nginx believe X-Forwarded-For from the balancer alone.
export NGINX_REAL_IP_FROM=127.0.0.1
# Two hosts on one small machine: fewer gunicorn workers each.
export WEB_CONCURRENCY="${WEB_CONCURRENCY:-2}"
export FAULTS_SUPERVISOR_SOCKET="$here/web1/run/supervisor.sock"

"$BIN/python" manage.py migrate --noinput -v0
"$BIN/python" manage.py createcachetable
"$BIN/python" manage.py load_campaign_content -v0 >/dev/null
"$BIN/python" manage.py collectstatic --noinput -v0

echo "drill: logs in $here (web1.log, web2.log, balancer.log, db1/, db2/)"
# The Python script's summary stays the last line.
status=0
PYTHONPATH="$PWD" "$BIN/python" scripts/hosts_drill.py || status=$?
exit "$status"
