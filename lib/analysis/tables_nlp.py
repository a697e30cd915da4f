r"""NLP tables T15-T21: SST-2 / AG News main and axis tables, the detailed appendix, the σ ablation.

2 dp everywhere (INVENTORY section 1), no ``n`` column in T15-T19, ranking over the
whole table. In the main tables "AEES" is AEES-Dual; the axis tables name it. SST-2
AEES rows use the trend context (protocol 11.2), AG News rows none.
"""

from __future__ import annotations

import pandas as pd

from lib.analysis.build import Built, Runs, main_filters, numbers_from, stats
from lib.analysis.labels import ROW_ORDERS
from lib.analysis.style import ACCURACY_COLUMNS, Column, format_table
from lib.analysis.tables_cifar import ACC

NLP_SETTINGS = {"sst2": ("sst2", "clean"), "agnews": ("agnews", "clean"), "agnews_noise": ("agnews", "noise20")}
BLOCK_LABELS = {"sst2": "SST-2", "agnews": "AG News", "agnews_noise": "AG News 20\\%"}
AXIS_NAMES = {"AEES + WL": "AEES-Dual + WL"}
T20_ROWS = {"sst2": ("AdamW", "AdamW + WL", "AEES", "AEES-LR + WL", "AEES-Noise + WL", "AEES + WL"),
            "agnews": ("AdamW", "AdamW + WL", "AEES", "AEES + WL"),
            "agnews_noise": ("AdamW", "AdamW + WL", "AEES", "AEES-LR + WL", "AEES-Noise + WL", "AEES + WL")}


def spelled_out(label: str) -> str:
    """T15-T19 spell the scheduler out ("AdamW + warmup-linear"); only T20 abbreviates it (WL)."""
    return label.replace(" + WL", " + warmup-linear")


def nlp_rows(runs: Runs, built: Built, key: str, labels: tuple[str, ...]) -> pd.DataFrame:
    """Picked runs of each label for one NLP setting key (``sst2``, ``agnews``, ``agnews_noise``)."""
    task, setting = NLP_SETTINGS[key]
    parts = []
    for label in labels:
        rows = runs.pick(task=task, setting=setting, method=label, **main_filters(task, label))
        parts.append(built.use(rows, f"{key} {label}").assign(block=key))
    return pd.concat(parts)


def _nlp_table(runs: Runs, key: str, table: str, axis: bool = False) -> Built:
    built = Built()
    order = ROW_ORDERS[table]
    rows = nlp_rows(runs, built, key, order)
    if not built.inputs:
        return built
    summary = stats(rows)
    built.numbers = numbers_from(summary, ACC)
    if axis:
        summary["method"] = summary["method"].replace(AXIS_NAMES)
        order = tuple(AXIS_NAMES.get(o, o) for o in order)
    summary["method"] = summary["method"].map(spelled_out)
    order = tuple(spelled_out(o) for o in order)
    built.cells, built.styles = format_table(summary, order=order, digits=2, n_col=False)
    return built


def t15(runs: Runs) -> Built:
    return _nlp_table(runs, "sst2", "T15")


def t16(runs: Runs) -> Built:
    return _nlp_table(runs, "sst2", "T16", axis=True)


def t17(runs: Runs) -> Built:
    return _nlp_table(runs, "agnews", "T17")


def t18(runs: Runs) -> Built:
    return _nlp_table(runs, "agnews_noise", "T18")


def t19(runs: Runs) -> Built:
    return _nlp_table(runs, "agnews_noise", "T19", axis=True)


def _axes_text(lr_grid: str, noise_grid: str) -> str:
    return f"LR: {lr_grid.replace(' ', ', ')}; noise: {noise_grid.replace(' ', ', ')}"


def t20(runs: Runs) -> Built:
    built = Built()
    parts = [nlp_rows(runs, built, key, labels) for key, labels in T20_ROWS.items()]
    if not built.inputs:
        return built
    rows = pd.concat(parts)
    rows["method"] = rows["method"].replace({"AEES": "AEES-Dual", **AXIS_NAMES})
    # Baselines print the episode length their config records (the thesis: 100, the unused default).
    rows["episode_length"] = rows["episode_length"].fillna(rows["config_episode_length"])
    summary = stats(rows, by=("block", "method", "episode_length", "lr_grid", "noise_grid"))
    columns = tuple(Column(c.header, c.metric, c.scale, None) for c in ACCURACY_COLUMNS)
    cells, starts = [], []
    for key, labels in T20_ROWS.items():
        part = summary[summary["block"] == key]
        order = [{"AEES": "AEES-Dual"}.get(o, AXIS_NAMES.get(o, o)) for o in labels]
        c, _ = format_table(part, columns=columns, digits=2, order=order, label_header="Method")
        if c.empty:
            continue
        part = part.set_index("method").reindex([o for o in order if o in set(part["method"])])
        c.insert(0, "Task", [BLOCK_LABELS[key]] + [""] * (len(c) - 1))
        c["Episode length"] = [("--" if pd.isna(v) else str(int(v))) for v in part["episode_length"]]
        c["Axes"] = [_axes_text(lr, nz) for lr, nz in zip(part["lr_grid"], part["noise_grid"])]
        starts.append(sum(len(x) for x in cells))
        cells.append(c)
    built.cells = pd.concat(cells, ignore_index=True)
    built.cells.attrs["midrule_before"] = starts[1:]
    built.numbers = numbers_from(summary, ACC, block=lambda r: r["block"])
    return built


T21_LABELS = {"AdamW": "AdamW (Flat, σ=0)", "AdamW + WL": "AdamW + WL (σ=0)", "AEES + WL": "AEES-Dual + WL"}


def t21(runs: Runs) -> Built:
    built = Built()
    rows = nlp_rows(runs, built, "agnews_noise", ROW_ORDERS["T21"])
    if not built.inputs:
        return built
    summary = stats(rows)
    built.numbers = numbers_from(summary, ACC)
    summary["method"] = summary["method"].replace(T21_LABELS)
    order = tuple(T21_LABELS.get(o, o) for o in ROW_ORDERS["T21"])
    built.cells, built.styles = format_table(summary, order=order, digits=2, label_header="Condition")
    present = [o for o in order if o in set(summary["method"])]
    flat = sum(1 for o in present if o.startswith("AdamW"))
    built.cells.attrs["midrule_before"] = [flat] if 0 < flat < len(present) else []
    return built
