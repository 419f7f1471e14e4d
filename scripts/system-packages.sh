#!/usr/bin/env bash
# Installs the Debian packages a bare machine lacks for `make run` / `make test`:
#   run   PostgreSQL, pgBackRest, nginx (with the Brotli static module), make, python3-venv,
#         the DejaVu fonts (delivery-pack PDF)
#   test  the same, plus Chromium (browser tests), gettext (catalogue check)
#         and HAProxy (tests/deploy/test_balancer.py)
#   bench the run set, plus wrk and curl (make bench)
#   faults the run set, plus HAProxy (the load balancer of make faults'
#         two-host drill, make failover-drill)
# Uses sudo when not root; does nothing when everything is present.
set -euo pipefail
purpose="${1:-test}"

need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v psql >/dev/null 2>&1 || need+=(postgresql-client)
command -v make >/dev/null 2>&1 || need+=(make)
# Backups: the WAL archive and restores (scripts/backup.sh).
command -v pgbackrest >/dev/null 2>&1 || need+=(pgbackrest)
# nginx fronts gunicorn (deploy/nginx/); the module serves the .br files that
# collectstatic writes beside the .gz ones.
[ -x /usr/sbin/nginx ] || need+=(nginx)
[ -e /usr/lib/nginx/modules/ngx_http_brotli_static_module.so ] || need+=(libnginx-mod-http-brotli-static)
python3 -c "import ensurepip, venv" >/dev/null 2>&1 || need+=(python3-venv)
# The delivery pack's Unicode font: names in any script (organising/delivery_pack.py).
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
if [ "$purpose" = bench ]; then
  command -v wrk >/dev/null 2>&1 || need+=(wrk)
  command -v curl >/dev/null 2>&1 || need+=(curl)
fi
if [ "$purpose" = faults ] || [ "$purpose" = test ]; then
  command -v haproxy >/dev/null 2>&1 || need+=(haproxy)
fi
if [ "$purpose" = test ]; then
  [ -x /usr/bin/chromium ] || need+=(chromium)
  command -v msgfmt >/dev/null 2>&1 || need+=(gettext)
fi
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi
echo "Installing Debian packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
