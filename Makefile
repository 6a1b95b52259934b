# Customer Admin. `make run` and `make test` do the whole set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
WORKERS ?= 4
FLASK  := $(BIN)/flask --app wsgi
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=
HOST   ?= 127.0.0.1
GUNICORN_ARGS ?= --timeout 120
BENCH_ARGS ?=

AUDIT_VENV := .venv-audit
PIP_AUDIT := pip-audit==2.10.1

.PHONY: run test faults lint serve install translations compile-translations bench bench-service bench-api bench-peers load clean audit

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall only when the dependency pins change.
$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test,lint,redis,bench]'
	touch $(STAMP)

install: $(STAMP)

# Extract every app string, merge it into every catalog (zh_Hans_CN and zh_Hant_TW: pybabel
# update does each locale folder), compile. New strings then need a translation in both
# admin_app/translations/*/LC_MESSAGES/messages.po (tests/test_i18n.py fails until they have one).
# admin.po in the same folders overrides Flask-Admin's own strings (domain "admin"), wtforms.po
# WTForms' messages (domain "wtforms"); neither is extracted.
translations: install
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -o admin_app/translations/messages.pot admin_app
	$(BIN)/pybabel update -i admin_app/translations/messages.pot -d admin_app/translations --no-fuzzy-matching
	$(BIN)/pybabel compile -d admin_app/translations
	$(BIN)/pybabel compile -D admin -d admin_app/translations
	$(BIN)/pybabel compile -D wtforms -d admin_app/translations

compile-translations: install
	@if ls admin_app/translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(BIN)/pybabel -q compile -d admin_app/translations; fi
	@if ls admin_app/translations/*/LC_MESSAGES/admin.po >/dev/null 2>&1; then \
		$(BIN)/pybabel -q compile -D admin -d admin_app/translations; fi
	@if ls admin_app/translations/*/LC_MESSAGES/wtforms.po >/dev/null 2>&1; then \
		$(BIN)/pybabel -q compile -D wtforms -d admin_app/translations; fi

run: install compile-translations
	@mkdir -p instance
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	@echo "Serving Customer Admin on http://127.0.0.1:$(PORT)/  (log in with a demo login above)"
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

serve: install compile-translations
	$(FLASK) db upgrade
	$(BIN)/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) --access-logfile - $(GUNICORN_ARGS) wsgi:app

# Three workers on two cores: the tests wait on PostgreSQL, gunicorn and Chromium, and a third
# worker fills those waits (a quarter of the suite: 195 -> 176 s).
test: install compile-translations
	$(BIN)/pytest -n 3 -m "not faults" $(PYTEST_ARGS)

# Fault injection that takes minutes (SIGKILL of workers during select-all confirmations on
# both databases); CI runs it after `make test`.
faults: install compile-translations
	$(BIN)/pytest -n 2 -m faults $(PYTEST_ARGS)

# The gate CI runs before the tests: lint, formatting, types.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Known-vulnerable pins: an offline advisory table, then pip-audit (in its own venv) when it
# can reach PyPI's vulnerability data; unreachable is reported, not a failure.
audit: install
	@[ -x $(AUDIT_VENV)/bin/pip-audit ] || { $(PYTHON) -m venv $(AUDIT_VENV) && \
		$(AUDIT_VENV)/bin/pip install --quiet $(PIP_AUDIT); } || \
		echo "pip-audit could not be installed; only the offline check will run."
	@pa=$(AUDIT_VENV)/bin/pip-audit; [ -x $$pa ] && arg="--pip-audit $$pa"; \
		$(BIN)/python tools/dependency_audit.py $$arg


# HTTP benchmark on generated data (DATABASE_URL, default a temporary SQLite file; a
# PostgreSQL database name must contain "bench" or "ca_perf": it is dropped and recreated).
bench: install compile-translations
	$(BIN)/python benchmarks/bench_http.py $(BENCH_ARGS)
	$(BIN)/python benchmarks/bench_durability.py
	$(BIN)/python benchmarks/bench_code_list.py

# Side by side with stock Flask-Admin (A) and Django admin (B) on the same machine, in one run
# (issue 19): the peer harness in PEERS_DIR, run from a copy in PEERS_WORK with this app's
# adapter (benchmarks/peers_adapters.py); prints each workload's ratio C ÷ A.
# A two-minute version: make bench-peers PEERS_ARGS="--backend sqlite --peers A,C --n 20000
#   --m 200000 --reps 15 --w4-reps 4 --w7-seconds 5 --w7-reps 3"
PEERS_DIR ?= ../shared/peers
PEERS_WORK ?= /tmp/ca-peers
PEERS_ARGS ?= --backend sqlite --peers A,B,C
bench-peers: install compile-translations
	@mkdir -p $(PEERS_WORK)/harness
	cp -r $(PEERS_DIR)/bench.py $(PEERS_DIR)/report.py $(PEERS_DIR)/requirements.txt \
		$(PEERS_DIR)/benchlib $(PEERS_DIR)/peer_a $(PEERS_DIR)/peer_b $(PEERS_WORK)/harness/
	cp benchmarks/peers_adapters.py $(PEERS_WORK)/harness/benchlib/adapters.py
	@[ -x $(PEERS_WORK)/venv/bin/python ] || { $(PYTHON) -m venv $(PEERS_WORK)/venv && \
		$(PEERS_WORK)/venv/bin/pip install --quiet -r $(PEERS_WORK)/harness/requirements.txt; }
	PEERS_WORK=$(PEERS_WORK) TEAM_APP_DIR=$(CURDIR) $(PEERS_WORK)/venv/bin/python \
		$(PEERS_WORK)/harness/bench.py $(PEERS_ARGS)

bench-service: install
	$(BIN)/python benchmarks/bench_status_change.py

# The status API in-app: lookup, 1,000-code check, 1,000-change feed page (medians, feed plan).
bench-api: install compile-translations
	$(BIN)/python benchmarks/bench_api.py $(BENCH_ARGS)

load: install compile-translations
	$(BIN)/python benchmarks/load.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(AUDIT_VENV) instance .pytest_cache
