"""Plot helpers shared by the figure builders: palette, curves, bars, the stand-in mark.

Figures are ``matplotlib.figure.Figure`` objects (no pyplot state), so building all
of them in one process leaks nothing; ``lib.analysis.render`` saves PNG + PDF.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from lib.analysis.build import STANDIN_LABEL

# One colour per figure name (``labels.figure_name``), the INVENTORY section 3 palette where the thesis
# has one: flat grey, cosine blue, linear cyan, AEES(-LR) red, AEES-Noise purple, AEES-Dual brown,
# scheduler + AEES orange. Names that share a colour never share a figure (tests/test_figures.py checks it).
COLORS = {
    "Flat": "#666666", "Cosine": "#1f77b4", "Linear": "#17becf",
    "AEES": "#d62728", "AEES-LR": "#d62728", "AEES-Noise": "#9467bd", "AEES-Dual": "#8c564b",
    "Cosine + AEES": "#ff7f0e", "Linear + AEES": "#ffbb78", "Linear + AEES-LR": "#d62728",
    "Linear + AEES-Noise": "#9467bd", "Linear + AEES-Dual": "#ff7f0e",
    "Fixed ×0.5": "#2ca02c", "Fixed ×1.0": "#666666", "Fixed ×2.0": "#bcbd22",
    "Linear + Fixed σ=0.005": "#2ca02c", "Linear + Fixed σ=0.01": "#bcbd22", "Linear + Random σ": "#e377c2",
    "No gradient noise": "#d62728", "Gradient-noise injection": "#9467bd",
}
ARM_COLORS = ("#ff7f0e", "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b")
ACCURACY_RANGE = (0.0, 100.0)


def color(name: str) -> str:
    """The colour of a figure name (``labels.figure_name``); an unknown name is an error, not a default grey."""
    if name not in COLORS:
        raise KeyError(f"plots.color: no colour for {name!r}; figure names with colours: {', '.join(COLORS)}")
    return COLORS[name]


def clamp_accuracy(ax, axis: str = "y") -> None:
    """Keep an accuracy axis (percent) inside 0-100: a ±SD band or an error bar never stretches it beyond."""
    for a in ("x", "y") if axis == "both" else (axis,):
        get, set_ = getattr(ax, f"get_{a}lim"), getattr(ax, f"set_{a}lim")
        lo, hi = get()
        set_(max(lo, ACCURACY_RANGE[0]), min(hi, ACCURACY_RANGE[1]))


def new_figure(ncols: int = 1, nrows: int = 1, *, width: float = 5.0, height: float = 3.4,
               sharey: bool = False) -> tuple[Figure, np.ndarray]:
    """A Figure with a grid of axes (always a flat array)."""
    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharey=sharey, squeeze=False)
    return fig, axes.ravel()


def mark_standin(fig: Figure, standin: bool) -> Figure:
    """Put the visible "offline stand-in — not thesis numbers" label on a stand-in figure."""
    if standin:
        fig.suptitle(STANDIN_LABEL, color="#b00000", fontsize=10, fontweight="bold")
    return fig


def curves(rows: pd.DataFrame, *, smooth: int = 1) -> np.ndarray:
    """Per-seed ``val_accuracies`` in percent, truncated to the shortest, optionally rolling-mean smoothed."""
    series = [list(v) for v in rows["val_accuracies"] if len(v)]
    if not series:
        return np.empty((0, 0))
    n = min(len(s) for s in series)
    arr = np.asarray([s[:n] for s in series], dtype=float) * 100
    if smooth > 1:
        arr = pd.DataFrame(arr.T).rolling(smooth, center=True, min_periods=1).mean().to_numpy().T
    return arr


def mean_sd(arr: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sample SD (0 for a single series)."""
    mean = arr.mean(axis=axis)
    sd = arr.std(axis=axis, ddof=1) if arr.shape[axis] > 1 else np.zeros_like(mean)
    return mean, sd


def band(ax, x: np.ndarray, arr: np.ndarray, label: str, col: str, **kw) -> None:
    """Cross-seed mean line (legend entry ``label``) with a ±SD band."""
    mean, sd = mean_sd(arr)
    ax.plot(x, mean, color=col, label=label, **kw)
    ax.fill_between(x, mean - sd, mean + sd, color=col, alpha=0.18, lw=0)


def peak_final_markers(ax, rows: pd.DataFrame, col: str) -> None:
    """Hollow circle at (mean peak epoch, mean peak acc), filled square at (T, mean final acc); both from the
    unsmoothed per-seed values (``marker_legend`` names them)."""
    peak_ep = float(rows["peak_epoch"].mean())
    ax.plot([round(peak_ep)], [rows["best_val_accuracy"].mean() * 100], "o", mfc="none", mec=col, ms=7)
    ax.plot([rows["val_accuracies"].map(len).min()], [rows["final_val_accuracy"].mean() * 100], "s", color=col, ms=5)


def marker_legend(smoothed: bool) -> list[Line2D]:
    """Legend entries of ``peak_final_markers`` (black: the colour is the series')."""
    raw = ", unsmoothed" if smoothed else ""
    return [Line2D([], [], ls="none", marker="o", mfc="none", mec="black", ms=7,
                   label=f"peak (mean epoch and accuracy{raw})"),
            Line2D([], [], ls="none", marker="s", color="black", ms=5, label=f"final (mean accuracy{raw})")]


def peak_final_bars(ax, groups: Sequence[tuple], *, ylim: tuple[float, float] | None = None,
                    digits: int = 1) -> None:
    """Peak (solid) and final (hatched) bars with ±1 SD, annotated; groups are (label, rows[, colour]).

    The y-axis stays inside 0-100 %; a mean whose label would not fit above its error bar is written
    inside the top of its bar.
    """
    width = 0.38
    bars = []
    for i, (label, rows, *rest) in enumerate(groups):
        fill = rest[0] if rest else color(label)
        for j, (col, hatch) in enumerate((("best_val_accuracy", None), ("final_val_accuracy", "////"))):
            vals = rows[col].to_numpy(dtype=float) * 100
            mean = float(vals.mean())
            sd = float(vals.std(ddof=1)) if len(vals) > 1 else 0.0
            x = i + (j - 0.5) * width
            ax.bar(x, mean, width, yerr=sd, color=fill, alpha=1.0 if j == 0 else 0.55, hatch=hatch,
                   edgecolor="black", lw=0.5, capsize=3)
            bars.append((x, mean, sd))
    ax.set_xticks(range(len(groups)), [g[0] for g in groups], rotation=20, ha="right")
    lo, hi = min(m - s for _, m, s in bars), max(m + s for _, m, s in bars)
    if ylim is None or lo < ylim[0] or hi > ylim[1]:  # the thesis range only when the data fit in it
        pad = max(0.5, (hi - lo) * 0.15)
        ylim = (math.floor(lo - pad), math.ceil(hi + 2 * pad))
    ylim = (max(ylim[0], ACCURACY_RANGE[0]), min(ylim[1], ACCURACY_RANGE[1]))
    ax.set_ylim(*ylim)
    room = 0.06 * (ylim[1] - ylim[0])  # the height of one annotation in data units, roughly
    for x, mean, sd in bars:
        if mean + sd + room <= ylim[1]:
            ax.annotate(f"{mean:.{digits}f}", (x, mean + sd), ha="center", va="bottom", fontsize=7,
                        xytext=(0, 2), textcoords="offset points")
        else:
            ax.annotate(f"{mean:.{digits}f}", (x, min(mean, ylim[1])), ha="center", va="top", fontsize=7,
                        xytext=(0, -3), textcoords="offset points",
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85})
    ax.set_ylabel("validation accuracy (%)")
    keys = [Patch(facecolor="#999999", edgecolor="black", lw=0.5, label="Peak"),  # grey: the colour is the method's
            Patch(facecolor="#999999", alpha=0.55, hatch="////", edgecolor="black", lw=0.5, label="Final")]
    ax.legend(handles=keys, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)  # beside the axes


def odd_window(n: int, fraction: float = 0.05, minimum: int = 5) -> int:
    """Odd rolling window of about ``fraction`` of ``n`` (at least ``minimum``, at most ``n``)."""
    w = max(minimum, int(round(n * fraction)))
    w = w if w % 2 else w + 1
    return max(1, min(w, n if n % 2 else n - 1))
