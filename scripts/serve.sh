#!/usr/bin/env bash
# Serves the site in its production shape (docs/production.md):
# supervisord in the foreground runs nginx on PORT in front of gunicorn on a
# Unix socket, the background worker, and (without DATABASE_URL) the
# project-local PostgreSQL cluster, restarting any of them that dies.
# Ctrl-C (or SIGTERM) stops them all, the cluster last.
#
# SERVE_DIR (default var/serve) is the runtime folder: the rendered
# configuration, sockets, pid files, logs and nginx's cache and temporary
# files. `make bench` and `make faults` give it a folder of their own, so
# they run beside a serving `make run` in the same checkout.
# SERVE_KEEP_DB=1 leaves a running local cluster alone (make bench).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN="${BIN:-.venv/bin}"
export PORT="${PORT:-8000}" BIN
export SERVE_DIR="${SERVE_DIR:-$PWD/var/serve}"
# nginx overwrites X-Forwarded-For with the address it saw, so behind it the
# application trusts exactly one hop, whatever the environment says.
export TRUSTED_PROXY_COUNT=1
if [ -n "${DATABASE_URL:-}" ] || [ -n "${SERVE_KEEP_DB:-}" ]; then
  export SERVE_MANAGE_DB=0
else
  export SERVE_MANAGE_DB=1
fi

if ! python3 - "$PORT" <<'PY'
import socket, sys
with socket.socket() as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", int(sys.argv[1])))
    except OSError:
        sys.exit(1)
PY
then
  echo "serve: port $PORT is taken; choose another with PORT=..." >&2
  exit 1
fi

# A second serve.sh on the same folder would overwrite the first one's
# configuration and sockets; supervisord would only say that "another program
# is already listening on a port" (its own control socket). Say which.
if ! python3 - "$SERVE_DIR/run/supervisor.sock" <<'PY'
import socket, sys
with socket.socket(socket.AF_UNIX) as s:
    try:
        s.connect(sys.argv[1])
    except OSError:
        sys.exit(0)
sys.exit(1)
PY
then
  echo "serve: $SERVE_DIR is in use by a running serve.sh (its supervisord" \
    "answers on $SERVE_DIR/run/supervisor.sock); stop it, or choose another" \
    "runtime folder with SERVE_DIR=..." >&2
  exit 1
fi

conf_dir="$("$BIN/python" deploy/render.py)"

cat <<MSG

  The campaign site is running at http://127.0.0.1:$PORT/ (nginx in front of gunicorn)
  Admin: http://127.0.0.1:$PORT/admin/
  No staff login yet? In another terminal run:  make staff EMAIL=you@example.org
  (it prints a one-time password). Processes:  $BIN/supervisorctl -c $conf_dir/supervisord.conf status
  Press Ctrl-C to stop.

MSG
exec "$BIN/supervisord" -c "$conf_dir/supervisord.conf"
