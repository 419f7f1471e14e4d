#!/usr/bin/env bash
# `make faults`: starts the production shape (scripts/serve.sh) on a spare
# port with a PostgreSQL cluster, database, runtime folder and mailbox of its
# own (all under var/faults/, git-ignored), breaks it as issue 10 describes
# (scripts/faults.py: kill -9, a database outage, idle and slowloris
# connections, signatures posted throughout) and prints PASS/FAIL for each.
# Exits non-zero if any scenario fails. Stops everything it started.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=.venv/bin
PORT="${FAULTS_PORT:-8690}"
here="$PWD/var/faults"

if ! python3 -c "
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $PORT))" 2>/dev/null; then
  echo "faults: port $PORT is taken; choose another with FAULTS_PORT=..." >&2
  exit 1
fi

unset DATABASE_URL SERVE_KEEP_DB
export DJANGO_ENV=development PORT
export LOCALDB_DIR="$here/pgdata" LOCALDB_NAME=peru_campaign_faults
export SERVE_DIR="$here/serve"
export SITE_URL="http://127.0.0.1:$PORT"
# A mailbox to count the confirmation e-mails in.
export EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend
export EMAIL_FILE_PATH="$here/mail"
# Every request comes from 127.0.0.1 here; the rate limits are not under test.
export SIGN_RATE_BURST=1000000 SIGN_RATE_SUSTAINED=1000000
rm -rf "$EMAIL_FILE_PATH" && mkdir -p "$EMAIL_FILE_PATH" "$here"
log="$here/server.log"

scripts/localdb.sh start
"$BIN/python" manage.py migrate --noinput -v0
"$BIN/python" manage.py createcachetable
"$BIN/python" manage.py load_campaign_content -v0 >/dev/null
"$BIN/python" manage.py collectstatic --noinput -v0

scripts/serve.sh >"$log" 2>&1 &
server=$!
stop_server() {
  kill -TERM "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  scripts/localdb.sh stop >/dev/null
}
trap stop_server EXIT
export FAULTS_SUPERVISOR_SOCKET="$SERVE_DIR/run/supervisor.sock"
status=0
"$BIN/python" scripts/faults.py || status=$?
echo "faults: server log in $log"
exit "$status"
