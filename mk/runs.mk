# Experiment grids (lib/grids): included by the Makefile, which defines PY, PAPERMILL and setup.
#
#   make runs GRID=cifar-noisy PROFILE=thesis SEEDS="0 1 2 3 4"   # GPU machine with network
#   make runs GRID=all PROFILE=mini                                  # laptop, offline
#   make -n runs GRID=sst2                                           # print what would run
#   make -j 4 runs GRID=cifar-clean                                  # 4 at a time, one GPU each
#   make runs GRID=sst2 FORCE=1                                      # rerun everything
#   make runs-status GRID=all                                        # finished/failed/pending, running runs
#   make runs-status PROFILE=thesis WATCH=1                          # the same, refreshed in place
#   make tensorboard GRID=cifar-noisy PROFILE=thesis                 # TensorBoard on a grid's runs
#   make runs-list PROFILE=thesis                                    # grids and run counts
#   make mini-archive FORCE=1                                        # regenerate results/mini (~2.5 h, 2 cores; prints its plan)
#   make runs GRID=cifar-noisy PROFILE=thesis LAUNCHER=slurm SLURM_ARGS="--partition=gpu"
#                        # one Slurm job array per grid (lib/grids/slurm); RETRY=1 resubmits failed runs
#
# `plan` checks every run of the grid (finished = complete JSON whose recorded config matches
# the grid), writes the parameter files, results/<profile>/<grid>/runs.mk and manifest.json;
# the sub-make then runs what is missing or stale, with -k so that one failure does not stop
# the others (make still fails at the end). Under `make -n` the plan writes nothing into the
# repository (no manifest, parameter file or fragment; its make file goes to $TMPDIR).

PROFILE ?= mini
GRID ?= all
SEEDS ?=
FORCE ?=
RESULTS ?= results
LAUNCHER ?= make
SLURM_ARGS ?=
RETRY ?=
WATCH ?=
WATCH_EVERY ?= 10
TB_PORT ?= 6006
GRIDS_CLI = $(PY) -m lib.grids
_grids_empty :=
_grids_space := $(_grids_empty) $(_grids_empty)
_GRIDS_DRY = $(if $(findstring n,$(firstword -$(MAKEFLAGS))),--dry-run)
# Under make -n the plan writes nothing into the repository: its make file goes to the temporary folder.
_GRIDS_PLAN_DIR = $(if $(_GRIDS_DRY),$${TMPDIR:-/tmp}/aees-dry-run-$$(id -u)-$(PROFILE),$(RESULTS)/$(PROFILE))
RUNS_PLAN = $(_GRIDS_PLAN_DIR)/.plan-$(subst $(_grids_space),+,$(strip $(GRID))).mk
_GRIDS_ARGS = --profile '$(PROFILE)' --grid '$(GRID)' --results-dir '$(RESULTS)' $(if $(strip $(SEEDS)),--seeds '$(SEEDS)')

.PHONY: runs runs-status runs-list tensorboard mini-archive

## runs: every run of GRID for PROFILE (finished runs skipped; LAUNCHER=slurm: job arrays)
#   every run of GRID (a grid name, several, or all) for PROFILE; finished runs are skipped.
#   LAUNCHER=slurm: the runs still to do (not finished, queued or running; failed ones with
#   RETRY=1) become one Slurm job array per grid, SLURM_ARGS overriding the sbatch defaults.
#   PROFILE=thesis: once planned, the thesis numbers that make runs-status sets beside each run are looked up
#   (lib.watch.thesis), before any run starts.
_WATCH_PREPARE = $(if $(filter thesis,$(PROFILE)),@$(PY) -m lib.watch.thesis --results-dir '$(RESULTS)')
ifeq ($(LAUNCHER),slurm)
runs: setup
	+@$(GRIDS_CLI) submit $(_GRIDS_ARGS) $(if $(FORCE),--force) $(if $(RETRY),--retry) $(_GRIDS_DRY) \
	  --py '$(PY)' --papermill '$(PAPERMILL)' $(if $(ENV_DIR),--env-dir '$(ENV_DIR)') --slurm-args '$(SLURM_ARGS)'
	$(_WATCH_PREPARE)
else ifeq ($(LAUNCHER),make)
runs: setup
	+@$(GRIDS_CLI) plan $(_GRIDS_ARGS) $(if $(FORCE),--force) $(_GRIDS_DRY) \
	  --py '$(PY)' --papermill '$(PAPERMILL)' --makefile "$(RUNS_PLAN)"
	$(_WATCH_PREPARE)
	+@$(MAKE) --no-print-directory -k -f "$(RUNS_PLAN)" PY='$(PY)' PAPERMILL='$(PAPERMILL)'
else
runs:
	$(error LAUNCHER=$(LAUNCHER): use LAUNCHER=make (the default, runs here) or LAUNCHER=slurm (job arrays))
endif

## runs-status: each grid's runs (finished/running/stalled/dead/...), time left, live epochs (WATCH=1 refreshes)
#   per grid, finished / running / stalled / dead / queued / failed / pending and the time
#   left; each running run's epoch, accuracies, LR and AEES arm, pace and finish (thesis profile: the
#   thesis's numbers beside it); dead runs with the command that resumes them (lib.watch).
#   WATCH=1 refreshes in place every WATCH_EVERY seconds (default 10) until Ctrl-C.
runs-status: setup
	@$(PY) -m lib.watch $(_GRIDS_ARGS) $(if $(WATCH),--every '$(WATCH_EVERY)')

## tensorboard: TensorBoard on the scalars of GRID's runs, on port TB_PORT (default 6006)
#   every run writes them under results/<profile>/<grid>/tensorboard/ (lib.train.board);
#   AEES_TENSORBOARD=0 turns them off.
tensorboard: setup
	@$(PY) -m lib.watch.board $(_GRIDS_ARGS) --port '$(TB_PORT)'

## runs-list: the grids of PROFILE and their run counts (thesis rows, aliases, runs to train)
runs-list: setup
	@$(GRIDS_CLI) list $(_GRIDS_ARGS)

## mini-archive: every mini grid the fastest way on a small CPU, its plan and estimates first (FORCE=1 retrains)
#   two runs at a time with one thread each (the tiny models scale badly across threads), noisy
#   CIFAR in a make call of its own and the other grids in the next (each call within ~2.5 h on 2 cores),
#   then the grids derived from those runs, then the timing grid alone so that its seconds per epoch are
#   not shared with another run. FORCE=1 retrains finished runs. It first prints its plan: each make call
#   with the runs it will train and its estimated time (lib.grids.estimate: the archive's recorded
#   runtimes, else a cost model).
#   The derived grids (cifar-peak-rerun: each scheduled cifar-noisy run re-run to its peak epoch) are
#   planned from their parents' finished JSON, so they get a make call of their own AFTER the one that
#   runs cifar-noisy: the recipe lines run in order and each must succeed (a failed parent stops here).
MINI_NOISY_GRIDS = cifar-noisy
MINI_SHARED_GRIDS = cifar-clean sst2 agnews-clean agnews-noisy ablation-penalty ablation-trend ablation-cifar-noise peers
MINI_DERIVED_GRIDS = cifar-peak-rerun
# MINI_PROFILE=mini-fmnist: the same archive with the CIFAR task on real Fashion-MNIST, in results/mini-fmnist
MINI_PROFILE ?= mini
mini-archive: setup
	@$(GRIDS_CLI) estimate --profile '$(MINI_PROFILE)' --results-dir '$(RESULTS)' $(if $(FORCE),--force) \
	  --call '2:$(MINI_NOISY_GRIDS)' --call '2:$(MINI_SHARED_GRIDS)' --call '2:$(MINI_DERIVED_GRIDS)' \
	  --call '1:compute-overhead'
	+OMP_NUM_THREADS=1 $(MAKE) --no-print-directory -j 2 runs PROFILE='$(MINI_PROFILE)' GRID='$(MINI_NOISY_GRIDS)'
	+OMP_NUM_THREADS=1 $(MAKE) --no-print-directory -j 2 runs PROFILE='$(MINI_PROFILE)' GRID='$(MINI_SHARED_GRIDS)'
	+OMP_NUM_THREADS=1 $(MAKE) --no-print-directory -j 2 runs PROFILE='$(MINI_PROFILE)' GRID='$(MINI_DERIVED_GRIDS)'
	+$(MAKE) --no-print-directory -j 1 runs PROFILE='$(MINI_PROFILE)' GRID=compute-overhead
