"""Beyond the thesis: AEES beside the schedule-free optimizers, X3 (table) and X4 (figure).

Per task block (clean CIFAR-100, sym40 CIFAR-100 AdamW family, SST-2, noisy AG News), the thesis'
AdamW, its scheduled AdamW (Cosine on CIFAR; WL, the NLP thesis schedule, on the NLP tasks) and
AEES rows beside Schedule-Free AdamW and Prodigy, alone and under AEES (grid ``peers``): best /
final / drop and peak epoch (mean ± sample SD over seeds), and the seed-paired comparison of
protocol 12 against the block's AEES row (difference in best accuracy, percentile-bootstrap 95 %
CI, paired t-test p; exploratory). Rows come from the runs' content (``identify``), never from
file names. With no peer run in the archive both artifacts are ``missing-runs``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from lib.analysis.aggregate import paired_stats
from lib.analysis.build import Built, Runs, stats
from lib.analysis.labels import PEER_LABELS, figure_name, latex_label
from lib.analysis.plots import clamp_accuracy, color, new_figure
from lib.analysis.style import fmt_ci, fmt_p, fmt_pm

PEER_METHODS = tuple(m for p in PEER_LABELS.values() for m in (p, f"{p} + AEES"))
# (block name, task, setting, [(row label, method label, context of that row)]): thesis rows first.
BLOCKS: tuple[tuple[str, str, str, tuple[tuple[str, str], ...]], ...] = (
    ("CIFAR-100 clean", "cifar100", "clean", (("AdamW", "none"), ("AdamW + Cosine", "none"), ("AEES", "none"))),
    ("CIFAR-100 sym40", "cifar100", "sym40", (("Baseline", "none"), ("Cosine", "none"), ("AEES", "none"))),
    ("SST-2", "sst2", "clean", (("AdamW", "none"), ("AdamW + WL", "none"), ("AEES", "trend"))),
    ("AG News 20 %", "agnews", "noise20", (("AdamW", "none"), ("AdamW + WL", "none"), ("AEES", "none"))),
)
AEES_ROW = "AEES"


def _rows(block: tuple) -> list[tuple[str, str, str]]:
    """(method label, optimizer, context) of every row of a block, thesis rows then peers."""
    _, task, _, thesis = block
    aees_context = dict(thesis)[AEES_ROW]
    out = [(m, "AdamW", ctx) for m, ctx in thesis]
    for opt, peer in PEER_LABELS.items():
        out += [(peer, opt, "none"), (f"{peer} + AEES", opt, aees_context)]
    return out


def peer_rows(runs: Runs, built: Built) -> pd.DataFrame:
    """The picked runs of every block and row (a ``block`` column added), missing rows recorded."""
    parts = []
    for block in BLOCKS:
        name, task, setting, _ = block
        for method, opt, ctx in _rows(block):
            rows = built.use(runs.pick(task=task, setting=setting, optimizer=opt, method=method, context=ctx,
                                       lam=0.0), f"{name}: {method}")
            if not rows.empty:
                parts.append(rows.assign(block=name))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _collect(runs: Runs) -> tuple[Built, pd.DataFrame]:
    """The :func:`peer_comparison` of X3/X4, or an empty frame and a ``missing-runs`` Built when
    the archive holds no peer run at all."""
    built = Built()
    rows = peer_rows(runs, built)
    if rows.empty or not rows["method"].isin(PEER_METHODS).any():
        built.inputs.clear()
        built.missing = ["Schedule-Free / Prodigy runs (grid peers)"]
        return built, pd.DataFrame()
    return built, peer_comparison(rows)


def peer_comparison(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (block, method): n, best / final / drop / peak epoch (mean, SD; accuracies in %),
    and the paired comparison of best accuracy against the block's AEES row (pp; NaN for AEES itself)."""
    out = []
    for block in BLOCKS:
        name = block[0]
        part = rows[rows["block"] == name] if not rows.empty else rows
        if part.empty:
            continue
        summary = stats(part, by=("method",)).set_index("method")
        aees = part[part["method"] == AEES_ROW].set_index("seed")["best_val_accuracy"]
        for method in [m for m, _, _ in _rows(block) if m in summary.index]:
            s = summary.loc[method]
            row: dict[str, Any] = {"block": name, "method": method, "n": int(s["n"]), "seeds": s["seeds"]}
            for metric, scale in (("best_val_accuracy", 100), ("final_val_accuracy", 100),
                                  ("drop_val_accuracy", 100), ("peak_epoch", 1)):
                row[f"{metric}_mean"] = s[f"{metric}_mean"] * scale
                row[f"{metric}_std"] = s[f"{metric}_std"] * scale
            paired = {"n": 0, "diff_mean": math.nan, "ci_low": math.nan, "ci_high": math.nan, "p_value": math.nan}
            if method != AEES_ROW and not aees.empty:
                mine = part[part["method"] == method].set_index("seed")["best_val_accuracy"]
                seeds = sorted(set(mine.index) & set(aees.index))
                if seeds:
                    paired = paired_stats(mine.loc[seeds].to_numpy(), aees.loc[seeds].to_numpy(), scale=100.0)
            row.update({"paired_n": paired["n"], "delta_best_vs_aees": paired["diff_mean"],
                        "ci_low": paired["ci_low"], "ci_high": paired["ci_high"], "p_value": paired["p_value"]})
            out.append(row)
    return pd.DataFrame(out)


def _delta_cell(r: pd.Series) -> str:
    if r["method"] == AEES_ROW or r["paired_n"] == 0:
        return "--"
    if math.isnan(r["ci_low"]):
        return f"{r['delta_best_vs_aees']:.2f}"
    return fmt_ci(r["delta_best_vs_aees"], r["ci_low"], r["ci_high"])


def x3(runs: Runs) -> Built:
    built, comp = _collect(runs)
    if comp.empty:
        return built
    first = ~comp["block"].duplicated()
    built.cells = pd.DataFrame({
        "Task": np.where(first, comp["block"].map(latex_label), ""),
        "Method": comp["method"].map(latex_label),
        "n": comp["n"].astype(str),
        "Best (\\%)": [fmt_pm(m, s, 2) for m, s in zip(comp["best_val_accuracy_mean"], comp["best_val_accuracy_std"])],
        "Final (\\%)": [fmt_pm(m, s, 2) for m, s in zip(comp["final_val_accuracy_mean"],
                                                       comp["final_val_accuracy_std"])],
        "Drop (pp)": [fmt_pm(m, s, 2) for m, s in zip(comp["drop_val_accuracy_mean"], comp["drop_val_accuracy_std"])],
        "Peak epoch": [fmt_pm(m, s, 1) for m, s in zip(comp["peak_epoch_mean"], comp["peak_epoch_std"])],
        "$\\Delta$ Best vs AEES (pp)": [_delta_cell(r) for _, r in comp.iterrows()],
        "$p$": [fmt_p(p) if m != AEES_ROW else "--" for m, p in zip(comp["method"], comp["p_value"])],
    })
    built.cells.attrs["midrule_before"] = [i for i in np.flatnonzero(first.to_numpy()) if i > 0]
    built.numbers = pd.DataFrame(
        [{"block": r["block"], "row": r["method"], "metric": metric, "mean": r[f"{key}_mean"] if std else r[key],
          "std": r[f"{key}_std"] if std else math.nan, "n": r["n"] if std else r["paired_n"]}
         for _, r in comp.iterrows()
         for metric, key, std in (("best", "best_val_accuracy", True), ("final", "final_val_accuracy", True),
                                  ("drop", "drop_val_accuracy", True), ("peak_epoch", "peak_epoch", True),
                                  ("delta_best_vs_aees", "delta_best_vs_aees", False), ("ci_low", "ci_low", False),
                                  ("ci_high", "ci_high", False), ("p", "p_value", False))],
        columns=["block", "row", "metric", "mean", "std", "n"])
    built.notes.append("paired vs AEES: seed-paired best-accuracy difference, percentile-bootstrap 95 % CI, "
                       "paired t-test p (protocol 12; exploratory, not corrected for multiple comparisons)")
    return built


def x4(runs: Runs) -> Built:
    built, comp = _collect(runs)
    if comp.empty:
        return built
    blocks = list(dict.fromkeys(comp["block"]))
    ncols = min(2, len(blocks))
    fig, axes = new_figure(ncols, -(-len(blocks) // ncols), width=4.6, height=3.6)
    tasks = {b[0]: b[1] for b in BLOCKS}
    for ax, name in zip(axes, blocks):
        part = comp[comp["block"] == name].reset_index(drop=True)
        names = [figure_name(m, tasks[name]) for m in part["method"]]
        x = np.arange(len(part))
        for i, r in part.iterrows():
            c = color(names[i]) if not r["method"].startswith(tuple(PEER_LABELS.values())) else \
                ("#2ca02c" if r["method"].startswith("Schedule-Free") else "#9467bd")
            hatch = "//" if r["method"].endswith("+ AEES") and r["method"] != AEES_ROW else None
            ax.bar(x[i], r["best_val_accuracy_mean"], color=c, alpha=0.45, hatch=hatch,
                   yerr=0 if math.isnan(r["best_val_accuracy_std"]) else r["best_val_accuracy_std"], capsize=2)
            ax.plot(x[i], r["final_val_accuracy_mean"], "o", color=c, markeredgecolor="black", markersize=5)
        ax.set_xticks(x, names, rotation=60, ha="right", fontsize=7)
        ax.set_title(name, fontsize=9)
        ax.set_ylabel("validation accuracy (%)")
        lo = np.nanmin(part[["best_val_accuracy_mean", "final_val_accuracy_mean"]].to_numpy())
        ax.set_ylim(max(0.0, lo - 5), None)
        clamp_accuracy(ax)
    for ax in axes[len(blocks):]:
        ax.set_visible(False)
    keys = [Patch(facecolor="#bbbbbb", edgecolor="black", label="bar: best accuracy, mean ± SD"),
            Patch(facecolor="#bbbbbb", edgecolor="black", hatch="//", label="hatched: the peer under AEES"),
            Line2D([], [], ls="none", marker="o", color="#bbbbbb", markeredgecolor="black",
                   label="dot: final accuracy, mean")]
    fig.legend(handles=keys, loc="outside lower center", ncol=3, fontsize=8)
    built.figure = fig
    return built
