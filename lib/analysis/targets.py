r"""Targets 1 and 2 of the miniature: clean CIFAR-100 off the ceiling, and the statistics (seeds, seed SD).

``lib.analysis.shape`` describes all four targets and combines their checks (``shape_checks``); this module
holds the check row, the picking of a grid cell's runs (``cell_runs``) and the rows of targets 1 and 2.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import pandas as pd

from lib.analysis import tables_cifar
from lib.analysis.build import PEAK_RERUN_TAG, Runs
from lib.analysis.style import fmt_ci, fmt_p
from lib.grids.cells import MAIN_EPOCHS, MIN_SCALED_EPOCHS, Cell
from lib.grids.definitions import GRIDS

BLOCKING_TARGETS = ("1", "2", "3")

# Target 1: clean CIFAR-100 off the ceiling.
CLEAN_GRID = "cifar-clean"
CLEAN_BEST_FLOOR, CLEAN_BEST_CEILING = 30.0, 92.0  # percent, mean best over seeds
MIN_SEEDS_CLEAN = 3
MAX_CLEAN_SEED_SD = 1.5  # points
# The gaps T1-T3 must report with paired statistics: table -> (check name, row against the flat row).
PAIRED_GAPS = {"T1": (("cosine", "AdamW + Cosine"), ("linear", "AdamW + Linear"), ("aees", "AEES")),
               "T2": (("aees", "AEES"),),
               "T3": (("cosine", "AdamW + Cosine"), ("linear", "AdamW + Linear"), ("aees", "AEES"))}
MIN_PAIRED_SEEDS = 2  # the fewest that give a CI
CLEAN_TABLES = {"T1": tables_cifar.t1, "T2": tables_cifar.t2, "T3": tables_cifar.t3}
# Target 2: seeds and seed spread.
MAIN_NOISY_TABLES = frozenset({"T4", "T5", "T6"})
THREE_SEED_GRIDS = ("cifar-peak-rerun", "sst2", "agnews-clean", "agnews-noisy")
MIN_SEEDS_MAIN, MIN_SEEDS_OTHER = 3, 2
SEED_EXEMPT_GRIDS = ("compute-overhead", CLEAN_GRID)  # timing runs; clean CIFAR is target 1's
NLP_GRIDS = ("sst2", "agnews-clean", "agnews-noisy")
MAX_NLP_SEED_SD = 1.0  # points

OPS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}
CHECK_COLUMNS = ["name", "target", "blocking", "value", "op", "threshold", "passed", "detail"]


def as_runs(runs: Runs | pd.DataFrame) -> Runs:
    return runs if isinstance(runs, Runs) else Runs(runs)


def check_row(name: str, target: str, value: float, op: str, threshold: float, detail: str = "") -> dict[str, Any]:
    """One row of ``CHECK_COLUMNS``: ``value op threshold``; NaN on either side fails; blocking by target."""
    value = float(value) if value is not None else math.nan
    passed = not math.isnan(value) and not math.isnan(threshold) and bool(OPS[op](value, threshold))
    if math.isnan(value) and not detail:
        detail = "no runs"
    return {"name": name, "target": target, "blocking": target in BLOCKING_TARGETS, "value": value, "op": op,
            "threshold": float(threshold), "passed": passed, "detail": detail}


def cell_runs(runs: Runs | pd.DataFrame, cell: Cell) -> pd.DataFrame:
    """The archive's runs of one grid cell, by content, one per seed (see the module docstring)."""
    runs = as_runs(runs)
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


def _three_seed_cell(grid: str, cell: Cell) -> bool:
    return grid in THREE_SEED_GRIDS or bool(MAIN_NOISY_TABLES & set(cell.tables))


def _short(cells: list[tuple[str, int]], limit: int = 6) -> str:
    text = ", ".join(f"{name}: {n}" for name, n in cells[:limit])
    return text + (f" (+{len(cells) - limit} more)" if len(cells) > limit else "")


def _seed_check(name: str, target: str, cells: list[Cell], counts: dict[str, int], minimum: int) -> dict[str, Any]:
    """One check: the fewest seeds of any of ``cells`` against ``minimum``; the short cells in ``detail``."""
    low = [(c.name, counts[c.name]) for c in cells if counts[c.name] < minimum]
    detail = f"{len(cells)} cells; below {minimum}: {_short(low)}" if low else f"{len(cells)} cells"
    return check_row(name, target, min(counts[c.name] for c in cells), ">=", minimum, detail)


def _sd_check(name: str, target: str, label: str, rows: pd.DataFrame, limit: float) -> dict[str, Any]:
    sd = float((rows["best_val_accuracy"] * 100.0).std())  # NaN below two runs
    detail = f"{label}, n={len(rows)}" + (" (SD needs 2 seeds)" if len(rows) == 1 else "")
    return check_row(name, target, sd, "<=", limit, detail if len(rows) else "")


def _paired_rows(runs: Runs) -> list[dict[str, Any]]:
    """Target 1's paired gaps: what T1-T3 print (``tables_cifar.flat_gaps`` through their builders)."""
    out = []
    for table, gaps in PAIRED_GAPS.items():
        numbers = CLEAN_TABLES[table](runs).numbers
        got = numbers.set_index(["row", "metric"])["mean"] if numbers is not None else pd.Series(dtype=float)
        ns = numbers.set_index(["row", "metric"])["n"] if numbers is not None else pd.Series(dtype=float)
        flat = tables_cifar.FLAT[table]
        for key, label in gaps:
            name = f"target1.paired.{table}.{key}"
            if (label, "delta_best_vs_flat") not in got.index or not ns[(label, "delta_best_vs_flat")]:
                out.append(check_row(name, "1", math.nan, ">=", MIN_PAIRED_SEEDS, f"{label} or {flat}: no runs"))
                continue
            g = {m: got[(label, m)] for m in tables_cifar.GAP_METRICS}
            n = int(ns[(label, "delta_best_vs_flat")])
            detail = (f"{label} − {flat}: {fmt_ci(g['delta_best_vs_flat'], g['ci_low'], g['ci_high'])} pp, "
                      f"p {fmt_p(g['p']).strip('$')}, n={n}")  # plain text: no LaTeX in a check's detail
            out.append(check_row(name, "1", n, ">=", MIN_PAIRED_SEEDS, detail))  # a CI from 2 paired seeds on
    return out


def target1_rows(runs: Runs) -> list[dict[str, Any]]:
    """Target 1: clean CIFAR-100 off the ceiling, seeds, seed SD (per cell) and the paired gaps of T1-T3."""
    cells = GRIDS[CLEAN_GRID].cells
    picked = {c.name: cell_runs(runs, c) for c in cells}
    out = []
    for c in cells:
        rows = picked[c.name]
        best = float(rows["best_val_accuracy"].mean()) * 100.0 if len(rows) else math.nan
        n = f"{c.label}, n={len(rows)}" if len(rows) else ""
        out.append(check_row(f"target1.above_floor.{c.name}", "1", best, ">=", CLEAN_BEST_FLOOR, n))
        out.append(check_row(f"target1.below_ceiling.{c.name}", "1", best, "<=", CLEAN_BEST_CEILING, n))
        out.append(_sd_check(f"target1.seed_sd.{c.name}", "1", c.label, rows, MAX_CLEAN_SEED_SD))
    out.append(_seed_check(f"target1.seeds.{CLEAN_GRID}", "1", list(cells), {k: len(v) for k, v in picked.items()},
                           MIN_SEEDS_CLEAN))
    return out + _paired_rows(runs)


def target2_rows(runs: Runs) -> list[dict[str, Any]]:
    """Target 2: seeds per cell (one check per grid and class) and seed SD of best accuracy (per NLP cell)."""
    out = []
    for grid in GRIDS.values():
        if grid.name in SEED_EXEMPT_GRIDS:
            continue
        counts = {c.name: len(cell_runs(runs, c)) for c in grid.cells}
        for cls, main, minimum in (("main", True, MIN_SEEDS_MAIN), ("other", False, MIN_SEEDS_OTHER)):
            cells = [c for c in grid.cells if _three_seed_cell(grid.name, c) == main]
            if cells:
                out.append(_seed_check(f"target2.seeds.{grid.name}.{cls}", "2", cells, counts, minimum))
    for grid_name in NLP_GRIDS:
        for cell in GRIDS[grid_name].cells:
            out.append(_sd_check(f"target2.seed_sd.{grid_name}.{cell.name}", "2", cell.label,
                                 cell_runs(runs, cell), MAX_NLP_SEED_SD))
    return out
