# `make demo` and `make test` work as the first command on a fresh machine:
# they create .venv and install the project (pinned by constraints.txt) when needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
KEDRO_ENV ?= demo

# Nothing phones home: kedro-telemetry is also switched off by the committed .telemetry file.
export KEDRO_DISABLE_TELEMETRY := 1
export DO_NOT_TRACK := 1

.PHONY: install demo test bench-models clean-venv

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

# The synthetic pipeline writes the archives that the demo's download stage then fetches.
demo: install
	$(BIN)/kedro run --env $(KEDRO_ENV) --pipelines=synthetic
	$(BIN)/kedro run --env $(KEDRO_ENV)

# One pytest worker per core; the tests of the shared, once-reproduced demo project run on one of them.
test: install
	$(BIN)/python -m pytest -n auto --dist loadgroup

bench-models: install
	$(BIN)/python benchmarks/model_speed.py

clean-venv:
	rm -rf $(VENV)
