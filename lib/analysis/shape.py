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

``shape_checks(runs)`` is the pure function behind the miniature's targets: one row per check (``name``,
``target``, ``blocking``, ``value``, ``op``, ``threshold``, ``passed``, ``detail``), computed from a loaded
archive (``Runs`` or the ``load_archive`` frame); ``check_names()`` lists the same names without an archive.
Targets 1-3 are blocking: an archive that misses one does not serve its purpose. Target 4 is informational:
measured and shown beside the thesis (X5), never required (``blocking`` False).

* Target 1, clean CIFAR-100 off the ceiling (every cell of grid cifar-clean: AdamW and AEES with no,
  cosine and linear schedule, and the fixed multipliers): mean best validation accuracy between 30 % and
  92 % (``above_floor``, ``below_ceiling``); at least 3 seeds (one check); seed SD of the best accuracy
  ≤ 1.5 points (per cell); and T1-T3 report the flat-vs-scheduled and flat-vs-AEES gaps in best accuracy
  with their paired statistics, whatever their sign (``paired``: the table's seed-paired difference
  against the flat row has a CI, i.e. at least 2 paired seeds; ``tables_cifar.flat_gaps``).
* Target 2, statistics: at least 3 seeds for every cell of the noisy CIFAR-100 main tables (T4-T6:
  Baseline, AEES, Cosine, Cosine + AEES; AdamW and SGD; three settings), of the peak re-runs
  (cifar-peak-rerun) and of SST-2 and AG News (every cell of their grids); at least 2 for every other
  cell (fixed multipliers, ablations, peers); one check per grid and class, the short cells in ``detail``.
  The timing grid (compute-overhead) is exempt and cifar-clean is target 1's. Seed SD of the best
  accuracy ≤ 1 point on every SST-2 and AG News cell, clean and noisy (one check per cell).
* Target 3, the memorisation shape where the thesis shows it most clearly: the AdamW constant-LR
  Baselines under sym20 and sym40, means over seeds: relative peak epoch ≤ 0.40; drop ≥ 4 points
  (≥ 8 in sym40); final corrupted-label fit ≥ 0.80.
* Target 4 (informational): the same three bounds on the other Baselines (SGD; asym20 AdamW, where the
  thesis's own AdamW drops 2.2 points); Cosine's final accuracy above the Baseline's in every setting and
  Cosine's drop ≤ 2 points in asym20 and sym20; the noisy AG News constant-LR AdamW baseline drops
  ≥ 2 points (mean over seeds).

X5's last columns give each row's target (3, or 4 "info.") and its verdict on the archive and on the
thesis's published numbers. Targets 1 and 2 are computed in ``lib.analysis.targets`` (with the check row
and ``cell_runs``), targets 3 and 4 here.

A grid cell's runs are found by content (``cell_runs``: task, setting, optimizer, label and the
cell's ``expect`` columns; context ``none`` and λ 0 unless the cell expects otherwise; the cell's
horizon, scaled from the task's longest runs in the archive as ``Cell.parameters`` scales it), never
by file name. A value that cannot be computed (no runs, one seed for an SD) is NaN and fails.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from lib.analysis.build import NUMBER_COLUMNS, Built, Runs
from lib.analysis.labels import SETTING_LABELS, latex_label
from lib.analysis.load import row_columns
from lib.analysis.reference import thesis_numbers
from lib.analysis.targets import CHECK_COLUMNS, as_runs, cell_runs, check_row, target1_rows, target2_rows

SETTINGS = ("asym20", "sym20", "sym40")
OPTIMIZERS = ("AdamW", "SGD")
METHODS = ("Baseline", "Cosine")
FIT_KEY = "train_corrupted_accuracy_vs_noisy_labels"

# Targets 3 (blocking cells) and 4 (the other cells, informational): the memorisation shape.
BLOCKING_SHAPE = (("sym20", "AdamW"), ("sym40", "AdamW"))
MAX_REL_PEAK = 0.40
MIN_DROP = {"asym20": 4.0, "sym20": 4.0, "sym40": 8.0}  # points
MIN_FIT = 0.80
MAX_COSINE_DROP = {"asym20": 2.0, "sym20": 2.0}  # points; no bound in sym40
AGNEWS_NOISY_BASELINE = {"task": "agnews", "setting": "noise20", "optimizer": "AdamW", "method": "AdamW"}
MIN_AGNEWS_DROP = 2.0  # points

SUMMARY_METRICS = ("rel_peak", "drop", "final", "corr_fit")


def corrupted_fit(diagnostic: float | None) -> tuple[float, str]:
    """(fit, source) of one run: the final diagnostics' evaluation pass of the corrupted subset against its
    noisy labels (the thesis's measurement), else NaN."""
    if diagnostic is not None and not math.isnan(diagnostic):
        return float(diagnostic), "evaluation pass"
    return math.nan, "missing"


def noisy_rows(runs: Runs | pd.DataFrame, setting: str, optimizer: str, method: str) -> pd.DataFrame:
    """One row per seed of a noisy CIFAR main run (λ 0, context none), with ``rel_peak``, ``drop`` (pp),
    ``final`` (%), ``corr_fit`` and ``fit_source``."""
    runs = as_runs(runs)
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
    runs = as_runs(runs)
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


def shape_target(setting: str, optimizer: str, method: str) -> str:
    """``"3"`` for the Baselines of ``BLOCKING_SHAPE``, else ``"4"`` (informational)."""
    return "3" if method == "Baseline" and (setting, optimizer) in BLOCKING_SHAPE else "4"


def shape_rows(summary: pd.DataFrame) -> list[dict[str, Any]]:
    """Targets 3 and 4 of the noisy CIFAR-100 shape on a ``shape_summary`` (or ``thesis_summary``) frame."""
    by = summary.set_index(["setting", "optimizer", "method"])
    out = []
    for setting in SETTINGS:
        for opt in OPTIMIZERS:
            base, cos = by.loc[(setting, opt, "Baseline")], by.loc[(setting, opt, "Cosine")]
            t = shape_target(setting, opt, "Baseline")
            stem = f"target{t}.{setting}.{opt}.baseline"
            n, cos_n = (f"n={int(r['n'])}" if r["n"] else "" for r in (base, cos))
            out.append(check_row(f"{stem}.rel_peak", t, base["rel_peak"], "<=", MAX_REL_PEAK, n))
            out.append(check_row(f"{stem}.drop", t, base["drop"], ">=", MIN_DROP[setting], n))
            fit = "" if math.isnan(base["corr_fit"]) else n
            out.append(check_row(f"{stem}.corr_fit", t, base["corr_fit"], ">=", MIN_FIT, fit))
            both = f"{cos_n} (Cosine), {n} (Baseline)" if n and cos_n else \
                "no runs" if not n and not cos_n else f"no {'Baseline' if cos_n else 'Cosine'} runs"
            stem = f"target4.{setting}.{opt}.cosine"
            out.append(check_row(f"{stem}.final_above_baseline", "4", cos["final"], ">", base["final"], both))
            if setting in MAX_COSINE_DROP:
                out.append(check_row(f"{stem}.drop", "4", cos["drop"], "<=", MAX_COSINE_DROP[setting], cos_n))
    return out


def agnews_rows(runs: Runs) -> list[dict[str, Any]]:
    """Target 4's noisy AG News row: the constant-LR AdamW baseline's drop, mean over seeds."""
    rows = runs.pick(**AGNEWS_NOISY_BASELINE, lam=0.0, context="none")
    drop = float(rows["drop_val_accuracy"].mean()) * 100.0 if len(rows) else math.nan
    return [check_row("target4.agnews_noise20.AdamW.drop", "4", drop, ">=", MIN_AGNEWS_DROP,
                      f"n={len(rows)}" if len(rows) else "")]


def shape_checks(runs: Runs | pd.DataFrame) -> pd.DataFrame:
    """Every check of targets 1-4 on a loaded archive: ``CHECK_COLUMNS``, in ``check_names()`` order (by
    target; within targets 3 and 4 by setting and optimizer, as X5 lists them)."""
    runs = as_runs(runs)
    shape = shape_rows(shape_summary(runs))
    rows = target1_rows(runs) + target2_rows(runs) + [r for r in shape if r["target"] == "3"] + \
        [r for r in shape if r["target"] == "4"] + agnews_rows(runs)
    return pd.DataFrame(rows, columns=CHECK_COLUMNS)


def checks_summary(checks: pd.DataFrame) -> str:
    """One line on a ``shape_checks`` frame: how many blocking and how many informational checks pass."""
    blocking = checks["blocking"].astype(bool)
    passed = checks["passed"].astype(bool)
    return (f"{int(passed[blocking].sum())} of {int(blocking.sum())} blocking checks pass (targets 1-3), "
            f"{int(passed[~blocking].sum())} of {int((~blocking).sum())} informational (target 4)")


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
    """(setting, optimizer, method) -> the verdict of its target-3 or target-4 checks on ``summary``."""
    checks = shape_rows(summary)
    out = {}
    for setting in SETTINGS:
        for opt in OPTIMIZERS:
            for method in METHODS:
                stem = f"{setting}.{opt}.{method.lower()}."
                mine = [c for c in checks if c["name"].split(".", 1)[1].startswith(stem)]
                out[(setting, opt, method)] = _verdict(mine, _SHORT)
    return out


TARGET_LABELS = {"3": "3", "4": "4 (info.)"}  # X5's Target column: blocking 3, informational 4


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
            "Target": TARGET_LABELS[shape_target(*key)], "Verdict": ours[key], "Verdict (thesis)": theirs[key],
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
    built.notes.append(f"Target 3 (blocking; AdamW Baseline in sym20 and sym40): rel. peak ≤ {MAX_REL_PEAK}, drop ≥ "
                       f"4 pp (≥ 8 in sym40), corr. fit ≥ {MIN_FIT}. Target 4 (informational): the same bounds on the "
                       "other Baselines; Cosine final > Baseline final; Cosine drop ≤ 2 pp in asym20 and sym20 "
                       "(lib.analysis.shape.shape_checks)")
    if unpublished:
        built.notes.append(f"not published by the thesis ('--'): {', '.join(unpublished)}")
    return built
