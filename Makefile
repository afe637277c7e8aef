# trailhouse: `make demo` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

export TRAILHOUSE_LAKE ?= ./lake
export TRAILHOUSE_DB ?= ./trailhouse.duckdb
# dbt must never try to phone home: CI has no network beyond package registries.
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: install demo test test-fast lint docs clean bench chromium

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
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
	$(BIN)/pytest $(PYTEST_PARALLEL)

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
