"""Which thesis artifacts (T1-T24, F2-F17 of INVENTORY.md) an archive has runs for.

Each artifact is a list of cells; a cell is a set of column filters on the
``load_archive`` frame (a tuple value means "any of"). An artifact is ``ok`` when
every cell has at least one (non-duplicate) run, else ``missing-runs``. The cells
name what a table or figure needs, not how many seeds; ``n`` comes with the row.
"""

from __future__ import annotations

from itertools import product
from typing import Any

import pandas as pd

from lib.analysis.aggregate import select

Cell = dict[str, Any]
_NOISY = ("asym20", "sym20", "sym40")
_OPTS = ("AdamW", "SGD")
_NOISY_METHODS = ("Baseline", "AEES", "Cosine", "Cosine + AEES")
_NLP_MAIN = ("AdamW", "AdamW + WL", "AEES", "AEES + WL")
_NLP_AXIS = ("AdamW + WL", "AEES-LR + WL", "AEES-Noise + WL", "AEES + WL")
_T21 = ("AdamW", "AdamW + WL", "Fixed σ=0.005 + WL", "Fixed σ=0.01 + WL", "Random σ + WL",
        "AEES-Noise + WL", "AEES + WL")
# Fixed ×1.0 is the baseline copy in the thesis (clean: by design; noisy: identical numbers).
_FIXED1 = ("Fixed ×1.0", "Baseline")


def grid(base: Cell, **vary: tuple[Any, ...]) -> tuple[Cell, ...]:
    """Cartesian product of ``vary`` on top of ``base``."""
    keys = list(vary)
    return tuple({**base, **dict(zip(keys, values))} for values in product(*(vary[k] for k in keys)))


_CLEAN = {"task": "cifar100", "setting": "clean", "optimizer": "AdamW"}
_T1 = grid(_CLEAN, method=("AdamW", "AdamW + Cosine", "AdamW + Linear", "AEES", "AEES + Cosine", "AEES + Linear"))
_T2 = grid(_CLEAN, method=(("Fixed ×1.0", "AdamW"), "Fixed ×0.5", "Fixed ×2.0", "AEES"))
_T9 = grid({"task": "cifar100"}, setting=_NOISY, optimizer=_OPTS,
           method=("Baseline", "Fixed ×0.5", _FIXED1, "Fixed ×2.0", "AEES", "Cosine", "Cosine + AEES"))
_CKPT = grid({"task": "cifar100", "has_diagnostics": True, "rerun": True}, setting=("asym20", "sym40"),
             optimizer=_OPTS, method=_NOISY_METHODS)


def _overhead(full: bool) -> tuple[Cell, ...]:
    cells: list[Cell] = []
    for task, opts, sched in (("cifar100", _OPTS, "cosine"), ("sst2", ("AdamW",), "warmup_linear"),
                              ("agnews", ("AdamW",), "warmup_linear")):
        base = {"task": task, "setting": "clean", "has_runtime_metrics": True}
        scheds = ("none", sched) if full else ("none",)
        cells += grid(base, optimizer=opts, kind=("baseline",), lr_scheduler=("none", sched))
        cells += grid(base, optimizer=opts, aees_axis=("AEES-LR", "AEES-Noise", "AEES-Dual"), lr_scheduler=scheds)
    return tuple(cells)


def _nlp(task: str, setting: str, methods: tuple[str, ...]) -> tuple[Cell, ...]:
    return grid({"task": task, "setting": setting}, method=methods)


ARTIFACTS: dict[str, tuple[str, tuple[Cell, ...]]] = {
    "T1": ("Clean CIFAR-100 main table", _T1),
    "T2": ("Clean CIFAR-100 fixed-LR ablation", _T2),
    "T3": ("Clean CIFAR-100 compact appendix table", _T1 + _T2),
    "T4": ("Noisy CIFAR-100 asym20 main table", grid({"task": "cifar100", "setting": "asym20"},
                                                    optimizer=_OPTS, method=_NOISY_METHODS)),
    "T5": ("Noisy CIFAR-100 sym20 main table", grid({"task": "cifar100", "setting": "sym20"},
                                                   optimizer=_OPTS, method=_NOISY_METHODS)),
    "T6": ("Noisy CIFAR-100 sym40 main table", grid({"task": "cifar100", "setting": "sym40"},
                                                   optimizer=_OPTS, method=_NOISY_METHODS)),
    "T7": ("Noisy CIFAR-100 detailed appendix table", grid({"task": "cifar100", "has_diagnostics": True},
                                                          setting=_NOISY, optimizer=_OPTS, method=_NOISY_METHODS)),
    "T8": ("Noisy CIFAR-100 fixed-LR ablation summary", _T9),
    "T9": ("Noisy CIFAR-100 fixed-LR ablation, detailed", _T9),
    "T10": ("Paired stats: AEES vs best fixed multiplier", _T9),
    "T11": ("Peak-checkpoint diagnostics, main", _CKPT),
    "T12": ("Peak-checkpoint diagnostics, per seed", _CKPT),
    "T13": ("Compute overhead decomposition", _overhead(full=False)),
    "T14": ("Compute overhead, detailed", _overhead(full=True)),
    "T15": ("SST-2 main table", _nlp("sst2", "clean", _NLP_MAIN)),
    "T16": ("SST-2 axis table", _nlp("sst2", "clean", _NLP_AXIS)),
    "T17": ("Clean AG News main table", _nlp("agnews", "clean", _NLP_MAIN)),
    "T18": ("Noisy AG News main table", _nlp("agnews", "noise20", _NLP_MAIN)),
    "T19": ("Noisy AG News axis table", _nlp("agnews", "noise20", _NLP_AXIS)),
    "T20": ("NLP detailed appendix table", _nlp("sst2", "clean", _NLP_MAIN + _NLP_AXIS)
            + _nlp("agnews", "clean", _NLP_MAIN) + _nlp("agnews", "noise20", _NLP_MAIN + _NLP_AXIS)),
    "T21": ("Noisy AG News σ-axis falsification ablation", _nlp("agnews", "noise20", _T21)),
    "T22": ("Instability-penalty ablation", grid({"task": "cifar100", "optimizer": "AdamW", "method": "AEES"},
                                                 setting=("clean", "sym20"), lam=(0.0, 0.1))),
    "T23": ("Trend-context ablation", grid({"task": "cifar100", "optimizer": "AdamW", "method": "AEES"},
                                           setting=("clean", "sym20"), context=("none", "trend"))
            + grid({"task": "sst2", "setting": "clean", "method": "AEES"}, context=("none", "trend"))),
    "T24": ("Noisy CIFAR-100 small-noise-injection ablation",
            grid({"task": "cifar100", "setting": "sym20", "context": "trend"}, aees_axis=("AEES-LR", "AEES-Dual"))),
    "F2": ("Clean CIFAR-100 bar plot", _T1),
    "F3": ("Clean CIFAR-100 AEES late-stage seeds", grid(_CLEAN, method=("AEES",))),
    "F4": ("Clean CIFAR-100 fixed vs AEES late stage", _T2),
    "F5": ("Noisy CIFAR-100 asym20 curves", grid({"task": "cifar100", "setting": "asym20"},
                                                optimizer=_OPTS, method=_NOISY_METHODS)),
    "F6": ("Noisy CIFAR-100 sym20 curves", grid({"task": "cifar100", "setting": "sym20"},
                                               optimizer=_OPTS, method=_NOISY_METHODS)),
    "F7": ("Noisy CIFAR-100 sym40 curves", grid({"task": "cifar100", "setting": "sym40"},
                                               optimizer=_OPTS, method=_NOISY_METHODS)),
    "F8": ("Noisy CIFAR-100 noise-ablation bar plot",
           grid({"task": "cifar100", "setting": "sym20", "context": "trend"}, aees_axis=("AEES-LR", "AEES-Dual"))),
    "F9": ("Arm selection, noisy AG News", _nlp("agnews", "noise20", ("AEES + WL",))),
    "F10": ("Arm selection, CIFAR sym40 paired", grid({"task": "cifar100", "setting": "sym40", "optimizer": "AdamW",
                                                      "has_episode_logs": True}, method=("AEES", "Cosine + AEES"))),
    "F11": ("Reward per arm, noisy AG News", _nlp("agnews", "noise20", ("AEES + WL",))),
    "F12": ("Update-norm trajectories", ({**_CLEAN, "method": "AEES + Linear", "has_episode_logs": True},
                                         {"task": "sst2", "setting": "clean", "method": "AEES + WL"},
                                         {"task": "agnews", "setting": "noise20", "method": "AEES + WL"})),
    "F13": ("Peak-checkpoint diagnostics scatter", tuple(c for c in _CKPT if c["optimizer"] == "AdamW")),
    "F14": ("Noisy AG News curves", _nlp("agnews", "noise20", ("AdamW", "AdamW + WL", "AEES", "AEES-Noise + WL",
                                                                "AEES + WL"))),
    "F15": ("SST-2 curves", _nlp("sst2", "clean", _NLP_MAIN)),
    "F16": ("Noisy AG News σ-ablation bar plot", _nlp("agnews", "noise20", _T21[1:])),
    "F17": ("Noisy AG News σ-ablation curves", _nlp("agnews", "noise20", _T21[1:])),
}


def _describe(cell: Cell) -> str:
    return ",".join(f"{k}={'|'.join(map(str, v)) if isinstance(v, tuple) else v}" for k, v in cell.items())


def cell_runs(df: pd.DataFrame, cell: Cell) -> pd.DataFrame:
    """Non-duplicate runs of ``df`` that satisfy ``cell``.

    ``rerun=True`` keeps runs shorter than the longest run of the same
    task/setting/optimizer/method (the peak-checkpoint re-runs stop early).
    """
    filters = {k: v for k, v in cell.items() if k != "rerun"}
    runs = select(df[~df["duplicate"].astype(bool)], **filters)
    if cell.get("rerun") and not runs.empty:
        full = select(df, task=cell["task"], setting=cell["setting"], optimizer=cell["optimizer"],
                      method=cell["method"])["epochs"].max()
        runs = runs[runs["epochs"] < full]
    return runs


def artifact_status(df: pd.DataFrame, ids: list[str] | None = None) -> pd.DataFrame:
    """One row per artifact: ``artifact, title, status (ok|missing-runs), n_cells, n_missing, n_runs, missing``."""
    unknown = sorted(set(ids or []) - set(ARTIFACTS))
    if unknown:
        raise KeyError(f"artifact_status: unknown artifact ids {unknown}; known: {list(ARTIFACTS)}")
    rows = []
    for art in ids or list(ARTIFACTS):
        title, cells = ARTIFACTS[art]
        found = [cell_runs(df, c) for c in cells] if not df.empty else [df] * len(cells)
        missing = [_describe(c) for c, runs in zip(cells, found) if runs.empty]
        n_runs = len(pd.concat(found).drop_duplicates("path")) if not df.empty else 0
        rows.append({"artifact": art, "title": title, "status": "missing-runs" if missing else "ok",
                     "n_cells": len(cells), "n_missing": len(missing), "n_runs": n_runs,
                     "missing": "; ".join(missing)})
    return pd.DataFrame(rows)
