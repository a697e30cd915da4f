# Analysis: thesis tables and figures, the HTML report, summary CSVs (included by the Makefile,
# which defines PY and setup).
#
#   make figures                                  # every table/figure of results/mini into figures/ (~1 min;
#                                                 # afterwards only the chapters whose inputs changed)
#   make figures ARCHIVE=/data/archived_results   # the same from a thesis archive (RunResult JSON files)
#   make report                                   # every table and figure -> figures/report.html (one
#                                                 # self-contained page; one line per chapter)
#   make -n figures report / make -q figures report   # what would be rebuilt / exit 0 when nothing would
#   make summaries RESULTS=results/mini           # per-run and per-group summary CSVs of any results directory
#   make analysis-notebooks                       # rewrite + re-execute the committed analysis notebooks (results/mini)
#                                                 # and the exploration notebook
#   make test-notebooks                           # nbval on the committed analysis and exploration notebooks
#
# figures/index.csv: one row per artifact (T1-T24, F2-F17, X1-X6) with status ok / partial / missing-runs,
# the SHA-256 of its input files and of the analysis code (content hashes, not the commit: the committed
# figures/ rebuild byte for byte on a fresh clone) and the archive it was built from.

ARCHIVE ?= results/mini
FIGURES ?= figures
RESULTS ?= results
REPORT_NOTEBOOKS = $(sort $(wildcard notebooks/analysis_*.ipynb)) notebooks/reproduction_report.ipynb
NBVAL_NOTEBOOKS = $(REPORT_NOTEBOOKS) notebooks/explore_aees.ipynb
NBVAL_ARGS = --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider
# on TEST_JOBS cores (Makefile), a notebook per worker: a notebook's cells share one kernel
NBVAL_XDIST = $(if $(filter-out 0 1,$(TEST_JOBS)),-n $(TEST_JOBS) --dist loadfile)

.PHONY: figures report summaries analysis-notebooks test-notebooks

# Incremental: each chapter is one target, a stamp holding its index rows, under
# FIGURES/.make/<archive>/ (ignored by git). A chapter is rebuilt when the analysis code or the
# thesis reference numbers change, when a RunResult file it read changes (FIGURES/.make/<archive>/
# <chapter>.csv.d, written with the stamp), or when a file appeared in or left the archive since
# it was built (the .d file records the archive's file list; ANALYSIS_FILES is today's). Other
# writes into the archive (a manifest rewritten by `make runs`) rebuild nothing. Switching ARCHIVE
# builds that archive's stamps and drops the other archive's stamp of the same chapter first, so
# that switching back rebuilds too. `make -n figures report` lists exactly what would run;
# `make -q figures report` exits 0 when nothing would.
# The chapters, in thesis order: the CHAPTERS line of lib/vocab.py (their one source; read without Python,
# so that the list is known before `make setup`).
ANALYSIS_CHAPTERS := $(shell sed -n 's/^CHAPTERS = (\(.*\))$$/\1/p' lib/vocab.py | tr -d '",')
ANALYSIS_CODE := $(wildcard lib/__init__.py lib/atomic.py lib/vocab.py lib/analysis/*.py) $(shell find reference/thesis-results -type f 2>/dev/null)
ANALYSIS_STAMPS = $(FIGURES)/.make/$(subst /,_,$(patsubst /%,%,$(patsubst $(CURDIR)/%,%,$(abspath $(ARCHIVE)))))
ANALYSIS_FILES := $(shell cd '$(ARCHIVE)' 2>/dev/null && find . -mindepth 1 -name '.*' -prune -o -type f -print \
  | LC_ALL=C sort)
INCREMENTAL = $(PY) -m lib.analysis.incremental

# A fresh clone has the committed figures and index but none of the stamps (ignored by git): before
# make reads them, `incremental adopt` stamps every chapter whose committed files are current by
# content (the index's input and code hashes), so a clone rebuilds nothing. Only for the goals that
# build figures, never under -n or -q (they write nothing), and once: a stamped chapter is skipped.
_analysis_goals := $(filter figures report $(FIGURES)/index.csv $(FIGURES)/report.html,$(MAKECMDGOALS))
# ADOPT=0 turns it off (every missing stamp is then rebuilt: the byte-for-byte check of the committed files).
# The tests are shell tests, not $(wildcard): make caches a folder's listing when it first reads it, and
# would not see the stamps written here.
ADOPT ?= 1
ifneq ($(and $(filter 1,$(ADOPT)),$(_analysis_goals)),)
ifeq ($(findstring n,$(firstword -$(MAKEFLAGS)))$(findstring q,$(firstword -$(MAKEFLAGS))),)
_analysis_adopted := $(shell [ -f '$(STAMP)' ] && [ -f '$(FIGURES)/index.csv' ] && \
  for c in $(ANALYSIS_CHAPTERS); do [ -f '$(ANALYSIS_STAMPS)'/$$c.csv ] || { \
  $(INCREMENTAL) adopt --archive '$(ARCHIVE)' --out '$(FIGURES)' --stamps '$(ANALYSIS_STAMPS)'; break; }; done)
$(if $(_analysis_adopted),$(info $(_analysis_adopted)))
endif
endif

-include $(wildcard $(ANALYSIS_STAMPS)/*.csv.d)

# A chapter whose recorded file list differs from today's depends on a phony target: out of date.
_analysis_same = $(and $(findstring x $(1) x,x $(2) x),$(findstring x $(2) x,x $(1) x))
$(foreach c,$(ANALYSIS_CHAPTERS),$(eval $(ANALYSIS_STAMPS)/$(c).csv: \
  $(if $(call _analysis_same,$(strip $(ANALYSIS_SEEN_$(c))),$(strip $(ANALYSIS_FILES))),,analysis-archive-changed)))
.PHONY: analysis-archive-changed
analysis-archive-changed: ;

## figures: every thesis table and figure of ARCHIVE into FIGURES/ and FIGURES/index.csv (changed chapters only)
#   every thesis table (.tex + .csv) and figure (.png + .pdf) of ARCHIVE into FIGURES/<chapter>/
#   and FIGURES/index.csv; only chapters whose inputs changed are rebuilt
figures: $(FIGURES)/index.csv

$(FIGURES)/index.csv: $(foreach c,$(ANALYSIS_CHAPTERS),$(ANALYSIS_STAMPS)/$(c).csv) | setup
	$(INCREMENTAL) index --out '$(FIGURES)' $^

$(ANALYSIS_STAMPS)/%.csv: $(ANALYSIS_CODE) | setup
	@rm -f $(FIGURES)/.make/*/$*.csv
	$(INCREMENTAL) chapter $* --archive '$(ARCHIVE)' --out '$(FIGURES)' --stamp '$@'

## report: every table and figure of ARCHIVE in one self-contained page, FIGURES/report.html
#   each thesis table beside the published one; no network needed to read it; rebuilt when the
#   figures index, the analysis code or the page template change
report: $(FIGURES)/report.html

# The page is committed; it records the hash of the index and template it was built from, so a fresh clone
# (file times in checkout order) takes it as it is unless that hash differs (lib.analysis.freshness).
$(FIGURES)/report.html: $(FIGURES)/index.csv $(ANALYSIS_CODE) lib/analysis/report.html.j2 | setup
	@$(PY) -m lib.analysis.freshness --out '$(FIGURES)' && touch '$@' || \
	  $(PY) -m lib.analysis.html_report --archive '$(ARCHIVE)' --out '$(FIGURES)'

## summaries: run_summary.csv / group_summary.csv of RESULTS (any results directory)
summaries: setup
	$(PY) -m lib.analysis.summaries '$(RESULTS)'

## analysis-notebooks: regenerate and execute the analysis and exploration notebooks (commit these)
#   regenerate the analysis notebooks and execute them against results/mini, and the
#   exploration notebook on the stand-in (commit these)
analysis-notebooks: setup
	$(PY) scripts/build_analysis_notebooks.py --execute

## test-notebooks: nbval on the committed analysis and exploration notebooks (on TEST_JOBS cores)
#   pytest --nbval-lax on the committed analysis and exploration notebooks (outputs to a
#   temporary directory; the kernels import this checkout's lib)
test-notebooks: setup
	AEES_FIGURES_DIR="$$(mktemp -d)" PYTHONPATH="$(CURDIR)$${PYTHONPATH:+:$$PYTHONPATH}" \
	  $(PY) -m pytest $(NBVAL_ARGS) $(NBVAL_XDIST) $(NBVAL_NOTEBOOKS)
