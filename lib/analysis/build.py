"""Shared machinery of the artifact builders: the archive wrapper, the run picker.

Every thesis table (T1-T24) and figure (F2-F17), the claims table (C1) and the beyond-thesis artifacts
(X1, X2 controller; X3, X4 peers; X5 shape check), is one builder ``fn(runs) -> Built``, listed in
``lib.analysis.registry``. ``Runs`` wraps the ``load_archive`` frame: it picks the runs
of a table row by content (``pick``) and loads full records (episode logs) on demand. ``lib.analysis.render`` renders a
``Built`` into files and the provenance index.

Row selection (``pick``): non-duplicate runs matching the filters; timing repeats
(``run_tag`` ``run1``, ``run2``, ...) never enter accuracy tables. When the matching
runs still differ in configuration (``CONFIG_KEYS``: profile, epochs, grids, λ, ...),
the largest group wins, ties going to the longer run, so one table row never mixes
a 20-epoch timing run with the 200-epoch accuracy runs; then one run per seed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lib.analysis.aggregate import GROUP_KEYS, METRICS, group_stats, select
from lib.analysis.load import load_run
from lib.vocab import CIFAR_TASK_DATASETS

STANDIN_LABEL = "offline stand-in — not thesis numbers"
def data_label(df: pd.DataFrame) -> str | None:
    """What the runs of ``df`` show when it is not the thesis data, else None: the one place every table,
    figure, CSV and report page takes its label from. A real-image testbed (``dataset`` column) names itself;
    runs on the offline stand-ins add the stand-in label."""
    if not len(df):
        return None
    # real data sets that stand in for a thesis data set, by the ``config.dataset`` their runs record
    parts = [CIFAR_TASK_DATASETS[d].label for d in sorted(set(df.get("dataset", pd.Series(dtype=object)).dropna()))
             if d in CIFAR_TASK_DATASETS]
    if df["standin"].fillna(False).astype(bool).any():
        parts.append(STANDIN_LABEL if not parts else f"other tasks: {STANDIN_LABEL}")
    return "; ".join(parts) or None


TIMING_TAG = re.compile(r"^run\d+$")
PEAK_RERUN_TAG = "peak-rerun"  # = lib.grids.definitions.PEAK_RERUN_TAG
CONFIG_KEYS = GROUP_KEYS + ("timing",)
NUMBER_COLUMNS = ["block", "row", "metric", "mean", "std", "n"]


class Runs:
    """The loaded archive plus the helpers every builder needs."""

    def __init__(self, df: pd.DataFrame) -> None:
        df = df.copy()
        tags = df["run_tag"] if "run_tag" in df.columns else pd.Series(None, index=df.index, dtype=object)
        df["timing"] = tags.map(lambda t: isinstance(t, str) and bool(TIMING_TAG.match(t)))
        df["peak_rerun"] = tags.map(lambda t: t == PEAK_RERUN_TAG)  # cifar-peak-rerun (thesis protocol 11.3)
        if "duplicate" not in df.columns:
            df["duplicate"] = False
        self.df = df
        self._records: dict[str, dict[str, Any]] = {}

    @property
    def label(self) -> str | None:
        """The archive's data label (``data_label``): None when every run trained on the thesis data."""
        return data_label(self.df)

    @property
    def standin(self) -> bool:
        """True when any run of the archive was trained on something other than the thesis data."""
        return self.label is not None

    def label_for(self, paths: Iterable[str]) -> str | None:
        """The data label of the runs an artifact read (their ``path``); the archive's when it read none."""
        wanted = set(paths)
        return data_label(self.df[self.df["path"].isin(wanted)]) if wanted else self.label

    def record(self, path: str) -> dict[str, Any]:
        """The full RunResult of one run (cached)."""
        if path not in self._records:
            self._records[path] = load_run(path)
        return self._records[path]

    def candidates(self, *, timing: bool | None = False, peak_rerun: bool | None = False,
                   **filters: Any) -> pd.DataFrame:
        """Non-duplicate runs matching ``filters`` (``lam=0`` also matches a missing λ); peak re-runs
        (``run_tag`` ``peak-rerun``) only when asked for, like timing repeats."""
        df = self.df[~self.df["duplicate"].astype(bool)]
        if timing is not None:
            df = df[df["timing"] == timing]
        if peak_rerun is not None:
            df = df[df["peak_rerun"] == peak_rerun]
        lam = filters.pop("lam", None)
        if lam is not None:
            df = df[np.isclose(df["lam"].fillna(0.0).astype(float), float(lam))]
        return select(df, **filters)

    def pick(self, *, timing: bool | None = False, peak_rerun: bool | None = False, **filters: Any) -> pd.DataFrame:
        """The runs of one table row: ``candidates``, the largest configuration group, one run per seed.

        A second run of the same seed and configuration (a thesis peak-checkpoint re-run
        that happened to run to the end, say) is left out: the run in the row's most common
        top-level folder of the archive wins, then the first path. Timing repeats
        (``timing=True``) share their seed and are all kept.
        """
        rows = largest_group(self.candidates(timing=timing, peak_rerun=peak_rerun, **filters))
        if timing or not rows["seed"].duplicated().any():
            return rows
        top = rows["relpath"].map(lambda p: p.replace("\\", "/").split("/")[0])
        rank = -top.map(top.value_counts())
        order = rows.assign(_rank=rank).sort_values(["_rank", "path"], kind="stable")
        return order.drop_duplicates("seed").drop(columns="_rank").sort_values(["seed", "path"], kind="stable")


def largest_group(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows of the most populous ``CONFIG_KEYS`` group (ties: more epochs, then key order), by seed."""
    if len(rows) <= 1:
        return rows
    keys = [k for k in CONFIG_KEYS if k in rows.columns]
    norm = rows[keys].map(str)  # NaN -> "nan": one hashable key per configuration
    sizes = norm.groupby(keys, sort=True, dropna=False).size()
    epochs = rows["epochs"].groupby([norm[k] for k in keys], sort=True, dropna=False).max()
    best = max(sizes.index, key=lambda k: (sizes[k], epochs[k]))
    best = best if isinstance(best, tuple) else (best,)
    mask = (norm == pd.Series(best, index=keys)).all(axis=1)
    return rows[mask].sort_values(["seed", "path"], kind="stable")


def main_filters(task: str, method: str) -> dict[str, Any]:
    """Context and λ of the thesis' main runs: λ 0; context trend for SST-2 AEES, else none."""
    managed = not (method.startswith(("AdamW", "SGD")) or method in ("Baseline", "Cosine", "Linear"))
    return {"lam": 0.0, "context": "trend" if task == "sst2" and managed else "none"}


@dataclass
class Built:
    """What a builder found: table cells/styles, a figure, numbers, inputs, missing rows."""

    cells: pd.DataFrame | None = None
    styles: pd.DataFrame | None = None
    numbers: pd.DataFrame | None = None  # long form: NUMBER_COLUMNS, display units
    figure: Any = None  # matplotlib Figure
    inputs: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    expected: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        """``ok`` (every row has runs), ``partial`` (some rows) or ``missing-runs`` (none)."""
        if not self.inputs:
            return "missing-runs"
        return "partial" if self.missing else "ok"

    def use(self, rows: pd.DataFrame, what: str) -> pd.DataFrame:
        """Count one expected row; remember its inputs, or that it is missing."""
        self.expected += 1
        if rows.empty:
            self.missing.append(what)
        else:
            self.inputs.extend(rows["path"])
        return rows


def stats(rows: pd.DataFrame, by: Iterable[str] = ("method",), metrics: Iterable[str] = METRICS) -> pd.DataFrame:
    """``group_stats`` of already-picked rows (no further config split)."""
    return group_stats(rows, by=list(by), metrics=list(metrics))


def numbers_from(summary: pd.DataFrame, metrics: dict[str, tuple[str, float]], *, row_col: str = "method",
                 block: str | Callable[[pd.Series], str] = "") -> pd.DataFrame:
    """Long-form numbers of a summary: ``metrics`` maps name -> (summary metric, scale)."""
    out = []
    for _, r in summary.iterrows():
        b = block(r) if callable(block) else block
        for name, (metric, scale) in metrics.items():
            out.append({"block": b, "row": str(r[row_col]), "metric": name, "mean": r[f"{metric}_mean"] * scale,
                        "std": r[f"{metric}_std"] * scale, "n": int(r["n"])})
    return pd.DataFrame(out, columns=NUMBER_COLUMNS)
