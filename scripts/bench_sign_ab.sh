#!/usr/bin/env bash
# Signing, this checkout against another (a baseline commit), in one sitting:
#
#   git worktree add /tmp/baseline-sign 937784a && make -C /tmp/baseline-sign install
#   scripts/bench_sign_ab.sh /tmp/baseline-sign [ROUNDS]
#
# Both run the same gunicorn command (gunicorn alone, no nginx, no worker, so
# the queued e-mails stay in the queue to be counted), the same wrk load
# (scripts/bench_sign.lua: a new address from a new client per request) and
# the same PostgreSQL cluster (this checkout's), each in a database of its
# own. Runs alternate A/B/A/B, because the machine's other tenants move single
# figures by a tenth or more; the median of ROUNDS (3) is reported per side,
# of the rate and of the CPU time gunicorn and PostgreSQL spent per accepted
# signature (steadier: other tenants slow the rate more than they change it).
# After every run each side's own bench_support.check_signing checks that
# every accepted signature is a row with its confirmation e-mail queued.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
THIS=$(pwd)
OTHER=$(cd "${1:?usage: $0 BASELINE_CHECKOUT [ROUNDS]}" && pwd)
ROUNDS="${2:-3}"
PORT="${BENCH_PORT:-8771}"
DURATION="${BENCH_SIGN_SECONDS:-20}"
WORKERS="${WEB_CONCURRENCY:-$(($(nproc) + 1))}"
THREADS="${GUNICORN_THREADS:-4}"
export DJANGO_ENV=development TRUSTED_PROXY_COUNT=1 SITE_URL="http://127.0.0.1:$PORT"
unset DATABASE_URL
scripts/localdb.sh start
# An empty host in DATABASE_URL: libpq takes the socket directory from PGHOST.
export PGHOST
PGHOST=$(readlink -f .pgdata)/run
db_url() { echo "postgres://peru@/$1"; }
mkdir -p bench-results
out=bench-results/sign-ab.txt
: >"$out"

prepare() {  # checkout database
  LOCALDB_NAME=$2 scripts/localdb.sh start
  (cd "$1" && DATABASE_URL=$(db_url "$2") .venv/bin/python manage.py migrate --noinput -v0 \
    && DATABASE_URL=$(db_url "$2") .venv/bin/python manage.py createcachetable \
    && .venv/bin/python manage.py collectstatic --noinput -v0)
}

# CPU time (ticks) used so far by gunicorn's processes and PostgreSQL's: per
# accepted signature, the work a signature costs, which the machine's other
# tenants move far less than they move the rate.
busy_ticks() {
  local pids pid total=0 fields
  pids="$server_pid $(pgrep -P "$server_pid" || true) $(pgrep -P "$(head -1 .pgdata/data/postmaster.pid)" || true)"
  for pid in $pids; do
    fields=$(cut -d' ' -f14,15 "/proc/$pid/stat" 2>/dev/null) || continue
    total=$((total + ${fields% *} + ${fields#* }))
  done
  echo "$total"
}

server_pid=""
no_control=""
"$OTHER/.venv/bin/gunicorn" --help | grep -q -- --no-control-socket && no_control=--no-control-socket
stop_server() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null; server_pid=""; }
trap stop_server EXIT

run() {  # label checkout database run-id
  local label=$1 dir=$2 url output accepted check token="" cookie=""
  url=$(db_url "$3")
  (cd "$dir" && DATABASE_URL=$url .venv/bin/python manage.py shell -v0 \
    -c "from scripts.bench_support import reset, settle; reset(); settle()")
  (cd "$dir" && DATABASE_URL=$url exec .venv/bin/gunicorn peru_campaign.wsgi:application \
    --bind "127.0.0.1:$PORT" --workers "$WORKERS" --worker-class gthread \
    --threads "$THREADS" --keep-alive 5 --preload $no_control >>"$THIS/bench-results/sign-ab-server.log" 2>&1) &
  server_pid=$!
  for _ in $(seq 1 60); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.5; done
  # A checkout that still wants CSRF tokens (the baseline) gets one.
  local jar
  jar=$(mktemp)
  token=$(curl -fs -c "$jar" "http://127.0.0.1:$PORT/petitions/bench/" \
    | grep -o 'name="csrfmiddlewaretoken" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//' || true)
  cookie=$(awk '$6 == "csrftoken" {print $7}' "$jar")
  rm -f "$jar"
  export BENCH_CSRF_TOKEN=$token BENCH_CSRF_COOKIE=$cookie BENCH_SIGN_PATH=/petitions/bench/sign/
  # Warm-up (imports, connections, prepared statements), then start clean.
  BENCH_RUN="$4-warm" wrk -t2 -c16 -d3s --timeout 10s -s scripts/bench_sign.lua "http://127.0.0.1:$PORT" >/dev/null
  (cd "$dir" && DATABASE_URL=$url .venv/bin/python manage.py shell -v0 \
    -c "from scripts.bench_support import reset; reset()")
  local busy_before busy_after
  busy_before=$(busy_ticks)
  output=$(BENCH_RUN="$4" wrk -t2 -c16 -d"${DURATION}s" --timeout 10s -s scripts/bench_sign.lua "http://127.0.0.1:$PORT")
  busy_after=$(busy_ticks)
  stop_server
  accepted=$(awk '/^ACCEPTED/ {print $2}' <<<"$output")
  check=$(cd "$dir" && DATABASE_URL=$url .venv/bin/python manage.py shell -v0 \
    -c "from scripts.bench_support import check_signing; check_signing($accepted)")
  printf '%-9s %6.0f accepted/s %6.2f CPU ms each  %s  %s\n' "$label" \
    "$(python3 -c "print($accepted / $DURATION)")" \
    "$(python3 -c "print(1000 * ($busy_after - $busy_before) / $(getconf CLK_TCK) / max(1, $accepted))")" \
    "$(grep ^ACCEPTED <<<"$output")" "$check" | tee -a "$out"
}

prepare "$OTHER" peru_campaign_signab_base
prepare "$THIS" peru_campaign_signab_this
stamp=$(date +%s)
for round in $(seq 1 "$ROUNDS"); do
  run baseline "$OTHER" peru_campaign_signab_base "$stamp-b$round"
  run this "$THIS" peru_campaign_signab_this "$stamp-t$round"
done
python3 - "$out" "$DURATION" <<'PY' | tee -a "$out"
import statistics, sys
rates, costs = {}, {}
for line in open(sys.argv[1]):
    fields = line.split()
    rates.setdefault(fields[0], []).append(float(fields[1]))
    costs.setdefault(fields[0], []).append(float(fields[3]))
base, this = statistics.median(rates["baseline"]), statistics.median(rates["this"])
print(f"median accepted/s: baseline {base:.0f}, this checkout {this:.0f}: {this / base:.2f}x")
base, this = statistics.median(costs["baseline"]), statistics.median(costs["this"])
print(
    f"median CPU ms per signature (gunicorn + PostgreSQL): baseline {base:.2f}, "
    f"this checkout {this:.2f}: {base / this:.2f}x less"
)
PY
grep -q "LOST" "$out" && { echo "LOST SIGNATURES" >&2; exit 1; }
exit 0
