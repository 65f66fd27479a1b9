# hi: `make run` starts the console, the worker and the demo provider; `make test` checks the import contracts and lints, then runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run lint test test-postgres test-fast browser-test bench setup check clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "hi needs Python 3.11 or newer"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP)
	$(BIN)/python manage.py hi_setup

run: setup
	@bash scripts/run.sh

# The import graph's contracts (.importlinter): the framework's layered rooms, services only through hi.integrations.api;
# then ruff (ruff.toml): pyflakes, pycodestyle, isort and bugbear on the whole tree.
lint: $(STAMP)
	$(BIN)/lint-imports --no-logo
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest

# The suite on a throwaway PostgreSQL cluster (needs Debian's postgresql package; run as root).
test-postgres: lint
	DATABASE_URL="$$(bash scripts/postgres.sh start)" $(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not browser"

browser-test: $(STAMP)
	$(BIN)/python -m pytest -m browser

# Throughput benchmarks (not tests): SQLite by default, PostgreSQL too when DATABASE_URL is set.
# inbound.py: signed webhooks into the production web command (gunicorn, asgi worker), hi's /hooks/<id>/ beside a bare verify-and-insert view.
# whatsapp.py: messages sent by one worker, and their status notifications received (gunicorn) and processed (one worker).
bench: $(STAMP)
	$(BIN)/python bench/directives.py
	$(BIN)/python bench/inbound.py
	$(BIN)/python bench/ifood.py
	$(BIN)/python bench/whatsapp.py

check: $(STAMP)
	$(BIN)/python manage.py check

clean:
	rm -rf $(VENV) .pytest_cache
