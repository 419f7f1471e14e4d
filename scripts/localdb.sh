#!/usr/bin/env bash
# A project-local PostgreSQL cluster for development, tests and benchmarks.
#
# Used only when DATABASE_URL is unset. The data lives in .pgdata/ (git-ignored)
# and the server listens on a Unix socket only (no TCP), with the socket
# readable by its owner alone. initdb refuses to run as root, so when we are
# root the cluster belongs to an unprivileged system user instead.
#
#   scripts/localdb.sh start   create the cluster on first use, then start it
#   scripts/localdb.sh stop    stop it (no-op when it is not running)
#   scripts/localdb.sh status
#   scripts/localdb.sh run     the server in the foreground, for a supervisor
#                              (scripts/serve.sh); logs go to server.log
#   scripts/localdb.sh standby PRIMARY_DIR
#                              a streaming standby of the cluster in
#                              PRIMARY_DIR (another LOCALDB_DIR), copied with
#                              pg_basebackup -R, then started; the primary is
#                              switched to synchronous commit once it streams
#   scripts/localdb.sh promote the standby becomes a primary (pg_ctl promote)
#
# LOCALDB_DIR moves the cluster elsewhere (`make faults` uses its own, so it can
# stop and start PostgreSQL without touching this checkout's usual one).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root_dir="${LOCALDB_DIR:-$here/.pgdata}"
data_dir="$root_dir/data"
sock_dir="$root_dir/run"
log_file="$root_dir/server.log"
db_name="${LOCALDB_NAME:-peru_campaign}"
db_user="peru"

find_bin() {
  local name="$1" candidate
  if command -v "$name" >/dev/null 2>&1 && [ "$(command -v "$name")" != "/usr/bin/$name" ]; then
    command -v "$name"; return
  fi
  # Debian keeps the server binaries off PATH; take the newest version installed.
  for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$candidate/$name" ]; then echo "$candidate/$name"; return; fi
  done
  command -v "$name" 2>/dev/null || { echo "localdb: $name not found; install PostgreSQL (apt-get install postgresql)" >&2; exit 1; }
}

run_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u "$owner" -- "$@")
  else
    "$@"
  fi
}

pick_owner() {
  if [ "$(id -u)" -ne 0 ]; then owner="$(id -un)"; return; fi
  owner="postgres"
  if ! id "$owner" >/dev/null 2>&1; then
    useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin "$owner"
  fi
  # The server must reach its data directory through every parent folder. A
  # checkout under a private folder (such as /root) is out of its reach, so
  # the cluster then lives under /var/tmp and .pgdata is a link to it.
  if ! runuser -u "$owner" -- test -x "$here" && [ ! -e "$root_dir" ]; then
    local outside="/var/tmp/peru-campaign-pgdata-$(printf '%s' "$root_dir" | md5sum | cut -c1-12)"
    mkdir -p "$outside"
    chown "$owner" "$outside"
    ln -s "$outside" "$root_dir"
  fi
  if [ -L "$root_dir" ]; then
    # Give the server real paths, so it never walks through the checkout.
    local real_root
    real_root="$(readlink -f "$root_dir")"
    data_dir="$real_root/data"
    sock_dir="$real_root/run"
    log_file="$real_root/server.log"
    root_dir="$real_root"
  fi
}

# What the server may write to its log: never a supporter's data. An error
# names its constraint only: "terse" drops the DETAIL line, which quotes the
# key (an e-mail address, on a duplicate), and "panic" keeps the failing
# statement's text out; no statement, duration or parameter is ever logged.
# Written at every start and reloaded, so an older cluster takes it too.
write_log_privacy() {
  cat >"$data_dir/log_privacy.conf" <<CONF
# Written by scripts/localdb.sh at every start: edit it there.
log_error_verbosity = terse
log_min_error_statement = panic
log_statement = 'none'
log_min_duration_statement = -1
log_min_duration_sample = -1
log_statement_sample_rate = 0
log_transaction_sample_rate = 0
log_parameter_max_length = 0
log_parameter_max_length_on_error = 0
log_lock_waits = off
CONF
  chown "$owner" "$data_dir/log_privacy.conf" 2>/dev/null || true
  if ! grep -q "^include_if_exists = 'log_privacy.conf'" "$data_dir/postgresql.conf"; then
    echo "include_if_exists = 'log_privacy.conf'" >>"$data_dir/postgresql.conf"
  fi
}

is_running() {
  [ -f "$data_dir/postmaster.pid" ] && run_as_owner "$pg_ctl" -D "$data_dir" status >/dev/null 2>&1
}

start() {
  pick_owner
  mkdir -p "$root_dir"
  if [ ! -f "$data_dir/PG_VERSION" ]; then
    echo "localdb: creating a PostgreSQL cluster in $data_dir"
    mkdir -p "$data_dir" "$sock_dir"
    chown "$owner" "$root_dir" "$data_dir" "$sock_dir" 2>/dev/null || true
    chmod 700 "$data_dir"
    run_as_owner "$initdb" --pgdata="$data_dir" --username="$db_user" --auth=trust \
      --encoding=UTF8 --locale=C.UTF-8 >"$root_dir/initdb.log" 2>&1 \
      || { cat "$root_dir/initdb.log" >&2; exit 1; }
    cat >>"$data_dir/postgresql.conf" <<CONF
# project-local cluster: Unix socket only, sized for a 2-core development machine
listen_addresses = ''
unix_socket_directories = '$sock_dir'
unix_socket_permissions = 0700
max_connections = 200
shared_buffers = 256MB
work_mem = 16MB
maintenance_work_mem = 256MB
CONF
  fi
  archiving
  mkdir -p "$sock_dir"
  chown "$owner" "$sock_dir" 2>/dev/null || true
  write_log_privacy
  if ! is_running; then
    run_as_owner "$pg_ctl" -D "$data_dir" -l "$log_file" -w -t 60 start >/dev/null \
      || { tail -n 20 "$log_file" >&2; exit 1; }
  else
    run_as_owner "$pg_ctl" -D "$data_dir" reload >/dev/null
  fi
  if ! "$psql" -h "$sock_dir" -U "$db_user" -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = '$db_name'" | grep -q 1; then
    "$psql" -h "$sock_dir" -U "$db_user" -d postgres -qc "CREATE DATABASE $db_name"
  fi
  if command -v pgbackrest >/dev/null 2>&1; then
    # archive_mode is read at start only: a server started before archiving
    # was set up restarts once to take it.
    if [ "$("$psql" -h "$sock_dir" -U "$db_user" -d postgres -tAc 'SHOW archive_mode')" = off ]; then
      run_as_owner "$pg_ctl" -D "$data_dir" -l "$log_file" -m fast -w -t 60 restart >/dev/null
    fi
    "$here/scripts/backup.sh" stanza
  fi
}

# Continuous WAL archiving with pgBackRest (scripts/backup.sh renders
# archive.conf); a cluster created before it gains the include here. Without
# pgBackRest nothing is archived, rather than WAL piling up unarchivable.
archiving() {
  grep -q "^include_if_exists = 'archive.conf'" "$data_dir/postgresql.conf" \
    || echo "include_if_exists = 'archive.conf'" >>"$data_dir/postgresql.conf"
  if command -v pgbackrest >/dev/null 2>&1; then
    "$here/scripts/backup.sh" prepare
  else
    echo "localdb: pgbackrest not installed; WAL archiving off (scripts/system-packages.sh run)" >&2
    echo "archive_mode = off" >"$data_dir/archive.conf"
  fi
}

# Replaces this shell with the postmaster, so a supervisor sees its exit and
# its signals reach it (INT: fast shutdown). An unclean exit (kill -9) needs no
# clean-up: PostgreSQL recovers from its write-ahead log on the next start.
run() {
  pick_owner
  [ -f "$data_dir/PG_VERSION" ] || { echo "localdb: no cluster yet; run $0 start first" >&2; exit 1; }
  write_log_privacy
  archiving
  # Take over from a server that `start` left running in the background.
  if is_running; then run_as_owner "$pg_ctl" -D "$data_dir" -m fast -w stop >/dev/null; fi
  local postgres
  postgres="$(dirname "$pg_ctl")/postgres"
  if [ "$(id -u)" -eq 0 ]; then
    cd / && exec setpriv --reuid="$owner" --regid="$owner" --init-groups -- \
      "$postgres" -D "$data_dir" >>"$log_file" 2>&1
  fi
  exec "$postgres" -D "$data_dir" >>"$log_file" 2>&1
}

stop() {
  pick_owner
  if is_running; then
    run_as_owner "$pg_ctl" -D "$data_dir" -m fast -w stop >/dev/null
    echo "localdb: stopped"
  fi
}

# The drill's second database host (make failover-drill). Both clusters are
# on this machine, each with its own socket folder, as two hosts would be.
standby() {
  local primary_dir="$1" primary_sock
  pick_owner
  primary_sock="$(readlink -f "$primary_dir")/run"
  [ -f "$data_dir/PG_VERSION" ] && { echo "localdb: $data_dir exists already" >&2; exit 1; }
  mkdir -p "$root_dir" "$sock_dir"
  chown "$owner" "$root_dir" "$sock_dir" 2>/dev/null || true
  # -R writes standby.signal and primary_conninfo; -X stream copies the WAL
  # written meanwhile, so the copy starts consistent.
  run_as_owner "$(find_bin pg_basebackup)" -h "$primary_sock" -U "$db_user" \
    -D "$data_dir" -R -X stream -c fast
  # The copy took the primary's settings: its own socket folder instead, and
  # never waiting for a standby of its own, or once promoted it would block
  # every commit until one appears.
  cat >>"$data_dir/postgresql.conf" <<CONF
# streaming standby of $primary_dir
unix_socket_directories = '$sock_dir'
synchronous_standby_names = ''
hot_standby = on
CONF
  run_as_owner "$pg_ctl" -D "$data_dir" -l "$log_file" -w -t 60 start >/dev/null \
    || { tail -n 20 "$log_file" >&2; exit 1; }
  # Synchronous from now on: a commit returns once this standby has it on disk.
  "$psql" -h "$primary_sock" -U "$db_user" -d postgres -qc \
    "ALTER SYSTEM SET synchronous_standby_names = '*'" \
    -c "ALTER SYSTEM SET synchronous_commit = 'on'" -c "SELECT pg_reload_conf()" >/dev/null
  local state="" tries=0
  while [ "$state" != "sync" ] && [ "$tries" -lt 100 ]; do
    state="$("$psql" -h "$primary_sock" -U "$db_user" -d postgres -tAc \
      "SELECT sync_state FROM pg_stat_replication LIMIT 1")"
    tries=$((tries + 1)); sleep 0.1
  done
  [ "$state" = "sync" ] || { echo "localdb: the standby never became synchronous" >&2; exit 1; }
  echo "localdb: standby in $data_dir streams synchronously from $primary_dir"
}

promote() {
  pick_owner
  run_as_owner "$pg_ctl" -D "$data_dir" -w -t 60 promote >/dev/null
}

pg_ctl="$(find_bin pg_ctl)"
initdb="$(find_bin initdb)"
psql="$(command -v psql || find_bin psql)"

# Sourced by scripts/backup.sh for the cluster's paths and owner.
[ "${BASH_SOURCE[0]}" = "$0" ] || return 0
case "${1:-}" in
  start) start ;;
  stop) stop ;;
  run) run ;;
  standby) [ -n "${2:-}" ] || { echo "usage: $0 standby PRIMARY_DIR" >&2; exit 2; }; standby "$2" ;;
  promote) promote ;;
  status) pick_owner; if is_running; then echo "running ($sock_dir)"; else echo "stopped"; exit 3; fi ;;
  *) echo "usage: $0 start|stop|status|run|standby PRIMARY_DIR|promote" >&2; exit 2 ;;
esac
