#!/usr/bin/env bash
# Continuous backups of the project-local PostgreSQL cluster with pgBackRest
# (docs/operations.md): the WAL archive, full/differential backups and
# restores into a new cluster folder.
#
#   scripts/backup.sh prepare       render the pgBackRest configuration and the
#                                   cluster's archive settings (localdb.sh start)
#   scripts/backup.sh stanza        create the stanza once the server is up
#   scripts/backup.sh backup [full|diff|incr]
#                                   a backup now (default: incr, or full when
#                                   there is none yet)
#   scripts/backup.sh info          pgbackrest info (JSON with --output=json)
#   scripts/backup.sh check         archive the current WAL segment and wait
#                                   until the repository holds it
#   scripts/backup.sh restore DIR [TARGET_TIME|name:RESTORE_POINT]
#                                   restore into the new folder DIR and start it
#                                   there on its own socket (DIR/run), archiving
#                                   off; without a target, to the end of the WAL
#   scripts/backup.sh restore-over-live [TARGET_TIME]
#                                   stop the live cluster, keep its data folder
#                                   beside it, restore in its place, start it
#   scripts/backup.sh discard DIR   stop a restored cluster and delete its folder
#
# The configuration lives in var/pgbackrest/ and the (encrypted) repository in
# var/backups/, both git-ignored; with LOCALDB_DIR (another cluster, e.g.
# make faults or the restore test) they move under that folder, so no two
# clusters ever share a stanza. BACKUP_DIR overrides both.
# PGBACKREST_CIPHER_PASS is the repository's passphrase: required in
# production, derived once and kept in var/pgbackrest/cipher-pass otherwise.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=localdb.sh
source "$here/scripts/localdb.sh"

stanza="${PGBACKREST_STANZA:-peru_campaign}"
if [ -n "${BACKUP_DIR:-}" ]; then
  backup_root="$BACKUP_DIR"
elif [ -n "${LOCALDB_DIR:-}" ]; then
  backup_root="$LOCALDB_DIR/backup"
else
  backup_root="$here/var"
fi

pgbackrest_bin() {
  command -v pgbackrest 2>/dev/null \
    || { echo "backup: pgbackrest not found; run scripts/system-packages.sh run" >&2; exit 1; }
}

# The server runs archive-push as the cluster's owner, so everything pgBackRest
# touches belongs to that user, and the passphrase is readable by it alone.
locate() {
  pick_owner
  mkdir -p "$backup_root"
  conf_dir="$(reach "$backup_root/pgbackrest")"
  repo_dir="$(reach "$backup_root/backups")"
  # A production host names its own (/etc/pgbackrest/pgbackrest.conf, say).
  conf_file="${PGBACKREST_CONFIG:-$conf_dir/pgbackrest.conf}"
}

# Creates the folder PATH and prints its real path. As localdb.sh does for
# the cluster: where the server's user cannot reach PATH (a checkout under
# /root, say), the folder lives under /var/tmp and PATH links to it.
reach() {
  local path="$1" outside
  mkdir -p "$(dirname "$path")"
  if [ "$(id -u)" -eq 0 ] && ! runuser -u "$owner" -- test -x "$(dirname "$path")"; then
    outside="/var/tmp/peru-campaign-$(basename "$path")-$(printf '%s' "$path" | md5sum | cut -c1-12)"
    mkdir -p "$outside"
    [ -e "$path" ] || ln -s "$outside" "$path"
  else
    mkdir -p "$path"
  fi
  (cd "$path" && pwd -P)
}

cipher_pass() {
  if [ -n "${PGBACKREST_CIPHER_PASS:-}" ]; then
    printf '%s' "$PGBACKREST_CIPHER_PASS"; return
  fi
  if [ "${DJANGO_ENV:-development}" = production ]; then
    echo "backup: PGBACKREST_CIPHER_PASS must be set in production (docs/operations.md)" >&2
    exit 1
  fi
  # A repository encrypted with a lost passphrase is lost: keep it beside it.
  if [ ! -s "$conf_dir/cipher-pass" ]; then
    (umask 077 && head -c 32 /dev/urandom | base64 | tr -d '\n=/+' >"$conf_dir/cipher-pass")
  fi
  cat "$conf_dir/cipher-pass"
}

prepare() {
  locate
  mkdir -p "$conf_dir/log" "$conf_dir/lock" "$repo_dir"
  chmod 700 "$conf_dir" "$repo_dir"
  local pass
  pass="$(cipher_pass)"
  (umask 077 && cat >"$conf_file" <<CONF
# Rendered by scripts/backup.sh; edit that script, not this file.
[global]
repo1-path=$repo_dir
repo1-cipher-type=aes-256-cbc
repo1-cipher-pass=$pass
repo1-retention-full=${BACKUP_RETENTION_FULL:-2}
repo1-retention-diff=${BACKUP_RETENTION_DIFF:-7}
compress-type=zst
compress-level=3
start-fast=y
log-path=$conf_dir/log
lock-path=$conf_dir/lock
log-level-console=warn
log-level-file=info

[$stanza]
pg1-path=$data_dir
pg1-socket-path=$sock_dir
pg1-user=$db_user
CONF
  )
  chown -R "$owner" "$conf_dir" "$repo_dir" 2>/dev/null || true
  # The backup manifest records the data folder's group: the owner's own.
  [ ! -d "$data_dir" ] || chown "$owner:" "$data_dir" 2>/dev/null || true
  if [ -f "$data_dir/PG_VERSION" ]; then
    # Read by postgresql.conf's include; a change of archive_mode needs a restart.
    cat >"$data_dir/archive.conf" <<CONF
# Rendered by scripts/backup.sh: continuous WAL archiving with pgBackRest.
archive_mode = on
archive_command = '$(pgbackrest_bin) --config=$conf_file --stanza=$stanza archive-push %p'
archive_timeout = 60s
wal_level = replica
CONF
    chown "$owner:" "$data_dir/archive.conf" 2>/dev/null || true
  fi
}

pgbackrest_run() {
  run_as_owner "$(pgbackrest_bin)" --config="$conf_file" --stanza="$stanza" "$@"
}

stanza() {
  locate
  [ -f "$conf_file" ] || prepare
  pgbackrest_run stanza-create >/dev/null
}

has_backup() {
  pgbackrest_run --output=json info | python3 -c \
    'import json, sys; sys.exit(0 if any(s["backup"] for s in json.load(sys.stdin)) else 1)'
}

backup() {
  locate
  local kind="${1:-}"
  if [ -z "$kind" ]; then
    if has_backup; then kind=incr; else kind=full; fi
  fi
  case "$kind" in full | diff | incr) ;; *) echo "backup: type is full, diff or incr" >&2; exit 2 ;; esac
  pgbackrest_run --type="$kind" backup
  echo "backup: $kind backup of stanza $stanza finished"
}

# Settings a restored cluster must not share with the live one: its socket,
# and archiving (a copy that archived into the live stanza would muddle it).
isolate() {
  local dir="$1"
  mkdir -p "$dir/run"
  chown "$owner:" "$dir/run"
  cat >"$dir/data/archive.conf" <<CONF
# A restored copy: it does not archive into the live stanza.
archive_mode = off
CONF
  cat >>"$dir/data/postgresql.auto.conf" <<CONF
unix_socket_directories = '$dir/run'
listen_addresses = ''
CONF
  chown "$owner:" "$dir/data/archive.conf"
}

# Sets restore_options for a target: none (the end of the archive), a time
# ("2026-12-03 17:00:00+00") or name:RESTORE_POINT.
set_target() {
  local target="${1:-}"
  case "$target" in
    "") restore_options=(--type=default) ;;
    name:*) restore_options=(--type=name "--target=${target#name:}" --target-action=promote) ;;
    *) restore_options=(--type=time "--target=$target" --target-action=promote) ;;
  esac
}

restore() {
  locate
  local dir="${1:?usage: $0 restore DIR [TARGET_TIME]}" target="${2:-}"
  [ ! -e "$dir" ] || { echo "backup: $dir already exists; restore into a new folder" >&2; exit 1; }
  dir="$(reach "$dir")"
  mkdir -p "$dir/data"
  chown "$owner:" "$dir" "$dir/data"
  chmod 700 "$dir/data"
  set_target "$target"
  pgbackrest_run --pg1-path="$dir/data" "${restore_options[@]}" restore
  isolate "$dir"
  run_as_owner "$pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 600 start >/dev/null \
    || { tail -n 20 "$dir/server.log" >&2; exit 1; }
  # Recovery to a target ends in a promotion; wait until it is writable.
  local tries=0
  until [ "$("$psql" -h "$dir/run" -U "$db_user" -d postgres -tAc 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ]; do
    tries=$((tries + 1))
    [ "$tries" -lt 600 ] || { echo "backup: $dir did not finish recovery" >&2; exit 1; }
    sleep 0.2
  done
  echo "backup: restored into $dir; connect with: psql -h $dir/run -U $db_user $db_name"
  echo "backup: stop and delete it with: scripts/backup.sh discard $dir"
}

restore_over_live() {
  locate
  local target="${1:-}"
  stop
  if is_running; then echo "backup: the live cluster is still running" >&2; exit 1; fi
  local kept
  kept="$root_dir/data.before-restore-$(date -u +%Y%m%dT%H%M%SZ)"
  mv "$data_dir" "$kept"
  mkdir -p "$data_dir"
  chown "$owner:" "$data_dir"
  chmod 700 "$data_dir"
  set_target "$target"
  pgbackrest_run "${restore_options[@]}" restore
  echo "backup: restored over the live cluster; the old data folder is kept in $kept"
  start
}

discard() {
  locate
  local dir="${1:?usage: $0 discard DIR}"
  [ -f "$dir/data/PG_VERSION" ] || { echo "backup: $dir holds no restored cluster" >&2; exit 1; }
  local real
  real="$(cd "$dir" && pwd -P)"
  [ "$(cd "$dir/data" && pwd -P)" != "$(cd "$data_dir" && pwd -P)" ] \
    || { echo "backup: $dir is the live cluster" >&2; exit 1; }
  if [ -f "$dir/data/postmaster.pid" ]; then
    run_as_owner "$pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$real" "$dir"
}

case "${1:-}" in
  prepare) prepare ;;
  stanza) stanza ;;
  backup) backup "${2:-}" ;;
  info) locate; shift; pgbackrest_run "$@" info ;;
  check) locate; pgbackrest_run check ;;
  restore) shift; restore "$@" ;;
  restore-over-live) shift; restore_over_live "$@" ;;
  discard) discard "${2:-}" ;;
  config-path) locate; echo "$conf_file" ;;
  *) echo "usage: $0 prepare|stanza|backup|info|check|restore|restore-over-live|discard|config-path" >&2; exit 2 ;;
esac
