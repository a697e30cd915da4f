r"""Beyond the thesis: does an archive have the thesis' shape? Table X5 and the target checks.

Under label noise the thesis' constant-LR baselines peak early (epochs 16-20 of 200), then lose
accuracy while they fit the corrupted labels; Cosine does not. X5 sets, per noise setting and
optimizer, the archive's Baseline and Cosine beside the thesis' published numbers of the same
quantities:

* ``n``: seeds;
* relative peak epoch: per run the first epoch of the best validation accuracy (1-based, first
  argmax of ``val_accuracies``) ÷ the run's epochs, mean over seeds (thesis: published mean peak
  epoch ÷ 200);
* drop: best − final validation accuracy in points, mean over seeds;
* final accuracy (%), mean over seeds (Cosine against Baseline);
* final corrupted-label fit: accuracy of the corrupted training images against their noisy labels
  after the last epoch, a fraction, measured as the thesis measured it: the final-epoch diagnostics'
  evaluation pass (``config.diagnostics.final_subset_accuracies``, eval mode, no augmentation), beside
  T7's published "Corr. noisy" of the same pass. The per-epoch training-pass values
  (``epoch_subset_train_accuracies``: augmented, train mode) read lower and are never used here; a
  run without the final diagnostics has no fit (NaN) and a note names it. The checkpointing tables
  T11/T12 publish the fit at the peak re-run, a different epoch.

``shape_checks(runs)`` is the pure function behind the issue's targets: one row per check (``name``,
``target``, ``value``, ``op``, ``threshold``, ``passed``, ``detail``), computed from a loaded archive
(``Runs`` or the ``load_archive`` frame); ``check_names()`` lists the same names without an archive.

* Target 1 (per constant-LR Baseline, AdamW and SGD, asym20 / sym20 / sym40; means over seeds):
  relative peak epoch ≤ 0.35; drop ≥ 4 points (≥ 8 in sym40); final corrupted-label fit ≥ 0.7;
  Cosine's final accuracy > the Baseline's; Cosine's drop ≤ 2 points in asym20 and sym20.
* Target 2 (seeds and seed spread): at least 3 seeds for every cell of a grid that feeds T1, T4-T6,
  T15, T17 or T18, at least 2 for every other cell of every grid except compute-overhead (one check
  per grid and class, the short cells in ``detail``); seed SD of the best validation accuracy ≤ 1.5
  points for every clean-CIFAR cell and ≤ 1 point for every SST-2 and AG News cell (one check per cell).
* Target 4: the noisy AG News constant-LR AdamW baseline peaks before its last epoch (mean peak epoch
  over seeds < epochs) and drops ≥ 2 points (mean over seeds).

A grid cell's runs are found by content (``cell_runs``: task, setting, optimizer, label and the
cell's ``expect`` columns; context ``none`` and λ 0 unless the cell expects otherwise; the cell's
horizon, scaled from the task's longest runs in the archive as ``Cell.parameters`` scales it), never
by file name. A value that cannot be computed (no runs, one seed for an SD) is NaN and fails.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np
import pandas as pd

from lib.analysis.build import NUMBER_COLUMNS, PEAK_RERUN_TAG, Built, Runs
from lib.analysis.labels import SETTING_LABELS, latex_label
from lib.analysis.load import row_columns
from lib.analysis.reference import thesis_numbers
from lib.grids.cells import MAIN_EPOCHS, MIN_SCALED_EPOCHS, Cell
from lib.grids.definitions import GRIDS

SETTINGS = ("asym20", "sym20", "sym40")
OPTIMIZERS = ("AdamW", "SGD")
METHODS = ("Baseline", "Cosine")
FIT_KEY = "train_corrupted_accuracy_vs_noisy_labels"

# Target 1 thresholds.
MAX_REL_PEAK = 0.35
MIN_DROP = {"asym20": 4.0, "sym20": 4.0, "sym40": 8.0}  # points
MIN_FIT = 0.7
MAX_COSINE_DROP = {"asym20": 2.0, "sym20": 2.0}  # points; no bound in sym40
# Target 2.
MAIN_SEED_TABLES = frozenset({"T1", "T4", "T5", "T6", "T15", "T17", "T18"})
MIN_SEEDS_MAIN, MIN_SEEDS_OTHER = 3, 2
SEED_EXEMPT_GRIDS = ("compute-overhead",)
MAX_SEED_SD = {"cifar-clean": 1.5, "sst2": 1.0, "agnews-clean": 1.0, "agnews-noisy": 1.0}  # points
# Target 4.
AGNEWS_NOISY_BASELINE = {"task": "agnews", "setting": "noise20", "optimizer": "AdamW", "method": "AdamW"}
MIN_AGNEWS_DROP = 2.0  # points

OPS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}
CHECK_COLUMNS = ["name", "target", "value", "op", "threshold", "passed", "detail"]
SUMMARY_METRICS = ("rel_peak", "drop", "final", "corr_fit")


def _as_runs(runs: Runs | pd.DataFrame) -> Runs:
    return runs if isinstance(runs, Runs) else Runs(runs)


def corrupted_fit(diagnostic: float | None) -> tuple[float, str]:
    """(fit, source) of one run: the final diagnostics' evaluation pass of the corrupted subset against its
    noisy labels (the thesis's measurement), else NaN."""
    if diagnostic is not None and not math.isnan(diagnostic):
        return float(diagnostic), "evaluation pass"
    return math.nan, "missing"


def noisy_rows(runs: Runs | pd.DataFrame, setting: str, optimizer: str, method: str) -> pd.DataFrame:
    """One row per seed of a noisy CIFAR main run (λ 0, context none), with ``rel_peak``, ``drop`` (pp),
    ``final`` (%), ``corr_fit`` and ``fit_source``."""
    runs = _as_runs(runs)
    rows = runs.pick(task="cifar100", setting=setting, optimizer=optimizer, method=method, lam=0.0, context="none")
    if rows.empty:
        return rows.assign(rel_peak=[], drop=[], final=[], corr_fit=[], fit_source=[])
    epochs = [e if e and not math.isnan(e) else len(v) for e, v in zip(rows["epochs"], rows["val_accuracies"])]
    fits = [corrupted_fit(c) for c in rows["corr_noisy"]]
    return rows.assign(rel_peak=rows["peak_epoch"].to_numpy() / np.asarray(epochs, dtype=float),
                       drop=rows["drop_val_accuracy"] * 100.0, final=rows["final_val_accuracy"] * 100.0,
                       corr_fit=[f for f, _ in fits], fit_source=[s for _, s in fits])


def shape_summary(runs: Runs | pd.DataFrame) -> pd.DataFrame:
    """Per (setting, optimizer, method) of ``SETTINGS`` × ``OPTIMIZERS`` × ``METHODS``: ``n``, ``seeds``,
    mean and SD of ``SUMMARY_METRICS``, ``fit_sources`` and ``paths``; NaN where the archive has no runs."""
    runs = _as_runs(runs)
    out = []
    for setting in SETTINGS:
        for opt in OPTIMIZERS:
            for method in METHODS:
                rows = noisy_rows(runs, setting, opt, method)
                row: dict[str, Any] = {"setting": setting, "optimizer": opt, "method": method, "n": len(rows),
                                       "seeds": " ".join(str(int(s)) for s in rows["seed"]),
                                       "fit_sources": sorted(set(rows["fit_source"])) if len(rows) else [],
                                       "paths": list(rows["path"])}
                for m in SUMMARY_METRICS:
                    row[m] = float(rows[m].mean()) if len(rows) else math.nan
                    row[f"{m}_std"] = float(rows[m].std())  # sample SD; NaN below two runs
                out.append(row)
    return pd.DataFrame(out)


def thesis_summary() -> pd.DataFrame:
    """The thesis' published values of the same quantities (``reference.thesis_numbers("X5")``), one row
    per (setting, optimizer, method) of the summary, NaN where the thesis did not publish one."""
    ref = thesis_numbers("X5")
    out = []
    for setting in SETTINGS:
        for opt in OPTIMIZERS:
            for method in METHODS:
                part = ref[(ref["block"] == f"{setting} {opt}") & (ref["row"] == method)].set_index("metric")
                row: dict[str, Any] = {"setting": setting, "optimizer": opt, "method": method,
                                       "n": int(part["n"].max()) if len(part) else 0}
                for m in SUMMARY_METRICS:
                    row[m] = float(part.loc[m, "mean"]) if m in part.index else math.nan
                    row[f"{m}_std"] = float(part.loc[m, "std"]) if m in part.index else math.nan
                out.append(row)
    return pd.DataFrame(out)


def _row(name: str, target: str, value: float, op: str, threshold: float, detail: str = "") -> dict[str, Any]:
    value = float(value) if value is not None else math.nan
    passed = not math.isnan(value) and not math.isnan(threshold) and bool(OPS[op](value, threshold))
    if math.isnan(value) and not detail:
        detail = "no runs"
    return {"name": name, "target": target, "value": value, "op": op, "threshold": float(threshold),
            "passed": passed, "detail": detail}


def target1_rows(summary: pd.DataFrame) -> list[dict[str, Any]]:
    """Target 1 on a ``shape_summary`` (or ``thesis_summary``) frame."""
    by = summary.set_index(["setting", "optimizer", "method"])
    out = []
    for setting in SETTINGS:
        for opt in OPTIMIZERS:
            base, cos = by.loc[(setting, opt, "Baseline")], by.loc[(setting, opt, "Cosine")]
            stem = f"target1.{setting}.{opt}"
            n, cos_n = (f"n={int(r['n'])}" if r["n"] else "" for r in (base, cos))
            out.append(_row(f"{stem}.baseline.rel_peak", "1", base["rel_peak"], "<=", MAX_REL_PEAK, n))
            out.append(_row(f"{stem}.baseline.drop", "1", base["drop"], ">=", MIN_DROP[setting], n))
            fit = "" if math.isnan(base["corr_fit"]) else n
            out.append(_row(f"{stem}.baseline.corr_fit", "1", base["corr_fit"], ">=", MIN_FIT, fit))
            both = f"{cos_n} (Cosine), {n} (Baseline)" if n and cos_n else \
                "no runs" if not n and not cos_n else f"no {'Baseline' if cos_n else 'Cosine'} runs"
            out.append(_row(f"{stem}.cosine.final_above_baseline", "1", cos["final"], ">", base["final"], both))
            if setting in MAX_COSINE_DROP:
                out.append(_row(f"{stem}.cosine.drop", "1", cos["drop"], "<=", MAX_COSINE_DROP[setting], cos_n))
    return out


def cell_runs(runs: Runs | pd.DataFrame, cell: Cell) -> pd.DataFrame:
    """The archive's runs of one grid cell, by content, one per seed (see the module docstring)."""
    runs = _as_runs(runs)
    expect = dict(cell.expect)
    rerun = expect.pop("run_tag", None) == PEAK_RERUN_TAG
    filters = {"context": "none", "lam": 0.0, **expect}
    rows = runs.candidates(peak_rerun=rerun, task=cell.task, setting=cell.setting, optimizer=cell.optimizer,
                           method=cell.label, **filters)
    if not rerun and not rows.empty:  # the cell's horizon; a peak re-run's epochs differ per seed
        longest = runs.candidates(task=cell.task)["epochs"].max()
        main = MAIN_EPOCHS[cell.task]
        want = longest if not cell.thesis_epochs or cell.thesis_epochs == main else \
            max(MIN_SCALED_EPOCHS, round(longest * cell.thesis_epochs / main))
        rows = rows[rows["epochs"] == want]
    return rows.sort_values(["seed", "path"], kind="stable").drop_duplicates("seed")


def _main_cell(cell: Cell) -> bool:
    return bool(MAIN_SEED_TABLES & set(cell.tables))


def _short(cells: list[tuple[str, int]], limit: int = 6) -> str:
    text = ", ".join(f"{name}: {n}" for name, n in cells[:limit])
    return text + (f" (+{len(cells) - limit} more)" if len(cells) > limit else "")


def target2_rows(runs: Runs) -> list[dict[str, Any]]:
    """Target 2: seeds per cell (one check per grid and class) and seed SD of best accuracy (per cell)."""
    out = []
    for grid in GRIDS.values():
        if grid.name in SEED_EXEMPT_GRIDS:
            continue
        counts = {c.name: len(cell_runs(runs, c)) for c in grid.cells}
        for cls, main, minimum in (("main", True, MIN_SEEDS_MAIN), ("other", False, MIN_SEEDS_OTHER)):
            cells = [c for c in grid.cells if _main_cell(c) == main]
            if not cells:
                continue
            low = [(c.name, counts[c.name]) for c in cells if counts[c.name] < minimum]
            value = min(counts[c.name] for c in cells)
            detail = f"{len(cells)} cells; below {minimum}: {_short(low)}" if low else f"{len(cells)} cells"
            out.append(_row(f"target2.seeds.{grid.name}.{cls}", "2", value, ">=", minimum, detail))
    for grid_name, limit in MAX_SEED_SD.items():
        for cell in GRIDS[grid_name].cells:
            rows = cell_runs(runs, cell)
            sd = float((rows["best_val_accuracy"] * 100.0).std())  # NaN below two runs
            detail = f"{cell.label}, n={len(rows)}" + (" (SD needs 2 seeds)" if len(rows) == 1 else "")
            out.append(_row(f"target2.seed_sd.{grid_name}.{cell.name}", "2", sd, "<=", limit,
                            detail if len(rows) else ""))
    return out


def target4_rows(runs: Runs) -> list[dict[str, Any]]:
    """Target 4: the noisy AG News constant-LR AdamW baseline peaks before its last epoch and drops."""
    rows = runs.pick(**AGNEWS_NOISY_BASELINE, lam=0.0, context="none")
    n = f"n={len(rows)}" if len(rows) else ""
    peak = float(rows["peak_epoch"].mean()) if len(rows) else math.nan
    epochs = float(rows["epochs"].max()) if len(rows) else math.nan
    drop = float(rows["drop_val_accuracy"].mean()) * 100.0 if len(rows) else math.nan
    return [_row("target4.agnews_noise20.AdamW.peak_before_last", "4", peak, "<", epochs,
                 f"{n}, mean peak epoch of {epochs:.0f}" if len(rows) else ""),
            _row("target4.agnews_noise20.AdamW.drop", "4", drop, ">=", MIN_AGNEWS_DROP, n)]


def shape_checks(runs: Runs | pd.DataFrame) -> pd.DataFrame:
    """Every check of targets 1, 2 and 4 on a loaded archive: ``CHECK_COLUMNS``, in ``check_names()`` order."""
    runs = _as_runs(runs)
    rows = target1_rows(shape_summary(runs)) + target2_rows(runs) + target4_rows(runs)
    return pd.DataFrame(rows, columns=CHECK_COLUMNS)


def check_names() -> list[str]:
    """The names ``shape_checks`` returns, without an archive (for test ids)."""
    empty = pd.DataFrame(columns=list(row_columns()) + ["path", "relpath", "duplicate", "duplicate_of"])
    return list(shape_checks(Runs(empty))["name"])


# --- X5: the shape table --------------------------------------------------------------------------------


def _verdict(rows: list[dict[str, Any]], short: dict[str, str]) -> str:
    """``met``, ``unmet: <what>`` (the checks that fail on numbers the archive has), or ``--`` when a check
    cannot be decided (no runs on one side) and none fails."""
    unknown = [r for r in rows if math.isnan(r["value"]) or math.isnan(r["threshold"])]
    failed = [short[r["name"].rsplit(".", 1)[1]] for r in rows if not r["passed"] and r not in unknown]
    if failed:
        return "unmet: " + ", ".join(failed)
    return "--" if unknown or not rows else "met"


_SHORT = {"rel_peak": "peak", "drop": "drop", "corr_fit": "fit", "final_above_baseline": "final"}


def _verdicts(summary: pd.DataFrame) -> dict[tuple[str, str, str], str]:
    checks = target1_rows(summary)
    out = {}
    for setting in SETTINGS:
        for opt in OPTIMIZERS:
            for method in METHODS:
                stem = f"target1.{setting}.{opt}.{method.lower()}."
                out[(setting, opt, method)] = _verdict([c for c in checks if c["name"].startswith(stem)], _SHORT)
    return out


def _fmt(x: float, digits: int) -> str:
    return "--" if x is None or math.isnan(x) else f"{x:.{digits}f}"


def x5(runs: Runs) -> Built:
    built = Built()
    for setting in SETTINGS:
        for opt in OPTIMIZERS:
            for method in METHODS:
                built.use(noisy_rows(runs, setting, opt, method), f"{setting} {opt} {method}")
    if not built.inputs:
        return built
    mine, ref = shape_summary(runs), thesis_summary()
    ours, theirs = _verdicts(mine), _verdicts(ref)
    cells, unpublished = [], []
    for i, (m, t) in enumerate(zip(mine.itertuples(), ref.itertuples())):
        key = (m.setting, m.optimizer, m.method)
        unpublished += [f"{m.setting} {m.optimizer} {m.method} {q}" for q in SUMMARY_METRICS
                        if math.isnan(getattr(t, q))]
        cells.append({
            "Noise": SETTING_LABELS[m.setting] if i % 4 == 0 else "",
            "Optimizer": m.optimizer if i % 2 == 0 else "",
            "Method": latex_label(m.method),
            "n": str(m.n), "n (thesis)": str(t.n) if t.n else "--",
            "Rel. peak": _fmt(m.rel_peak, 2), "Rel. peak (thesis)": _fmt(t.rel_peak, 2),
            "Drop (pp)": _fmt(m.drop, 1), "Drop (pp, thesis)": _fmt(t.drop, 1),
            "Final (\\%)": _fmt(m.final, 1), "Final (\\%, thesis)": _fmt(t.final, 1),
            "Corr. fit": _fmt(m.corr_fit, 2), "Corr. fit (thesis)": _fmt(t.corr_fit, 2),
            "Target 1": ours[key], "Target 1 (thesis)": theirs[key],
        })
    built.cells = pd.DataFrame(cells)
    built.cells.attrs["midrule_before"] = [4, 8]
    built.numbers = pd.DataFrame(
        [{"block": f"{r.setting} {r.optimizer}", "row": r.method, "metric": m, "mean": getattr(r, m),
          "std": getattr(r, f"{m}_std"), "n": r.n} for r in mine.itertuples() if r.n for m in SUMMARY_METRICS],
        columns=NUMBER_COLUMNS)
    built.notes.append("Rel. peak = first epoch of the best validation accuracy ÷ epochs, mean over seeds "
                       "(thesis: published mean peak epoch ÷ 200); Drop = best − final (pp) and Final (%), means "
                       "over seeds")
    built.notes.append("Corr. fit = accuracy of the corrupted training images against their noisy labels after the "
                       "last epoch, both columns from the final-epoch diagnostics' evaluation pass (archive: "
                       "config.diagnostics.final_subset_accuracies; thesis: T7 Corr. noisy)")
    no_fit = [f"{r.setting} {r.optimizer} {r.method}" for r in mine.itertuples() if r.n and "missing" in r.fit_sources]
    if no_fit:
        built.notes.append(f"no final diagnostics (Corr. fit left out) in some runs of: {', '.join(no_fit)}")
    built.notes.append(f"Target 1: Baseline rel. peak ≤ {MAX_REL_PEAK}, drop ≥ 4 pp (≥ 8 in sym40), corr. fit ≥ "
                       f"{MIN_FIT}; Cosine final > Baseline final, Cosine drop ≤ 2 pp in asym20 and sym20 "
                       "(lib.analysis.shape.shape_checks)")
    if unpublished:
        built.notes.append(f"not published by the thesis ('--'): {', '.join(unpublished)}")
    return built
