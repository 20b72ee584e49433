# claude-ledger: two commands on a fresh machine — `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
export LEDGER_HOME ?= $(CURDIR)/.ledger
export DAGSTER_HOME := $(CURDIR)
# dagster.yaml turns telemetry off; this also stops the webserver's upload thread, which otherwise creates logs/
# and .logs_queue/ in DAGSTER_HOME (the project root). The instance's own files live under .ledger/dagster.
export DAGSTER_DISABLE_TELEMETRY := 1
# The Debian packages the tests start on loopback themselves: redis-server (the budget guard's shared counters),
# chromium (the statement in a headless browser), prometheus (/metrics scraped), postgresql (Dagster's production
# storage).
TEST_PACKAGES := redis-server chromium prometheus postgresql

.PHONY: install system-packages demo test dev db-stop lint bench clean simulator

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

## Install the Debian packages the tests need, if any is missing (as root, or through sudo).
system-packages:
	@missing=$$(for p in $(TEST_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done | tr '\n' ' '); \
	if [ -n "$$missing" ]; then \
		echo "installing the Debian packages the tests start: $$missing"; \
		if [ "$$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo=sudo; \
		else echo "make test needs: apt-get install $$missing (as root)"; exit 1; fi; \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

## Run the whole pipeline end to end on the local ClickHouse server with the demo organisation (VERBOSE=1: every
## table).
demo: install
	$(BIN)/python -m demo.run $(if $(VERBOSE),--verbose)

## Install and run the test suite (two pytest workers, one per core).
test: install system-packages
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n 2

## The Dagster UI (and daemon: sensors, schedules) on http://127.0.0.1:3000, over the local ClickHouse server.
dev: install
	$(BIN)/ledger db start
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

## Stop the local ClickHouse server of $(LEDGER_HOME).
db-stop:
	@if [ -x $(BIN)/ledger ]; then $(BIN)/ledger db stop; fi

lint: install
	$(BIN)/ruff check .

## A local Anthropic Admin API serving the demo organisation (http://127.0.0.1:$(SIMULATOR_PORT)).
SIMULATOR_PORT ?= 8765
simulator: install
	$(BIN)/python -m demo.simulator.server --port $(SIMULATOR_PORT)

bench: install
	$(BIN)/python -m bench.run

clean: db-stop
	rm -rf $(LEDGER_HOME)
