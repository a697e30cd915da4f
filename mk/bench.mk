# Benchmark (lib/bench): included by the Makefile, which defines PY and setup.
#
#   make bench                                  # CPU-sized models on this machine's device (~3 min)
#   make bench BENCH_ARGS="--device cuda --full" # thesis-sized models on a GPU
#   make bench BENCH_ARGS="--tasks cifar --dual" # one task, AEES with gradient noise too
#
# Prints the table (throughput, AEES overhead vs plain AdamW, speed-up vs the thesis-style
# pipeline, FastAEES = stock decisions) and the targets; writes results/bench/latest.csv.
# On a GPU machine, scripts/gpu_checks.sh runs every GPU measurement in one call.
#
#   make bench-watch                            # seconds of make runs-status on the whole thesis plan

BENCH_ARGS ?=

.PHONY: bench bench-watch

## bench: side-by-side throughput and AEES overhead -> results/bench/latest.csv
bench: setup
	$(PY) -m lib.bench $(BENCH_ARGS)

## bench-watch: how long make runs-status takes on the whole thesis plan, a campaign in progress (lib.watch.bench)
bench-watch: setup
	$(PY) -m lib.watch.bench
