# TrustDesk. `make run` serves the console; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000
# pytest-xdist processes for the unit and integration tests (each test makes its own databases);
# the end-to-end tests run after them, one at a time (each starts gunicorn, a worker and Chromium)
TEST_WORKERS ?= 2

.PHONY: install run test test-unit test-integration test-e2e bench clean-db

install: $(STAMP)

$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "TrustDesk needs Python 3.11+: set PYTHON=/path/to/python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

run: install
	$(BIN)/alembic upgrade head
	$(BIN)/flask bootstrap
	$(BIN)/flask demo load --if-empty
	@echo "TrustDesk console: http://$(HOST):$(PORT)"
	$(BIN)/flask run --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) tests/unit tests/integration
	$(BIN)/python -m pytest tests/e2e

test-unit: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) tests/unit

test-integration: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) tests/integration

test-e2e: install
	$(BIN)/python -m pytest tests/e2e

clean-db:
	rm -f instance/trustdesk.db instance/trustdesk.db-wal instance/trustdesk.db-shm
