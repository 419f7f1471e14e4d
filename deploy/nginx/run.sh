#!/usr/bin/env bash
# Starts nginx for supervisord (deploy/supervisor/supervisord.conf.in):
#   run.sh PREFIX CONF PIDFILE
# nginx's workers outlive a master killed with SIGKILL and keep the port, so
# a new master could never bind it. supervisord starts every program in a
# process group of its own (the master's pid), so the leftovers are the nginx
# processes of the group named by the stale pid file: end those, then start.
set -euo pipefail
prefix="$1" conf="$2" pidfile="$3"
if [ -s "$pidfile" ]; then
  old="$(cat "$pidfile")"
  if ! kill -0 "$old" 2>/dev/null; then
    leftovers="$(pgrep -g "$old" -x nginx || true)"
    if [ -n "$leftovers" ]; then
      # shellcheck disable=SC2086
      kill -TERM $leftovers 2>/dev/null || true
      for _ in $(seq 1 20); do
        pgrep -g "$old" -x nginx >/dev/null || break
        sleep 0.1
      done
    fi
  fi
  rm -f "$pidfile"
fi
exec nginx -p "$prefix" -c "$conf" -e stderr
