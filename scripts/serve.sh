#!/usr/bin/env bash
# Serve the site with gunicorn and run the background worker beside it.
# Ctrl-C stops both, and the project-local PostgreSQL cluster if we started one.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN="${BIN:-.venv/bin}"
PORT="${PORT:-8000}"
# Threaded workers keep HTTP connections alive and overlap database waits;
# measured with `make bench`, 3 processes x 4 threads beat 5 sync workers on
# 2 cores by about half as much again.
WORKERS="${WEB_CONCURRENCY:-$(( $(nproc) + 1 ))}"
THREADS="${GUNICORN_THREADS:-4}"

cleanup() {
  trap - INT TERM EXIT
  [ -n "${housekeeping_pid:-}" ] && kill "$housekeeping_pid" 2>/dev/null
  [ -n "${worker_pid:-}" ] && kill "$worker_pid" 2>/dev/null && wait "$worker_pid" 2>/dev/null
  [ -n "${web_pid:-}" ] && kill "$web_pid" 2>/dev/null && wait "$web_pid" 2>/dev/null
  if [ -z "${DATABASE_URL:-}" ] && [ -z "${SERVE_KEEP_DB:-}" ]; then scripts/localdb.sh stop; fi
}
trap cleanup INT TERM EXIT

"$BIN/python" manage.py procrastinate worker &
worker_pid=$!

# Housekeeping the privacy notice promises (see purge_expired_data), hourly.
( while sleep 3600; do
    "$BIN/python" manage.py purge_expired_data
  done ) &
housekeeping_pid=$!

"$BIN/gunicorn" peru_campaign.wsgi:application \
  --bind "127.0.0.1:$PORT" --workers "$WORKERS" \
  --worker-class gthread --threads "$THREADS" --keep-alive 5 --graceful-timeout 10 \
  --access-logfile - --access-logformat '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(L)ss' &
web_pid=$!

cat <<MSG

  The campaign site is running at http://127.0.0.1:$PORT/
  Admin: http://127.0.0.1:$PORT/admin/
  No staff login yet? In another terminal run:  make staff EMAIL=you@example.org
  (it prints a one-time password). Press Ctrl-C to stop.

MSG
wait -n "$worker_pid" "$web_pid"
