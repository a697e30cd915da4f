"""Accuracy figures F2-F8 and F13-F17 (INVENTORY section 3), built from an archive by content.

Each builder picks its runs like the tables do and returns a Figure; a stand-in
archive's figures carry the stand-in label (``plots.mark_standin``, applied by the
report). Thesis axis ranges are used only when the data fit in them.
"""

from __future__ import annotations

import numpy as np

from lib.analysis.build import Built, Runs
from lib.analysis.labels import OPTIMIZER_FIGURE_LABELS, ROW_ORDERS, SETTING_LABELS, figure_name
from lib.analysis.plots import (band, clamp_accuracy, color, curves, marker_legend, new_figure, peak_final_bars,
                                peak_final_markers)
from lib.analysis.tables_ablations import NOISE_ABLATION, noise_ablation_rows
from lib.analysis.tables_checkpoints import CKPT_SETTINGS, checkpoint_rows
from lib.analysis.tables_cifar import cifar_rows
from lib.analysis.tables_nlp import nlp_rows

F2_ROWS = ("AdamW", "AdamW + Cosine", "AdamW + Linear", "AEES", "AEES + Cosine", "AEES + Linear")
LATE = 20  # epochs shown by F3 / F4


def f2(runs: Runs) -> Built:
    built = Built()
    rows = cifar_rows(runs, built, F2_ROWS, setting="clean", optimizer="AdamW")
    if not built.inputs:
        return built
    fig, (ax,) = new_figure(width=6.5)
    groups = [(figure_name(m), rows[rows["method"] == m]) for m in F2_ROWS if (rows["method"] == m).any()]
    peak_final_bars(ax, groups, ylim=(65, 74))
    ax.set_title("Clean CIFAR-100 (AdamW)")
    built.figure = fig
    return built


def _late(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = arr.shape[1]
    k = min(LATE, n)
    return np.arange(n - k + 1, n + 1), arr[:, n - k:]


def f3(runs: Runs) -> Built:
    built = Built()
    rows = cifar_rows(runs, built, ("AEES",), setting="clean", optimizer="AdamW")
    if not built.inputs:
        return built
    fig, (ax,) = new_figure()
    x, arr = _late(curves(rows))
    for seed, y in zip(rows["seed"], arr):
        ax.plot(x, y, marker=".", label=f"seed {int(seed)}")
    ax.set(xlabel="epoch", ylabel="validation accuracy (%)", title=f"AEES, last {len(x)} epochs")
    clamp_accuracy(ax)
    ax.legend(fontsize=8)
    built.figure = fig
    return built


def f4(runs: Runs) -> Built:
    built = Built()
    labels = ("Fixed ×0.5", "Fixed ×1.0", "Fixed ×2.0", "AEES")
    rows = cifar_rows(runs, built, labels, setting="clean", optimizer="AdamW")
    if not built.inputs:
        return built
    fig, (ax,) = new_figure()
    for label in labels:
        part = rows[rows["method"] == label]
        if not part.empty:
            x, arr = _late(curves(part))
            band(ax, x - x[-1], arr, f"{figure_name(label)} (n={arr.shape[0]})", color(figure_name(label)))
    ax.set(xlabel="epoch relative to the last", ylabel="validation accuracy (%)", title="Late stage, mean ± SD")
    clamp_accuracy(ax)
    ax.legend(fontsize=8)
    built.figure = fig
    return built


def _noisy_curves(runs: Runs, setting: str, ylow: float) -> Built:
    """Two panels (AdamW | SGD+M), one 5-epoch rolling-mean line ± SD per method, the unsmoothed peak and
    final markers, one legend below: each method once (its seeds per panel are in the panel title)."""
    built = Built()
    parts = {o: cifar_rows(runs, built, ROW_ORDERS["T4"], setting=setting, optimizer=o) for o in ("AdamW", "SGD")}
    if not built.inputs:
        return built
    fig, axes = new_figure(2, width=5.0, sharey=True)
    lows, handles = [], {}
    for ax, (opt, rows) in zip(axes, parts.items()):
        if rows.empty:
            ax.text(0.5, 0.5, "no runs", ha="center", transform=ax.transAxes)
        seeds = []
        for label in ROW_ORDERS["T4"]:
            part = rows[rows["method"] == label]
            if part.empty:
                continue
            arr, name = curves(part, smooth=5), figure_name(label)
            band(ax, np.arange(1, arr.shape[1] + 1), arr, name, color(name))
            peak_final_markers(ax, part, color(name))
            lows.append(np.nanmin(arr))
            seeds.append(arr.shape[0])
        n = "" if not seeds else f" (n={min(seeds)})" if min(seeds) == max(seeds) else \
            f" (n={min(seeds)}–{max(seeds)} per method)"
        ax.set(title=f"{SETTING_LABELS[setting].replace(chr(92), '')}, {OPTIMIZER_FIGURE_LABELS[opt]}{n}",
               xlabel="epoch")
        handles.update({lab: h for h, lab in zip(*ax.get_legend_handles_labels())})
    axes[0].set_ylabel("validation accuracy (%)")
    if lows and min(lows) >= ylow:
        axes[0].set_ylim(bottom=ylow)
    clamp_accuracy(axes[0])
    lines = list(handles.values()) + marker_legend(smoothed=True)
    fig.legend(lines, [h.get_label() for h in lines], loc="outside lower center", ncol=3, fontsize=8,
               title="lines: 5-epoch centred rolling mean ± SD over seeds", title_fontsize=8)
    built.figure = fig
    return built


def f5(runs: Runs) -> Built:
    return _noisy_curves(runs, "asym20", 45)


def f6(runs: Runs) -> Built:
    return _noisy_curves(runs, "sym20", 40)


def f7(runs: Runs) -> Built:
    return _noisy_curves(runs, "sym40", 30)


def f8(runs: Runs) -> Built:
    built = Built()
    rows = noise_ablation_rows(runs, built)
    if not built.inputs:
        return built
    fig, (ax,) = new_figure(width=5.0)
    peak_final_bars(ax, [(c, rows[rows["method"] == c]) for c in NOISE_ABLATION if (rows["method"] == c).any()],
                    digits=1)
    ax.set_title("Sym. 20% CIFAR-100, AEES (trend context)")
    built.figure = fig
    return built


PROTOCOL_SHORT = {"re-run to peak": "re-run", "best-epoch weights": "best epoch"}


def f13(runs: Runs) -> Built:
    built = Built()
    data = {}
    for s in CKPT_SETTINGS:
        data[s] = []
        for m in ROW_ORDERS["T11"]:
            rows, protocol = checkpoint_rows(runs, s, "AdamW", m)
            data[s].append((m, built.use(rows, f"{s} AdamW {m}"), protocol))
    if not built.inputs:
        return built
    fig, axes = new_figure(2, width=4.6)
    for ax, (setting, parts) in zip(axes, data.items()):
        for method, rows, protocol in parts:
            if rows.empty:
                continue
            x, y = rows["ckpt_corr_noisy"] * 100, rows["ckpt_corr_clean"] * 100
            sd = (lambda v: v.std(ddof=1) if len(v) > 1 else 0.0)
            ax.errorbar(x.mean(), y.mean(), xerr=sd(x), yerr=sd(y), fmt="o", color=color(figure_name(method)),
                        capsize=3, label=f"{figure_name(method)} (n={len(rows)}, {PROTOCOL_SHORT[protocol]})")
        ax.set(title=SETTING_LABELS[setting].replace("\\", ""), xlabel="corrupted subset vs noisy labels (%)",
               ylabel="corrupted subset vs clean labels (%)")
        clamp_accuracy(ax, "both")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
        else:
            ax.text(0.5, 0.5, "no runs", ha="center", transform=ax.transAxes)
    used = sorted({p for parts in data.values() for _, rows, p in parts if not rows.empty})
    built.notes.append("protocol (the thesis re-ran each seed to its peak epoch): "
                       + "; ".join(f"{PROTOCOL_SHORT[p]} = {p}: " + ", ".join(
                           f"{s} {m}" for s, parts in data.items() for m, rows, q in parts if q == p and len(rows))
                                   for p in used))
    built.figure = fig
    return built


def _nlp_curves(runs: Runs, key: str, labels: tuple[str, ...], title: str) -> Built:
    """One panel: mean ± SD over seeds per method (figure names), the peak and final markers, legend below."""
    built = Built()
    rows = nlp_rows(runs, built, key, labels)
    if not built.inputs:
        return built
    task = key.split("_")[0]
    fig, (ax,) = new_figure(width=6.0, height=3.8)
    for label in labels:
        part = rows[rows["method"] == label]
        if part.empty:
            continue
        arr, name = curves(part), figure_name(label, task)
        band(ax, np.arange(1, arr.shape[1] + 1), arr, f"{name} (n={arr.shape[0]})", color(name), marker=".")
        peak_final_markers(ax, part, color(name))
    ax.set(xlabel="epoch", ylabel="validation accuracy (%)", title=title)
    clamp_accuracy(ax)
    lines = ax.get_legend_handles_labels()[0] + marker_legend(smoothed=False)
    fig.legend(lines, [h.get_label() for h in lines], loc="outside lower center", ncol=3, fontsize=8)
    built.figure = fig
    return built


def f14(runs: Runs) -> Built:
    labels = ("AdamW", "AdamW + WL", "AEES", "AEES-Noise + WL", "AEES + WL")
    return _nlp_curves(runs, "agnews_noise", labels, "AG News, 20% symmetric label noise")


def f15(runs: Runs) -> Built:
    return _nlp_curves(runs, "sst2", ROW_ORDERS["T15"], "SST-2")


F16_ROWS = ROW_ORDERS["T21"][1:]


def f16(runs: Runs) -> Built:
    built = Built()
    rows = nlp_rows(runs, built, "agnews_noise", F16_ROWS)
    if not built.inputs:
        return built
    fig, (ax,) = new_figure(width=7.0)
    groups = [(figure_name(m, "agnews"), rows[rows["method"] == m]) for m in F16_ROWS if (rows["method"] == m).any()]
    peak_final_bars(ax, groups, ylim=(90, 94.5))
    ax.set_title("AG News 20% noise: the σ axis (all on the linear schedule)")
    built.figure = fig
    return built


def f17(runs: Runs) -> Built:
    return _nlp_curves(runs, "agnews_noise", F16_ROWS, "AG News 20% noise: the σ axis (all on the linear schedule)")
