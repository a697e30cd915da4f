# Analysis: thesis tables and figures, the HTML report, summary CSVs (included by the Makefile,
# which defines PY and setup).
#
#   make figures                                  # every table/figure of results/mini into figures/ (~1 min)
#   make figures ARCHIVE=/data/archived_results   # the same from a thesis archive (RunResult JSON files)
#   make report                                   # analysis notebooks -> figures/report.html (code hidden)
#   make summaries RESULTS=results/mini           # per-run and per-group summary CSVs of any results directory
#   make analysis-notebooks                       # rewrite + re-execute the committed analysis notebooks (results/mini)
#   make test-notebooks                           # nbval on the committed analysis notebooks
#
# figures/index.csv: one row per artifact (T1-T24, F2-F17, X1-X2) with status ok / partial / missing-runs,
# the SHA-256 of its input files, the git SHA and the archive it was built from.

ARCHIVE ?= results/mini
FIGURES ?= figures
RESULTS ?= results
NBVAL_NOTEBOOKS = $(sort $(wildcard notebooks/analysis_*.ipynb)) notebooks/reproduction_report.ipynb
NBVAL_ARGS = --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider

.PHONY: figures report summaries analysis-notebooks test-notebooks

## figures: every thesis table (.tex + .csv) and figure (.png + .pdf) of ARCHIVE into FIGURES/<chapter>/
figures: setup
	$(PY) -m lib.analysis.render figures --archive '$(ARCHIVE)' --out '$(FIGURES)'

## report: run the analysis notebooks on ARCHIVE and join them into FIGURES/report.html (inputs hidden)
report: setup
	$(PY) -m lib.analysis.html_report --archive '$(ARCHIVE)' --out '$(FIGURES)'

## summaries: run_summary.csv / group_summary.csv of RESULTS (any results directory)
summaries: setup
	$(PY) -m lib.analysis.summaries '$(RESULTS)'

## analysis-notebooks: regenerate the analysis notebooks and execute them against results/mini (commit these)
analysis-notebooks: setup
	$(PY) scripts/build_analysis_notebooks.py --execute

## test-notebooks: pytest --nbval-lax on the committed analysis notebooks (outputs to a temporary directory)
test-notebooks: setup
	AEES_FIGURES_DIR="$$(mktemp -d)" $(PY) -m pytest $(NBVAL_ARGS) $(NBVAL_NOTEBOOKS)
