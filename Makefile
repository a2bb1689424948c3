# Fangkong: `make demo` to try it, `make test` to check it. Both start with `make install`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.13 2>/dev/null || command -v python3.12 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FK := $(BIN)/fangkong
PEOPLE ?= 33000
COUNTY ?= 610326
SEED ?= 2020
QUICK ?=
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/fangkong

.PHONY: help install static demo seed serve test lint pytest pytest-pg pytest-browser bench clean

help:
	@echo "make demo    - install, build static files, migrate, load the demo county, serve on :8000"
	@echo "make test    - install, then ruff, migrations check, import-linter, pytest (SQLite, PostgreSQL, browser)"
	@echo "make bench   - benchmarks under bench/ (QUICK=1 for a small run)"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 12), "Fangkong needs Python >= 3.12"'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e .
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

fangkong/static/vendor/.built: node_modules/.installed scripts/build_static.py $(VENV)/.installed
	$(BIN)/python scripts/build_static.py
	@touch $@

static: fangkong/static/vendor/.built

install: $(VENV)/.installed static

# The task worker (big imports run in it) and the loop worker (registers self-reports, escalates
# late steps) start in the background next to runserver and stop when runserver stops (Ctrl-C).
demo: install
	$(FK) migrate --noinput
	$(FK) seed --county $(COUNTY) --people $(PEOPLE) --seed $(SEED)
	@$(FK) db_worker --no-reload & worker=$$!; \
	$(FK) loop_worker & ticker=$$!; \
	trap 'kill $$worker $$ticker 2>/dev/null; wait $$worker $$ticker 2>/dev/null' EXIT INT TERM; \
	echo "task worker (pid $$worker) and loop worker (pid $$ticker) started"; \
	$(FK) runserver 127.0.0.1:8000

seed: install
	$(FK) migrate --noinput
	$(FK) seed --county $(COUNTY) --people $(PEOPLE) --seed $(SEED)

serve: install
	@$(FK) db_worker --no-reload & worker=$$!; \
	$(FK) loop_worker & ticker=$$!; \
	trap 'kill $$worker $$ticker 2>/dev/null; wait $$worker $$ticker 2>/dev/null' EXIT INT TERM; \
	$(FK) runserver 127.0.0.1:8000

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_SETTINGS_MODULE=config.settings.test $(FK) makemigrations --check --dry-run
	$(BIN)/lint-imports

# The suite on SQLite (always), on PostgreSQL when DATABASE_URL points at one, and the
# browser tests when Debian's chromium is installed. Skips are printed, never silent.
test: lint
	@$(MAKE) --no-print-directory pytest
	@if [[ "$${DATABASE_URL:-}" == postgres* ]]; then \
		$(MAKE) --no-print-directory pytest-pg; \
	else echo "SKIPPED: PostgreSQL run (DATABASE_URL does not point at PostgreSQL)"; fi
	@if [ -x /usr/bin/chromium ]; then \
		$(MAKE) --no-print-directory pytest-browser; \
	else echo "SKIPPED: browser tests (/usr/bin/chromium is not installed)"; fi

pytest: install
	@echo "== pytest on SQLite =="
	DATABASE_URL=sqlite:///$(CURDIR)/var/test.sqlite3 $(BIN)/pytest -q -m "not browser"

pytest-pg: install
	@echo "== pytest on PostgreSQL =="
	$(BIN)/pytest -q -m "not browser"

pytest-browser: install
	@echo "== browser tests (Playwright + /usr/bin/chromium) =="
	DATABASE_URL=sqlite:///$(CURDIR)/var/test.sqlite3 $(BIN)/pytest -q -m browser

bench: install
	$(BIN)/python bench/run.py $(if $(QUICK),--quick,)

clean:
	rm -rf $(VENV) node_modules fangkong/static/vendor var/staticfiles
