# AEES compendium: the one entry point.  `make` = setup + the main job; `make test` = the tests.
SHELL := /bin/bash
.DEFAULT_GOAL := all

# Python environment: an active (non-base) conda env if there is one, else ./.venv made with pip.
ifneq ($(and $(CONDA_PREFIX),$(filter-out base,$(CONDA_DEFAULT_ENV))),)
ENV_DIR := $(CONDA_PREFIX)
else
ENV_DIR := $(CURDIR)/.venv
endif
PY := $(ENV_DIR)/bin/python
STAMP := $(ENV_DIR)/.aees-setup-stamp
BOOTSTRAP_PYTHON ?= python3
KERNEL := aees

export HF_HUB_OFFLINE ?= 1
export HF_DATASETS_OFFLINE ?= 1
export OMP_WAIT_POLICY ?= PASSIVE
export PYTHONHASHSEED ?= 0

PAPERMILL := $(PY) -m papermill --kernel $(KERNEL) --log-output --no-progress-bar

.PHONY: all help setup test test-fast default-runs lab clean-scratch

include mk/runs.mk
include mk/analysis.mk
include mk/bench.mk
include mk/rehearse.mk

## all: the default: setup, the mini archive (trains only missing or stale runs), figures, report
#   setup, every mini grid (mk/runs.mk mini-archive: nothing to do when the
#   committed archive is complete; missing or stale runs are trained), then its tables, figures
#   and HTML report
all: setup
	+@$(MAKE) --no-print-directory mini-archive
	+@$(MAKE) --no-print-directory figures report ARCHIVE=results/mini

## help: every target in one line (the first `## target:` line above each; details in the comments)
help:
	@awk '/^## [a-z-]+: / { sub(/^## /, ""); i = index($$0, ": "); \
	  printf "  make %-20s %s\n", substr($$0, 1, i - 1), substr($$0, i + 2) }' Makefile $(sort $(wildcard mk/*.mk))

## setup: the environment from requirements.lock (hash-checked) + the project kernel (idempotent)
setup: $(STAMP)

# Every package from the lock file, each checked against its hashes; then this project, whose dependencies
# the lock already holds (pyproject.toml's pins; tests/test_environment.py checks the three agree).
# The stamp holds the SHA-256 of the three files it was made from: when they are unchanged by content (a fresh
# clone, whose file times are its checkout's, or another checkout sharing this environment) nothing is
# reinstalled, so setup never re-points an environment's editable install or kernel at another checkout.
# When they differ and the environment's project is another checkout (a worktree or clone sharing its
# .venv), setup stops instead: reinstalling would re-point that checkout's environment and kernel here.
# (-I: the owner as the environment sees it, not through PYTHONPATH or the current directory.)
SETUP_INPUTS = pyproject.toml environment.yml requirements.lock
$(STAMP): $(SETUP_INPUTS)
	@if [ -x "$(PY)" ] && [ "$$(cat $(SETUP_INPUTS) | sha256sum)" = "$$(cat '$(STAMP)' 2>/dev/null)" ]; then \
	  touch '$(STAMP)'; exit 0; fi; \
	owner=$$([ -x "$(PY)" ] && "$(PY)" -I -c 'import pathlib, lib; print(pathlib.Path(lib.__file__).resolve().parents[1])' 2>/dev/null); \
	if [ -n "$$owner" ] && [ "$$owner" != "$$(pwd -P)" ]; then \
	  echo "setup: $(ENV_DIR) is the environment of the checkout $$owner, set up from other dependency files than" \
	    "this checkout's; run make setup there, or give this checkout its own environment (make setup ENV_DIR=...)" >&2; \
	  exit 1; fi; \
	if [ ! -x "$(PY)" ]; then \
	  $(BOOTSTRAP_PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version' && \
	  $(BOOTSTRAP_PYTHON) -m venv "$(ENV_DIR)"; fi; \
	set -e; \
	echo "$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements.lock"; \
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements.lock; \
	echo "$(PY) -m pip install --quiet --no-deps -e ."; \
	$(PY) -m pip install --quiet --no-deps -e .; \
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "AEES (project env)" >/dev/null; \
	cat $(SETUP_INPUTS) | sha256sum > '$(STAMP)'; \
	echo "environment ready: $(ENV_DIR) (kernel '$(KERNEL)')"

## test: the whole test suite (offline, CPU) on every core, then nbval on the committed notebooks
#   pytest-xdist with TEST_JOBS workers (default: the number of cores): each test file runs whole, in its
#   order, on one worker, the files with slow tests first (tests/conftest.py); then nbval, a notebook per
#   worker. TEST_JOBS=1: one process. nbval runs after the suite, not beside it: explore_aees.ipynb and
#   the tests that run it share its scratch run's lock.
TEST_JOBS ?= $(shell nproc 2>/dev/null || echo 1)
_TEST_XDIST = $(if $(filter-out 0 1,$(TEST_JOBS)),-n $(TEST_JOBS) --dist loadfile --no-loadscope-reorder)
test: setup
	$(PY) -m pytest $(_TEST_XDIST)
	$(MAKE) --no-print-directory test-notebooks

## test-fast: the tests not marked slow (a few minutes), on TEST_JOBS cores
test-fast: setup
	$(PY) -m pytest -m "not slow" $(_TEST_XDIST)

## default-runs: a short demonstration: two runs of the mini cifar-clean grid (AdamW and AEES, seed 0)
#   a short demonstration = two runs of the mini cifar-clean grid, seed 0:
#   the AdamW baseline and AEES (skipped when finished; they are part of the mini archive)
DEFAULT_RUNS := $(addprefix results/mini/cifar-clean/cifar_clean_,adamw_none_seed0.json aees_none_seed0.json)
DEFAULT_PLAN = $(if $(_GRIDS_DRY),$${TMPDIR:-/tmp}/aees-dry-run-$$(id -u)-mini,results/mini)/.plan-default.mk
default-runs: setup
	+@$(GRIDS_CLI) plan --profile mini --grid cifar-clean $(_GRIDS_DRY) \
	  --py '$(PY)' --papermill '$(PAPERMILL)' --makefile "$(DEFAULT_PLAN)"
	+@$(MAKE) --no-print-directory -f "$(DEFAULT_PLAN)" $(DEFAULT_RUNS) \
	  PY='$(PY)' PAPERMILL='$(PAPERMILL)'

## lab: JupyterLab at the repository root, opened on notebooks/, with the project kernel
#   LAB_IP (default 127.0.0.1; 0.0.0.0 to reach it
#   from outside a container or VM), LAB_PORT (8888; the next free one if taken), LAB_TOKEN (empty: JupyterLab
#   makes one and prints the URL with it), LAB_ARGS (anything else). --allow-root is added only when make runs
#   as root (a container, a cloud notebook VM); --no-browser when there is no display to open one on.
LAB_IP ?= 127.0.0.1
LAB_PORT ?= 8888
LAB_TOKEN ?=
LAB_ARGS ?=
LAB_UID ?= $(shell id -u)
# The root is the repository (figures/, results/, docs/ reachable); Lab opens on notebooks/; no news feed,
# hence no consent pop-up asking whether to fetch it, and no update check.
LAB_PROJECT_FLAGS = --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks --LabApp.news_url=None \
  --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate
LAB_FLAGS = $(LAB_PROJECT_FLAGS) --ServerApp.ip='$(LAB_IP)' --ServerApp.port='$(LAB_PORT)' \
  $(if $(LAB_TOKEN),--IdentityProvider.token='$(LAB_TOKEN)') $(if $(filter 0,$(LAB_UID)),--allow-root) \
  $(if $(DISPLAY)$(WAYLAND_DISPLAY),,--no-browser) $(LAB_ARGS)
lab: setup
	$(PY) -m jupyter lab $(LAB_FLAGS)

## clean-scratch: delete results/scratch (where one-off runs go by default)
clean-scratch:
	rm -rf results/scratch
