# Switchboard: `make run` serves the demo, `make test` runs lint and the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py

.PHONY: run test lint pytest worker beat system-deps migrate demo clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Switchboard needs Python 3.11, found " + sys.version.split()[0]' \
	  || { echo "Python 3.11 is required (set PYTHON=/path/to/python3.11)."; exit 1; }
	@$(PYTHON) -m venv $(VENV) || { echo "Could not create a virtualenv: on Debian run 'sudo apt-get install python3-venv'."; exit 1; }
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $(VENV)/.installed $@

migrate: $(VENV)/.installed
	$(MANAGE) migrate --noinput

demo: migrate
	$(MANAGE) seed_demo

run: demo
	$(MANAGE) runserver 127.0.0.1:8000

worker: $(VENV)/.installed
	$(BIN)/celery -A marketplace worker -l info -Q default,notifications,billing,pdf

beat: $(VENV)/.installed
	$(BIN)/celery -A marketplace beat -l info

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/djlint templates */templates --lint --quiet
	$(BIN)/mypy marketplace buyers sellers rfq billing

# System libraries: WeasyPrint (pango, harfbuzz), pdftoppm/pdftotext, Chromium for the browser tests.
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-dejavu-core poppler-utils chromium chromium-driver
system-deps:
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends --no-upgrade $(SYSTEM_PACKAGES)

pytest: $(VENV)/.installed-dev
	@ldconfig -p | grep -q libpango-1.0 || { echo "WeasyPrint needs pango: run 'make system-deps' (apt-get install $(SYSTEM_PACKAGES))."; exit 1; }
	@command -v pdftotext >/dev/null || { echo "PDF tests need poppler-utils: run 'make system-deps'."; exit 1; }
	$(MANAGE) makemigrations --check --dry-run >/dev/null || { echo "Models changed without a migration: run 'python manage.py makemigrations'."; exit 1; }
	DJANGO_ALLOW_ASYNC_UNSAFE=true $(BIN)/pytest

test: lint pytest

clean:
	rm -rf $(VENV) db.sqlite3 tmp
