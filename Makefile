# trailhouse: `make demo` and `make test` do all set-up on a fresh machine.
# Python 3.11, 3.12 or 3.13: the first of PYTHON_CANDIDATES that runs and is one of them
# (a pyenv shim without that version does not run). `make demo PYTHON=python3.13` chooses.
PYTHON_CANDIDATES := python3.11 python3.12 python3.13 python3
PYTHON_SUPPORTED := import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))
PYTHON ?= $(shell for p in $(PYTHON_CANDIDATES); do \
	$$p -c '$(PYTHON_SUPPORTED)' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV ?= .venv
BIN := $(VENV)/bin

export TRAILHOUSE_LAKE ?= ./lake
export TRAILHOUSE_DB ?= ./trailhouse.duckdb
# dbt must never try to phone home: CI has no network beyond package registries.
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: install demo test test-fast lint docs clean bench chromium

# An existing $(VENV) is kept, whichever supported Python made it.
$(BIN)/.installed: pyproject.toml
	@test -x $(BIN)/python || { \
		py='$(PYTHON)'; \
		if [ -z "$$py" ]; then \
			echo "No Python 3.11, 3.12 or 3.13 found (tried $(PYTHON_CANDIDATES))." \
				"Install one, or name it: make $(or $(MAKECMDGOALS),install) PYTHON=/path/to/python3.12" >&2; \
			exit 1; \
		elif ! $$py -c '$(PYTHON_SUPPORTED)' 2>/dev/null; then \
			echo "PYTHON=$$py is not Python 3.11, 3.12 or 3.13 (or does not run)." >&2; \
			exit 1; \
		fi; \
		echo "$$py -m venv $(VENV)  # $$($$py -V 2>&1)"; \
		$$py -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,spark]'
	touch $@

install: $(BIN)/.installed ## Create the virtual environment and install trailhouse

demo: install ## Synthetic CloudTrail -> landing -> dbt build -> summary of the lake
	$(BIN)/ingest demo
	$(BIN)/dbt build
	$(BIN)/ingest status

# A module per worker at a time: its module-scoped lakes are built once.
PYTEST_PARALLEL ?= -n auto --dist loadscope

test: install lint chromium ## Everything CI runs: lint, then every test (ingest, CLI, dbt, Spark, browser)
	$(BIN)/pytest $(PYTEST_PARALLEL) --durations=25

test-fast: install ## The unit layer in under two minutes: Python units and every dbt unit test
	$(BIN)/pytest $(PYTEST_PARALLEL) -m "not e2e and not spark and not browser and not slow"

chromium: ## Debian's headless Chromium for the browser tests (skipped if it cannot be installed)
	@command -v chromium >/dev/null 2>&1 || { \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
			>/dev/null 2>&1 \
		|| echo "Chromium could not be installed (needs root and apt): browser tests will be skipped."; }

lint: install ## ruff, sqlfluff, the detection tuning (ingest detections check) and every detection's kinds of test (coverage --check)
	$(BIN)/ruff check ingest tests/python
	$(BIN)/ruff format --check ingest tests/python
	$(BIN)/sqlfluff lint models tests analyses
	$(BIN)/ingest detections check
	$(BIN)/ingest detections coverage --check

docs: install ## Static dbt docs site: target/static_index.html
	$(BIN)/dbt docs generate --static
	@echo "Open target/static_index.html in a browser."

clean: ## Remove build outputs (not the lake)
	rm -rf target logs build

EVENTS ?= 1000000
bench: install ## Throughput vs the DuckDB floor and a naive collector (EVENTS=1000000)
	$(BIN)/python bench/run.py --events $(EVENTS)
