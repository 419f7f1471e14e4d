# The README's two commands: `make run` and `make test`. Everything else helps them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# Exported so that in development SITE_URL follows it (peru_campaign/settings.py).
export PORT
# Local defaults; a real deployment sets DJANGO_ENV=production and its own values.
export DJANGO_ENV ?= development
export DJANGO_SETTINGS_MODULE := peru_campaign.settings

.PHONY: install db stop run faults failover-drill system-packages-faults test lint format bench lock clean staff system-packages-run system-packages-test backup restore restore-drill

$(BIN)/.installed: requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	@touch $@

install: $(BIN)/.installed

# Debian packages (PostgreSQL; for tests also Chromium and gettext), if missing.
system-packages-run:
	@scripts/system-packages.sh run
system-packages-test:
	@scripts/system-packages.sh test
system-packages-faults:
	@scripts/system-packages.sh faults

# Starts the project-local PostgreSQL cluster unless DATABASE_URL points elsewhere.
db:
	@if [ -z "$$DATABASE_URL" ]; then scripts/localdb.sh start; fi

stop:
	@scripts/localdb.sh stop

run: system-packages-run install db
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py load_campaign_content
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@# supervisord in the foreground: nginx on PORT, gunicorn, the worker, PostgreSQL.
	PORT=$(PORT) BIN=$(BIN) scripts/serve.sh

# Backups with pgBackRest (docs/operations.md). `make backup` takes one now
# (TYPE=full|diff|incr; default incremental, or full when there is none).
# `make restore` restores the latest state, or TARGET_TIME='2026-12-03
# 17:00:00+00', into a new cluster in var/restore/<time> and starts it there;
# RESTORE_OVER_LIVE=yes stops the live cluster and restores in its place.
backup: install db
	$(BIN)/python manage.py backup $(if $(TYPE),--type $(TYPE))

restore: install
	@if [ "$(RESTORE_OVER_LIVE)" = yes ]; then \
	  scripts/backup.sh restore-over-live "$(TARGET_TIME)"; \
	else \
	  scripts/backup.sh restore "var/restore/$$(date -u +%Y%m%dT%H%M%SZ)" "$(TARGET_TIME)"; \
	fi

# Restores the latest backup into a scratch cluster and compares every table
# with the live database; the last line says OK or FAILED.
restore-drill: install db
	$(BIN)/python manage.py restore_drill

# Kills and starves the production shape on a spare port and checks that it
# recovers by itself (docs/production.md). FAULTS_PORT=8690 by default.
# Both drills run, whichever fails; either failing fails make faults.
faults: system-packages-faults install
	@status=0; scripts/faults.sh || status=1; scripts/hosts_drill.sh || status=1; exit $$status

# Two web hosts and a synchronous standby: the primary killed, the standby promoted.
failover-drill: system-packages-faults install
	scripts/hosts_drill.sh

test: system-packages-test install db
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest -n 2 -m "not browser"
	@# Playwright keeps an event loop in its process, so browser tests run apart.
	DJANGO_ALLOW_ASYNC_UNSAFE=true $(BIN)/pytest -m browser

# Load tests of the hot paths and exports; prints the figures for docs/benchmarks.md.
bench: install
	scripts/bench.sh

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

staff: install db
	$(BIN)/python manage.py create_staff_user $(EMAIL) $(if $(GROUP),--group $(GROUP))

# Regenerates the pinned lock file from pyproject.toml (PyPI only).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip
	.lock-venv/bin/python -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; print("\n".join(p["dependencies"] + p["optional-dependencies"]["dev"]))' > .lock-venv/requirements.in
	.lock-venv/bin/pip install --quiet -r .lock-venv/requirements.in
	.lock-venv/bin/pip freeze > requirements.lock
	rm -rf .lock-venv

clean: stop
	rm -rf $(VENV) .pgdata staticfiles var
