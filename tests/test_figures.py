"""Figures a reviewer accepts: accuracy axes inside 0-100 %, every marker in a legend, one name (the thesis's
figure name) and one colour per method, readable controller figures, the compute-overhead figure."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from lib.analysis.registry import REGISTRY, artifact_ids
from lib.analysis.labels import figure_name
from lib.analysis.plots import COLORS, color, marker_legend, new_figure, peak_final_bars
from lib.analysis.render import build, open_archive
from tests.test_analysis_notebooks import record

MARKERS = {h.get_label() for smoothed in (True, False) for h in marker_legend(smoothed)}
# legend entries that explain a drawing style (peak vs final bars, X4's bar / hatch / dot), not a series
STYLE_KEY = re.compile(r"^(Peak|Final)$|^(bar|hatched|dot): ")
TABLE_ONLY = re.compile(r"^(AdamW|Baseline|SGD)$|\+ WL$|^AEES \+ (Cosine|Linear)$")


def test_figure_name_is_the_thesis_figure_name() -> None:
    cases = {("AdamW", "cifar100"): "Flat", ("Baseline", "cifar100"): "Flat", ("AdamW", "agnews"): "Flat",
             ("AdamW + Cosine", "cifar100"): "Cosine", ("Cosine", "cifar100"): "Cosine",
             ("AdamW + Linear", "cifar100"): "Linear", ("AdamW + WL", "sst2"): "Linear",
             ("AEES", "cifar100"): "AEES", ("AEES", "sst2"): "AEES-Dual", ("AEES + Cosine", "cifar100"): "Cosine + AEES",
             ("Cosine + AEES", "cifar100"): "Cosine + AEES", ("AEES + WL", "agnews"): "Linear + AEES-Dual",
             ("AEES-Noise + WL", "agnews"): "Linear + AEES-Noise", ("Random σ + WL", "agnews"): "Linear + Random σ",
             ("Fixed ×0.5", "cifar100"): "Fixed ×0.5", ("Prodigy + AEES", "sst2"): "Prodigy + AEES-Dual"}
    for (label, task), name in cases.items():
        assert figure_name(label, task) == name, (label, task)
    with pytest.raises(ValueError, match="task must be one of"):
        figure_name("AEES", "mnist")
    with pytest.raises(KeyError, match="no colour for 'AdamW'"):
        color("AdamW")  # table labels have no colour: a figure that forgets figure_name fails loudly


def test_bars_near_100_stay_inside_the_axis_with_every_mean_written() -> None:
    rows = pd.DataFrame({"best_val_accuracy": [0.999, 1.0, 0.998], "final_val_accuracy": [0.99, 0.97, 0.995]})
    fig, (ax,) = new_figure()
    peak_final_bars(ax, [("Flat", rows), ("AEES", rows)], ylim=(65, 74))
    low, high = ax.get_ylim()
    assert 0 <= low < high <= 100
    labels = [t for t in ax.texts if re.fullmatch(r"\d+\.\d", t.get_text())]
    assert len(labels) == 4 and all(low <= t.xy[1] <= high for t in labels)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Peak", "Final"]


def _write(root: Path, name: str, rec: dict) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{name}.json").write_text(json.dumps(rec))


def test_noisy_curves_one_entry_per_method_markers_named_axis_within_0_100(tmp_path: Path) -> None:
    """F6 with 2 AEES seeds under AdamW and 1 under SGD: each method once in the legend (it was "AEES (n=2)"
    and "AEES (n=1)" in one colour), both markers named, accuracy up to 100 % without the axis passing it."""
    sym20 = {"ntype": "symmetric", "rate": 0.2, "epochs": 12}
    methods = {"baseline": {}, "cosine": {"sched": "cosine"}, "aees": {"mode": "adaptive", "lr": (0.5, 1, 2)},
               "cos_aees": {"mode": "adaptive", "lr": (0.5, 1, 2), "sched": "cosine"}}
    for opt in ("AdamW", "SGD"):
        for name, kw in methods.items():
            for seed in ((0, 1) if name == "aees" and opt == "AdamW" else (0,)):
                _write(tmp_path / "a", f"{opt}_{name}_{seed}",
                       record(seed, best=1.0 - seed * 0.01, final=0.99, peak=6, opt=opt, **sym20, **kw))
    fig = build(open_archive(tmp_path / "a", tmp_path / "out"), "F6").figure
    (legend,) = fig.legends
    names = [t.get_text() for t in legend.get_texts()]
    assert sorted(names) == sorted(["Flat", "AEES", "Cosine", "Cosine + AEES", *MARKERS & set(names)])
    assert len(MARKERS & set(names)) == 2 and "5-epoch" in legend.get_title().get_text()
    series = [to_hex(h.get_color()) for h, n in zip(legend.legend_handles, names) if n not in MARKERS]
    assert len(set(series)) == len(series) == 4
    for ax in fig.get_axes():
        assert 0 <= ax.get_ylim()[0] < ax.get_ylim()[1] <= 100
    assert [ax.get_title() for ax in fig.get_axes()] == ["Sym. 20%, AdamW (n=1–2 per method)", "Sym. 20%, SGD+M (n=1)"]


# --- every figure of the committed mini archive (~30 s) ---

@pytest.fixture(scope="module")
def mini_figures(tmp_path_factory) -> dict:
    ctx = open_archive("results/mini", tmp_path_factory.mktemp("figs"))
    return {a: build(ctx, a) for a in artifact_ids() if REGISTRY[a].kind == "figure"}


def _colour(handle) -> str:
    """The colour a legend handle shows: a line's colour, else a patch's or a collection's face colour."""
    col = handle.get_color() if hasattr(handle, "get_color") else handle.get_facecolor()
    col = np.asarray(col) if not isinstance(col, str) else col
    return to_hex(col if isinstance(col, str) or col.ndim == 1 else col[0])


def _legend_entries(fig) -> list[list[tuple[str, str]]]:
    """(label, colour) of every legend of a figure, one list per legend."""
    legends = [ax.get_legend() for ax in fig.get_axes() if ax.get_legend()] + list(fig.legends)
    return [[(t.get_text(), _colour(h)) for h, t in zip(leg.legend_handles, leg.get_texts())] for leg in legends]


@pytest.mark.slow
def test_every_accuracy_axis_within_0_100(mini_figures: dict) -> None:
    for art, built in mini_figures.items():
        for ax in built.figure.get_axes():
            for axis, (lo, hi) in (("y", ax.get_ylim()), ("x", ax.get_xlim())):
                label = ax.get_ylabel() if axis == "y" else ax.get_xlabel()
                if "accuracy" in label or "(%)" in label and "subset" in label:
                    assert 0 <= min(lo, hi) and max(lo, hi) <= 100, (art, axis, label, lo, hi)


@pytest.mark.slow
def test_method_names_and_colours_are_one_per_method(mini_figures: dict) -> None:
    """Legend and bar labels are thesis figure names (never a table label such as AdamW / Baseline / + WL);
    within a legend no two series share a colour."""
    seen = set()
    for art, built in mini_figures.items():
        fig = built.figure
        for entries in _legend_entries(fig):
            series = [(re.sub(r" \(n=\d+\)$", "", lab), col) for lab, col in entries
                      if lab not in MARKERS and not STYLE_KEY.search(lab)]
            colours = [c for _, c in series]
            assert len(set(colours)) == len(colours), (art, series)
            for name, _ in series:
                assert not TABLE_ONLY.search(name), (art, name)
                if name in COLORS:
                    seen.add(name)
        for ax in fig.get_axes():
            for tick in ax.get_xticklabels():
                assert not TABLE_ONLY.search(tick.get_text()), (art, tick.get_text())
    assert {"Flat", "Cosine", "Linear", "AEES", "AEES-Dual", "Cosine + AEES", "Linear + AEES-Dual"} <= seen


@pytest.mark.slow
def test_curve_markers_are_in_the_legend(mini_figures: dict) -> None:
    for art in ("F5", "F6", "F7", "F14", "F15", "F17"):
        labels = {lab for entries in _legend_entries(mini_figures[art].figure) for lab, _ in entries}
        assert len(labels & MARKERS) == 2, (art, labels)


@pytest.mark.slow
def test_controller_figures_readable(mini_figures: dict) -> None:
    f10 = mini_figures["F10"].figure
    for ax in f10.get_axes():
        assert "epoch window" in ax.get_title()
        for line in ax.get_lines()[:-1]:  # the arms; the last line is the uniform 1/K reference
            y = np.asarray(line.get_ydata(), dtype=float)
            assert np.nanmax(np.abs(np.diff(y))) <= 0.5, ax.get_title()  # no 0-1 comb
    f11 = mini_figures["F11"].figure
    assert not f11.get_axes()[0].texts  # the medians sit under the arms' names, not on the violins
    assert all("median" in t.get_text() for ax in f11.get_axes() for t in ax.get_xticklabels())
    titles = [ax.get_title() for ax in mini_figures["X2"].figure.get_axes() if ax.get_visible()]
    assert len(titles) == len(set(titles)) > 1


@pytest.mark.slow
def test_compute_overhead_figure_beside_t13_t14(mini_figures: dict) -> None:
    spec, built = REGISTRY["X6"], mini_figures["X6"]
    assert spec.chapter == REGISTRY["T13"].chapter == "compute" and built.status == "ok"
    labels = {lab for entries in _legend_entries(built.figure) for lab, _ in entries}
    assert labels == {"thesis (published)", "this archive, thesis machinery", "this archive, project machinery"}
    axes = [ax for ax in built.figure.get_axes() if ax.get_visible()]
    assert len(axes) == 4 and all(ax.get_xlabel() == "time per epoch vs baseline (%)" for ax in axes)
    cifar_sgd = axes[0]
    assert [t.get_text() for t in cifar_sgd.get_yticklabels()][:2] == ["Cosine", "AEES-LR"]
    widths = [p.get_width() for p in cifar_sgd.patches[:len(cifar_sgd.get_yticks())]]  # the published bars
    assert widths[1] == pytest.approx(-0.5, abs=0.01)  # T13: CIFAR-100 SGD AEES-LR -0.5 %
