#!/usr/bin/env bash
# `make bench`: the hot paths measured against gunicorn started as `make run`
# starts it (scripts/serve.sh: gunicorn workers plus the e-mail worker), with
# wrk as the load generator on the same 2-core machine.
#
#   1. the petition page at 0 signatures, 16 concurrent clients, in English
#      and in Spanish (/es/);
#   2. signing for 20 s from 16 concurrent clients, then a check that every
#      accepted signature is a row with its confirmation e-mail queued;
#   3. the petition page again at 1,000,000 confirmed signatures;
#   4. the delivery-list export of those 1,000,000 rows beside PostgreSQL's COPY.
#
# It uses its own database (peru_campaign_bench) in the project-local cluster,
# or BENCH_DATABASE_URL if set. Results go to bench-results/latest.txt.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=.venv/bin
PORT="${BENCH_PORT:-8765}"
DURATION_PAGE="${BENCH_PAGE_SECONDS:-10}"
DURATION_SIGN="${BENCH_SIGN_SECONDS:-20}"
SEED="${BENCH_SEED_SIGNATURES:-1000000}"
BASE="http://127.0.0.1:$PORT"
export DJANGO_ENV=development
export LOCALDB_NAME=peru_campaign_bench
export TRUSTED_PROXY_COUNT=1
# wrk signs from a new address per request (X-Forwarded-For); nginx believes
# it from this machine only during the bench.
export NGINX_REAL_IP_FROM=127.0.0.1
export SITE_URL="$BASE"
if [ -n "${BENCH_DATABASE_URL:-}" ]; then export DATABASE_URL="$BENCH_DATABASE_URL"; else unset DATABASE_URL; fi
for tool in wrk curl; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install $tool)" >&2; exit 1; }
done
mkdir -p bench-results
log=bench-results/server.log
out=bench-results/latest.txt

[ -z "${DATABASE_URL:-}" ] && scripts/localdb.sh start
manage() { "$BIN/python" manage.py "$@"; }
manage migrate --noinput -v0
manage createcachetable
manage load_campaign_content -v0 >/dev/null
manage collectstatic --noinput -v0
manage shell -v0 -c "from scripts.bench_support import reset, settle; reset(); settle()"

SERVE_KEEP_DB=1 PORT="$PORT" BIN="$BIN" scripts/serve.sh >"$log" 2>&1 &
server_pid=$!
trap 'kill $server_pid 2>/dev/null; wait $server_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do curl -fs "$BASE/healthz" >/dev/null && break; sleep 0.5; done

# Best of two runs after a warm-up: the machine's other tenants make single
# runs vary by a tenth or more.
page_rate() {
  local path="${1:-/petitions/bench/}"
  wrk -t2 -c16 -d5s "$BASE$path" >/dev/null  # warm up
  for _ in 1 2; do
    wrk -t2 -c16 -d"${DURATION_PAGE}s" "$BASE$path" \
      | awk '/Requests\/sec/ {print $2} /Non-2xx/ {print "NON2XX " $NF > "/dev/stderr"}'
  done | sort -n | tail -n 1
}

echo "== petition page, 0 signatures"
page_zero=$(page_rate)
echo "   $page_zero requests/s"
echo "== petition page in Spanish, 0 signatures"
page_zero_es=$(page_rate /es/petitions/bench/)
echo "   $page_zero_es requests/s"

echo "== signing, ${DURATION_SIGN}s, 16 clients"
cookie_jar=$(mktemp)
curl -fs -c "$cookie_jar" "$BASE/petitions/bench/" >"$cookie_jar.html"
export BENCH_CSRF_COOKIE=$(awk '$6 == "csrftoken" {print $7}' "$cookie_jar")
export BENCH_CSRF_TOKEN=$(grep -o 'name="csrfmiddlewaretoken" value="[^"]*"' "$cookie_jar.html" | cut -d'"' -f4)
export BENCH_RUN=$(date +%s)
export BENCH_SIGN_PATH=/petitions/bench/sign/
sign_output=$(wrk -t2 -c16 -d"${DURATION_SIGN}s" -s scripts/bench_sign.lua "$BASE")
accepted=$(echo "$sign_output" | awk '/^ACCEPTED/ {print $2}')
refused=$(echo "$sign_output" | awk '/^ACCEPTED/ {print $4}')
sign_rate=$(python3 -c "print(f'{$accepted / $DURATION_SIGN:.0f}')")
echo "   $accepted accepted ($sign_rate/s), $refused refused"
check=$(manage shell -v0 -c "from scripts.bench_support import check_signing; check_signing($accepted)")
echo "   $check"

echo "== waiting for the worker to send the queued e-mails"
manage shell -v0 -c "from scripts.bench_support import wait_for_email_queue; wait_for_email_queue()"
echo "== seeding $SEED confirmed signatures"
manage shell -v0 -c "from scripts.bench_support import seed; seed($SEED)"
echo "== petition page, $SEED signatures"
page_million=$(page_rate)
ratio=$(python3 -c "print(f'{100 * $page_million / $page_zero:.0f}')")
echo "   $page_million requests/s ($ratio% of the rate at 0)"

kill $server_pid 2>/dev/null; wait $server_pid 2>/dev/null || true
trap - EXIT

export_line=""
if [ -f scripts/bench_export.py ]; then
  echo "== delivery-list export, $SEED rows"
  export_line=$("$BIN/python" scripts/bench_export.py | tee /dev/stderr | grep -E "COPY|export_signatures|Ratio|Dashboard")
fi

{
  echo "Benchmark on $(nproc) cores, $(date -u +%Y-%m-%d), gunicorn ${WEB_CONCURRENCY:-$(( $(nproc) + 1 ))} gthread workers x ${GUNICORN_THREADS:-4} threads, wrk -t2 -c16"
  echo "petition page, 0 signatures:        $page_zero requests/s (best of 2 x ${DURATION_PAGE}s)"
  echo "same page in Spanish (/es/):         $page_zero_es requests/s"
  echo "signing (${DURATION_SIGN}s, 16 clients):       $sign_rate accepted/s ($accepted accepted, $refused refused) - $check"
  echo "petition page, $SEED signatures: $page_million requests/s ($ratio% of the rate at 0)"
  [ -n "$export_line" ] && echo "$export_line"
} | tee "$out"
"$BIN/python" scripts/bench_newsletter.py | tee -a "$out"  # the newsletter part
