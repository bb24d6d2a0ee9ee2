# `make demo` and `make test` work as the first command on a fresh machine:
# they create .venv and install the project (pinned by constraints.txt) when needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
KEDRO_ENV ?= demo
SMOKE_PARAMS := run_root=data/smoke/$(KEDRO_ENV),training.defaults.limit_epochs=1,training.defaults.limit_train_batches=2,training.defaults.limit_val_batches=2

# Nothing phones home: kedro-telemetry is also switched off by the committed .telemetry file.
export KEDRO_DISABLE_TELEMETRY := 1
export DO_NOT_TRACK := 1

.PHONY: install demo repro rehearsal rehearsal-kinetics smoke dvc-stages test dag-image bench-models clean-venv

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

# The demo's DVC stages (conf/demo/dvc.yaml: synthetic archives, download, prepare, ..., report),
# so that DVC's cache and lock hold its outputs and `dvc status` is clean afterwards. Outside a git
# checkout (DVC needs one) the same pipelines run with `kedro run`.
demo: install
	if git rev-parse --git-dir >/dev/null 2>&1; then \
		PATH="$(abspath $(BIN)):$$PATH" $(BIN)/dvc repro conf/$(KEDRO_ENV)/dvc.yaml; \
	else \
		$(BIN)/kedro run --env $(KEDRO_ENV) --pipelines=synthetic && $(BIN)/kedro run --env $(KEDRO_ENV); \
	fi

# Any environment through DVC: its dvc.yaml written first (only the root's, conf/base, and the demo's
# are committed, so `dvc status` speaks of the pipelines in use), then `dvc repro` of it.
repro: install
	file=$$($(BIN)/python -m mict_pipeline.dvc_stages $(KEDRO_ENV)) && PATH="$(abspath $(BIN)):$$PATH" $(BIN)/dvc repro $$file

# UCF-101's full shape on a synthetic replica (conf/rehearsal: 13,320 videos, 101 classes, official
# counts asserted), every stage timed, and a report of scale: data/rehearsal/08_reporting/scale.json.
rehearsal: install
	$(BIN)/python benchmarks/rehearsal.py

# Kinetics-400's shape (400 classes, its CSV and clip names) on a synthetic replica (conf/rehearsal_kinetics),
# prepared on a real local Dask cluster of 1, then 2 workers, trained a few steps on two torchrun nodes,
# and the time and disk of full Kinetics-400 predicted: data/rehearsal_kinetics/08_reporting/scale.json.
rehearsal-kinetics: install
	$(BIN)/python benchmarks/rehearsal_kinetics.py

# A real setup checked in minutes: every stage of $(KEDRO_ENV) with 1 epoch of 2 batches and 2 batches
# of test videos per split and experiment (the runs' figures are marked "smoke run" in the report).
# It prepares the data where the environment keeps it (finished work is skipped) and writes what it
# trains, evaluates and reports to data/smoke/$(KEDRO_ENV), beside the environment's own runs.
smoke: install
	$(BIN)/kedro run --env $(KEDRO_ENV) --params="$(SMOKE_PARAMS)"

# The committed DVC files (dvc.yaml: conf/base; conf/demo/dvc.yaml) from the environments' Kedro
# pipelines and catalogs (tests check they are current).
dvc-stages: install
	$(BIN)/python -m mict_pipeline.dvc_stages

# One pytest worker per core; the tests of the shared, once-reproduced demo project run on one of them.
test: install
	$(BIN)/python -m pytest -n auto --dist loadgroup

# The README's picture of the data path (kedro-viz in headless Chromium, as the test renders it, cut to
# the graph). Where the test would skip (no Chromium) or the graph is not drawn, this fails.
dag-image: install
	MICT_DAG_PNG=docs/images/kedro_viz_dag.png $(BIN)/python -m pytest -q tests/test_kedro_viz.py -k renders
	@echo "docs/images/kedro_viz_dag.png: rendered"

# Both protocols, plain and channels_last + folded BatchNorm; ORIGINAL=<MiCT-Net-PyTorch checkout> adds the original's code.
bench-models: install
	$(BIN)/python benchmarks/model_speed.py $(if $(ORIGINAL),--original $(ORIGINAL))

clean-venv:
	rm -rf $(VENV)
