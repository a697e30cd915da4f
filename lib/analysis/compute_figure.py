"""X6 (beyond the thesis's figures): the compute overhead of T13/T14 as a figure.

One panel per task and optimizer of the timing grid: for every configuration, its time per epoch
relative to the no-schedule baseline (%), as published by the thesis (T14's numbers) and as measured
in this archive with the thesis machinery and with this project's (the two column groups of T14).
The thesis published no figure of these numbers; the tables stay the reference.
"""

from __future__ import annotations

import numpy as np
from matplotlib.patches import Patch

from lib.analysis.build import Built, Runs
from lib.analysis.plots import new_figure
from lib.analysis.reference import thesis_numbers
from lib.analysis.tables_compute import _both_machineries, _groups, _t14_rank

# (series, colour, hatch): the published thesis numbers first, then this archive's machineries.
SERIES = (("thesis (published)", "#bbbbbb", "//"), ("this archive, thesis machinery", "#1f77b4", None),
          ("this archive, project machinery", "#ff7f0e", None))


def x6(runs: Runs) -> Built:
    built = Built()
    summaries = _both_machineries(runs, built)
    groups = _groups(summaries)
    if not groups:
        return built
    thesis = thesis_numbers("T14").set_index(["metric", "block", "row"])["mean"]
    ncols = min(2, len(groups))
    fig, axes = new_figure(ncols, -(-len(groups) // ncols), width=5.2, height=3.3)
    for ax, (task, opt) in zip(axes, groups):
        frames = [s[(s["task"] == task) & (s["optimizer"] == opt)].set_index("config") for s in summaries.values()]
        labels = {c: f["label"][c] for f in frames for c in f.index}
        configs = sorted((c for c in labels if c != "baseline_none"), key=_t14_rank)
        values = [[thesis.get(("overhead", f"{task} {opt}", c), np.nan) for c in configs]]
        values += [[f["overhead"].get(c, np.nan) for c in configs] for f in frames]
        y = np.arange(len(configs))
        height = 0.8 / len(SERIES)
        for k, ((name, col, hatch), vals) in enumerate(zip(SERIES, values)):
            ax.barh(y + (k - 1) * height, vals, height, color=col, hatch=hatch, edgecolor="black", lw=0.4,
                    label=name)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_yticks(y, [labels[c] for c in configs], fontsize=7)
        ax.invert_yaxis()
        here = " / ".join(f"{f['sec'].get('baseline_none', np.nan):.2f}" for f in frames)
        pub = thesis.get(("sec_per_epoch", f"{task} {opt}", "baseline_none"), np.nan)
        ax.set_title(f"{task} / {opt}\nbaseline s/epoch: thesis {pub:.2f}, here {here}", fontsize=8)
        ax.set_xlabel("time per epoch vs baseline (%)")
    for ax in axes[len(groups):]:
        ax.set_visible(False)
    keys = [Patch(facecolor=col, hatch=hatch, edgecolor="black", label=name) for name, col, hatch in SERIES]
    fig.legend(handles=keys, loc="outside lower center", ncol=3, fontsize=8)
    built.figure = fig
    return built
