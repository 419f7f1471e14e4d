#!/usr/bin/env bash
# `make bench`: the hot paths measured against the site started as `make run`
# starts it (scripts/serve.sh), with wrk as the load generator on the same
# machine. Absolute figures move ±2x between machines and between minutes of
# a shared one, so every figure is reported beside a ceiling measured in the
# same run through the same server:
#
#   pages (petition in English and Spanish, home, JSON), at 0 signatures and
#     at BENCH_SEED_SIGNATURES: beside a static file of the same size;
#   signing: beside a minimal Django view that stores one row
#     (scripts/bench_urls.py), then a check that every accepted signature is
#     a row with its confirmation e-mail due or sent, and the e-mails' p99
#     from the row to sent (petitions.outbox);
#   freshness: a confirmation through the server, and how long until the
#     JSON, the petition page and the home page show it;
#   the delivery-list export of BENCH_EXPORT_ROWS rows beside PostgreSQL's COPY.
#
# Whatever answers on the port is what is measured: gunicorn alone, nginx in
# front once serve.sh starts it, or, with NGINX=1, the micro-caching nginx of
# scripts/bench_nginx.conf on the port with gunicorn on the next one. The bench refuses to start if the
# port is already taken, and fails on any response that is not 2xx/3xx.
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
EXPORT_ROWS="${BENCH_EXPORT_ROWS:-1000000}"
# "all", or "signing" for the signing run and its e-mails alone (iterating on
# the sign path without the pages, the seeding and the exports).
PARTS="${BENCH_PARTS:-all}"
case "$PARTS" in all | signing) ;; *) echo "bench: BENCH_PARTS is all or signing, not $PARTS" >&2; exit 1 ;; esac
CLIENTS=16
BASE="http://127.0.0.1:$PORT"
NGINX="${NGINX:-0}"
SERVE_PORT=$PORT
export DJANGO_ENV=development
export LOCALDB_NAME=peru_campaign_bench
# wrk's X-Forwarded-For is the client; nginx appends one more hop.
export TRUSTED_PROXY_COUNT=1
# wrk signs from a new address per request (X-Forwarded-For); nginx believes
# it from this machine only during the bench.
export NGINX_REAL_IP_FROM=127.0.0.1
if [ "$NGINX" = 1 ]; then
  SERVE_PORT=$((PORT + 1))
  export TRUSTED_PROXY_COUNT=2
fi
export SITE_URL="$BASE"
# A runtime folder of its own (scripts/serve.sh), so the bench runs beside a
# serving `make run` in the same checkout.
export SERVE_DIR="$PWD/var/bench"
if [ -n "${BENCH_DATABASE_URL:-}" ]; then export DATABASE_URL="$BENCH_DATABASE_URL"; else unset DATABASE_URL; fi
scripts/system-packages.sh bench
mkdir -p bench-results
log=bench-results/server.log
out=bench-results/latest.txt
failures=()
non2xx=bench-results/non2xx.txt
: >"$non2xx"

for port in $PORT $SERVE_PORT; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "bench: port $port is already in use; stop that server or set BENCH_PORT." >&2
    exit 1
  fi
done

[ -z "${DATABASE_URL:-}" ] && scripts/localdb.sh start
manage() { "$BIN/python" manage.py "$@"; }
manage migrate --noinput -v0
manage createcachetable
manage load_campaign_content -v0 >/dev/null
manage collectstatic --noinput -v0
manage shell -v0 -c "from scripts.bench_support import reset, settle; reset(); settle()"

pages=(/petitions/bench/ /es/petitions/bench/ / /petitions/bench.json)
# As browsers ask for them (Accept-Encoding: gzip), beside a file of the
# compressed size.
gzip_pages=(/petitions/bench/ /)
declare -A ceiling_url gzip_ceiling_url
while read -r path size url; do
  ceiling_url[$path]=$url
done < <(manage shell -v0 -c "from scripts.bench_support import write_ceiling_files; write_ceiling_files('${pages[*]}'.split())")
while read -r path size url; do
  gzip_ceiling_url[$path]=$url
done < <(manage shell -v0 -c "from scripts.bench_support import write_ceiling_files; write_ceiling_files('${gzip_pages[*]}'.split(), compressed=True)")

# The ceiling view for signing lives in scripts/bench_urls.py.
DJANGO_SETTINGS_MODULE=scripts.bench_settings SERVE_KEEP_DB=1 PORT="$SERVE_PORT" BIN="$BIN" \
  scripts/serve.sh >"$log" 2>&1 &
server_pid=$!
nginx_prefix=""
stop_servers() {
  [ -n "$nginx_prefix" ] && env -u NGINX nginx -p "$nginx_prefix" -c "$nginx_prefix/nginx.conf" -s stop 2>/dev/null
  kill $server_pid 2>/dev/null; wait $server_pid 2>/dev/null || true
}
trap stop_servers EXIT
if [ "$NGINX" = 1 ]; then
  nginx_prefix=$SERVE_DIR/front
  rm -rf "$nginx_prefix" && mkdir -p "$nginx_prefix"
  sed -e "s|@PORT@|$PORT|; s|@UPSTREAM@|127.0.0.1:$SERVE_PORT|; s|@STATIC_ROOT@|$(pwd)/staticfiles|; s|@PREFIX@|$nginx_prefix|g" \
    scripts/bench_nginx.conf >"$nginx_prefix/nginx.conf"
  # nginx reads NGINX as inherited sockets: never pass ours on.
  env -u NGINX nginx -p "$nginx_prefix" -c "$nginx_prefix/nginx.conf"
fi
# Up means five answers in a row: while gunicorn and its spare boot, nginx
# may answer one request and refuse the next (502).
up=0
for _ in $(seq 1 120); do
  if curl -fs "$BASE/healthz" >/dev/null; then up=$((up + 1)); else up=0; fi
  [ "$up" -ge 5 ] && break
  sleep 0.25
done
server=$(curl -s -D - -o /dev/null "$BASE/healthz" | awk -F': ' 'tolower($1) == "server" {print $2}' | tr -d '\r')

# One wrk run; any non-2xx/3xx response fails the bench.
run_wrk() {  # path [wrk options]
  local path=$1 output
  shift
  output=$(wrk -t2 -c"$CLIENTS" -d"${DURATION_PAGE}s" "$@" "$BASE$path")
  if grep -q "Non-2xx or 3xx" <<<"$output"; then
    # run in a subshell: the failure goes through a file.
    echo "$path: $(grep 'Non-2xx' <<<"$output" | tr -s ' ')" >>"$non2xx"
  fi
  awk '/Requests\/sec/ {print $2}' <<<"$output"
}

# A page and its ceiling, best of two runs each after a warm-up, taken in
# turn (page, file, page, file): the machine's other tenants move single runs
# by a tenth or more, and in turn a slow minute weighs on both sides.
declare -a page_lines
measure_pair() {  # label shown-path page-path ceiling-url [wrk options for the page]
  local label=$1 shown=$2 path=$3 ceiling=$4 page=0 static=0 rate
  shift 4
  wrk -t2 -c"$CLIENTS" -d3s "$@" "$BASE$path" >/dev/null
  wrk -t2 -c"$CLIENTS" -d3s "$BASE$ceiling" >/dev/null
  for _ in 1 2; do
    rate=$(run_wrk "$path" "$@")
    page=$(python3 -c "print(max($page, $rate))")
    rate=$(run_wrk "$ceiling")
    static=$(python3 -c "print(max($static, $rate))")
  done
  page_lines+=("$(printf '%-26s %-22s %8.0f/s  static same size %8.0f/s  %3.0f%%' \
    "$shown" "$label" "$page" "$static" "$(python3 -c "print(100 * $page / $static)")")")
  echo "   ${page_lines[-1]}"
}

measure_pages() {
  local label=$1 path
  for path in "${pages[@]}"; do
    measure_pair "$label" "$path" "$path" "${ceiling_url[$path]}"
  done
  for path in "${gzip_pages[@]}"; do
    measure_pair "$label" "$path gzip" "$path" "${gzip_ceiling_url[$path]}" \
      -H "Accept-Encoding: gzip"
  done
}

[ "$NGINX" = 1 ] && server="nginx micro-cache (scripts/bench_nginx.conf) + gunicorn"
if [ "$PARTS" = all ]; then
  echo "== pages, 0 signatures ($server)"
  measure_pages "0 signatures"
fi

echo "== signing, ${DURATION_SIGN}s, $CLIENTS clients, beside a one-row insert view"
export BENCH_RUN=$(date +%s)
sign() {
  # A long timeout: on a busy machine a slow answer is still an answer.
  BENCH_SIGN_PATH=$1 wrk -t2 -c"$CLIENTS" -d"${DURATION_SIGN}s" --timeout 10s \
    -s scripts/bench_sign.lua "$BASE"
}
ceiling_output=$(sign /bench/insert/)
ceiling_accepted=$(awk '/^ACCEPTED/ {print $2}' <<<"$ceiling_output")
BENCH_RUN=$((BENCH_RUN + 1))
sign_output=$(sign /petitions/bench/sign/)
accepted=$(awk '/^ACCEPTED/ {print $2}' <<<"$sign_output")
# Refused: answered with anything but 303. Socket errors and timeouts are
# reported; check_signing below finds any signature they lost.
refused=$(awk '/^ACCEPTED/ {print $4}' <<<"$sign_output")
sign_errors=$(awk '/^ACCEPTED/ {print $6}' <<<"$sign_output")
ceiling_refused=$(awk '/^ACCEPTED/ {print $4}' <<<"$ceiling_output")
[ "$refused" -eq 0 ] || failures+=("signing: $refused requests refused or failed")
[ "$ceiling_refused" -eq 0 ] || failures+=("ceiling view: $ceiling_refused requests refused or failed")
sign_rate=$(python3 -c "print(f'{$accepted / $DURATION_SIGN:.0f}')")
ceiling_rate=$(python3 -c "print(f'{$ceiling_accepted / $DURATION_SIGN:.0f}')")
sign_ratio=$(python3 -c "print(f'{100 * $accepted / max(1, $ceiling_accepted):.0f}')")
echo "   signing $sign_rate/s, one-row insert view $ceiling_rate/s ($sign_ratio%)"
check=$(manage shell -v0 -c "from scripts.bench_support import check_signing; check_signing($accepted)")
echo "   $check"
grep -q "zero lost" <<<"$check" || failures+=("signing: $check")
echo "== confirmation e-mails at that rate: signature row to e-mail sent"
latency=$(manage shell -v0 -c "from scripts.bench_support import email_latency; email_latency()")
echo "   $latency"
grep -q "within" <<<"$latency" || failures+=("e-mail latency: $latency")

fresh="not measured (BENCH_PARTS=$PARTS)"
export_output=""
if [ "$PARTS" = all ]; then
  echo "== freshness: a confirmation until the JSON, the page and the home page show it"
  fresh=$(manage shell -v0 -c "from scripts.bench_support import freshness; freshness('$BASE')")
  echo "   $fresh"
  grep -q "NOT SHOWN" <<<"$fresh" && failures+=("freshness: $fresh")

  echo "== waiting for the outbox to send the e-mails"
  manage shell -v0 -c "from scripts.bench_support import wait_for_email_queue; wait_for_email_queue()"
  echo "== seeding $SEED confirmed signatures"
  manage shell -v0 -c "from scripts.bench_support import seed; seed($SEED)"
  echo "== pages, $SEED signatures"
  measure_pages "$SEED signatures"
fi

stop_servers
trap - EXIT

if [ "$PARTS" = all ]; then
  echo "== delivery-list export, $EXPORT_ROWS rows"
  export_status=0
  export_output=$("$BIN/python" scripts/bench_export.py --rows "$EXPORT_ROWS") || export_status=$?
  echo "$export_output"
  [ "$export_status" -eq 0 ] || failures+=("export: a target was missed")
fi

while read -r line; do failures+=("$line"); done <"$non2xx"

{
  echo "Benchmark on $(nproc) cores, $(date -u +%Y-%m-%d), server: ${server:-unknown}, gunicorn ${WEB_CONCURRENCY:-$(( $(nproc) + 1 ))} gthread workers x ${GUNICORN_THREADS:-4} threads, wrk -t2 -c$CLIENTS, best of 2 x ${DURATION_PAGE}s"
  printf '%s\n' "${page_lines[@]}"
  echo "signing (${DURATION_SIGN}s): $sign_rate accepted/s beside a one-row insert view at $ceiling_rate/s ($sign_ratio%), $sign_errors socket errors or timeouts; $check"
  echo "confirmation e-mails at the signing rate: $latency"
  echo "freshness after a confirmation: $fresh"
  grep -E "COPY|export_csv|export_signatures|Ratio|Dashboard" <<<"$export_output" || true
  for failure in "${failures[@]}"; do echo "FAILED: $failure"; done
} | tee "$out"
[ "$PARTS" = all ] && "$BIN/python" scripts/bench_newsletter.py | tee -a "$out"  # the newsletter part
# Signing against a baseline checkout (main before encryption at rest, say),
# when BENCH_SIGN_BASELINE names one: target at least 0.9 of its rate.
if [ -n "${BENCH_SIGN_BASELINE:-}" ]; then
  scripts/bench_sign_ab.sh "$BENCH_SIGN_BASELINE" | tee -a "$out"
fi
[ ${#failures[@]} -eq 0 ]
