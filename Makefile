# claude-ledger: two commands on a fresh machine — `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
export LEDGER_HOME ?= $(CURDIR)/.ledger
export DAGSTER_HOME := $(CURDIR)
# dagster.yaml turns telemetry off; this also stops the webserver's upload thread, which otherwise creates logs/
# and .logs_queue/ in DAGSTER_HOME (the project root). The instance's own files live under .ledger/dagster.
export DAGSTER_DISABLE_TELEMETRY := 1

.PHONY: install demo test dev lint bench clean simulator

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

## Run the whole pipeline end to end on the embedded database with the demo organisation (VERBOSE=1: every table).
demo: install
	$(BIN)/python -m demo.run $(if $(VERBOSE),--verbose)

## Install and run the test suite (two pytest workers, one per core).
test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n 2

## The Dagster UI (and daemon: sensors, schedules) on http://127.0.0.1:3000
dev: install
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

lint: install
	$(BIN)/ruff check .

## A local Anthropic Admin API serving the demo organisation (http://127.0.0.1:$(SIMULATOR_PORT)).
SIMULATOR_PORT ?= 8765
simulator: install
	$(BIN)/python -m demo.simulator.server --port $(SIMULATOR_PORT)

bench: install
	$(BIN)/python -m bench.run

clean:
	rm -rf $(LEDGER_HOME)
