r"""The thesis's published numbers (``reference/thesis-results``) in the builders' long form (and, for
the shape check X5 beyond the thesis, quantities derived from them).

``thesis_numbers(table_id)`` returns ``block, row, metric, mean, std, n`` in display
units (percent, pp, epochs, seconds), keyed exactly as the table builders key their
own numbers, so ``compare`` can put the two side by side with deltas. Labels of the
thesis CSVs (``Fixed 0.5``, ``AEES-Dual + warmup-linear``, ``\method{}``) are mapped to
this project's display labels here.
"""

from __future__ import annotations

import math
import re
from functools import cache

import pandas as pd

from lib import ROOT
from lib.analysis.build import NUMBER_COLUMNS
from lib.analysis.labels import ROW_ORDERS
from lib.grids.cells import MAIN_EPOCHS

REFERENCE_DIR = ROOT / "reference" / "thesis-results"
ACC_FRACTION = {"best": "best_val", "final": "final_val", "drop": "drop_val"}
NLP_LABELS = {"AdamW": "AdamW", "AdamW + warmup-linear": "AdamW + WL", "AEES-Dual": "AEES",
              "AEES-Dual + warmup-linear": "AEES + WL", "AEES-LR + warmup-linear": "AEES-LR + WL",
              "AEES-Noise + warmup-linear": "AEES-Noise + WL"}
T21_KEYS = {"adamw_flat": "AdamW", "adamw_wl": "AdamW + WL", "fixed_005": "Fixed σ=0.005 + WL",
            "fixed_01": "Fixed σ=0.01 + WL", "random_sigma": "Random σ + WL", "aees_noise_wl": "AEES-Noise + WL",
            "aees_dual_wl": "AEES + WL"}
SETTINGS = {"Asym. 20\\%": "asym20", "Sym. 40\\%": "sym40", "Sym. 20\\%": "sym20"}
OPTIMIZERS = {"\\adamw{}": "AdamW", "\\sgdm{}": "SGD"}
PM = re.compile(r"^\s*([-+0-9.]+)\s*\$\\pm\$\s*([-+0-9.]+)\s*$")


@cache
def _csv(rel: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE_DIR / rel, keep_default_na=False, na_values=[""])


def _fixed(label: str) -> str:
    return re.sub(r"^Fixed (\d)", r"Fixed ×\1", label)


def _variant(label: str) -> str:
    return label.replace("\\method{}", "AEES")


def _rows(df: pd.DataFrame, block, row, metrics: dict[str, tuple[str, str | None, float]],
          n: str | None = "n") -> pd.DataFrame:
    """Long form: ``metrics`` maps name -> (mean column, std column or None, scale)."""
    out = []
    for _, r in df.iterrows():
        for name, (mcol, scol, scale) in metrics.items():
            out.append({"block": block(r) if callable(block) else block, "row": row(r), "metric": name,
                        "mean": float(r[mcol]) * scale, "std": float(r[scol]) * scale if scol else math.nan,
                        "n": int(r[n]) if n else math.nan})
    return pd.DataFrame(out, columns=NUMBER_COLUMNS)


def _acc(prefix: dict[str, str], peak: str, scale: float = 100.0) -> dict[str, tuple[str, str, float]]:
    return {**{k: (f"{v}_mean", f"{v}_std", scale) for k, v in prefix.items()},
            "peak_epoch": (f"{peak}_mean", f"{peak}_std", 1.0)}


def _clean(table: str) -> pd.DataFrame:
    df = _csv("cifar_clean/cifar_clean_summary.csv")
    df = df.assign(label=df["method"].map(_fixed))
    df = df[df["label"].isin(ROW_ORDERS[table])]
    return _rows(df, "", lambda r: r["label"], _acc(ACC_FRACTION, "peak_epoch"))


def _noisy(rel: str, settings: tuple[str, ...], diag: bool = False) -> pd.DataFrame:
    df = _csv(rel)
    df = df[df["task"].isin(settings)]
    metrics = _acc(ACC_FRACTION, "peak_epoch")
    if diag:
        metrics.update({k: (f"{k}_mean", f"{k}_std", 100.0) for k in ("corr_noisy", "corr_clean", "train_clean")})
    return _rows(df, lambda r: f"{r['task']} {r['optimizer']}", lambda r: _fixed(r["method"]), metrics)


def _t8() -> pd.DataFrame:
    df = _csv("cifar_noisy/cifar_noisy_fixed_lr_ablation_summary.csv")
    parts = []
    for row, prefix in (("Best fixed", "best_fixed"), ("AEES", "aees"), ("Cosine", "cosine"),
                        ("Cosine + AEES", "cosine_aees")):
        metrics = {m: (f"{prefix}_{m}", None, 100.0) for m in ("best", "final", "drop")}
        parts.append(_rows(df, lambda r: f"{r['task']} {r['optimizer']}", lambda r, x=row: x, metrics, n=None))
    return pd.concat(parts, ignore_index=True)


def _t10() -> pd.DataFrame:
    df = _csv("cifar_noisy/cifar_noisy_aees_vs_best_fixed_stats_table.csv")
    df = df.assign(p=df["p_value_display"].map(lambda s: math.nan if str(s).startswith("<") else float(s)))
    metrics = {"fixed_best": ("fixed_best_mean_pct", "fixed_best_std_pct", 1.0),
               "aees_best": ("aees_best_mean_pct", "aees_best_std_pct", 1.0),
               "delta_best": ("delta_best_mean_pp", None, 1.0), "ci_low": ("delta_best_ci95_low_pp", None, 1.0),
               "ci_high": ("delta_best_ci95_high_pp", None, 1.0), "p": ("p", None, 1.0)}
    return _rows(df, lambda r: f"{r['noise']} {r['optimizer']}", lambda r: "paired", metrics)


def _pm(cell: str) -> tuple[float, float]:
    m = PM.match(str(cell))
    return (float(m[1]), float(m[2])) if m else (math.nan, math.nan)


def _t11() -> pd.DataFrame:
    df = _csv("checkpointing/checkpoint_diagnostics_main.csv")
    out = []
    for _, r in df.iterrows():
        for name, col in (("epoch", "selected_epoch"), ("val", "val_acc"), ("corr_noisy", "corr_noisy"),
                          ("corr_clean", "corr_clean"), ("train_clean", "train_clean")):
            mean, sd = _pm(r[col])
            out.append({"block": f"{SETTINGS[r['setting_label']]} {OPTIMIZERS[r['optimizer_label']]}",
                        "row": _variant(r["variant_label"]), "metric": name, "mean": mean, "std": sd, "n": int(r["n"])})
    return pd.DataFrame(out, columns=NUMBER_COLUMNS)


def _t12() -> pd.DataFrame:
    df = _csv("checkpointing/checkpoint_diagnostics_detailed.csv")
    metrics = {"epoch": ("selected_epoch", None, 1.0), "val": ("val_acc", None, 100.0),
               "corr_noisy": ("corr_noisy", None, 100.0), "corr_clean": ("corr_clean", None, 100.0),
               "train_clean": ("train_clean", None, 100.0)}
    return _rows(df, lambda r: f"{SETTINGS[r['setting_label']]} {OPTIMIZERS[r['optimizer_label']]}",
                 lambda r: f"{_variant(r['variant_label'])} seed {int(r['seed'])}", metrics, n=None)


def _t13() -> pd.DataFrame:
    df = _csv("compute_overhead/compute_overhead_decomposition_table.csv")
    block = lambda r: f"{r['task']} {r['optimizer']}"  # noqa: E731
    parts = [_rows(df, block, lambda r: "Baseline", {"sec_per_epoch": ("baseline_sec_per_epoch", None, 1.0)}, n=None)]
    for row, col in (("LR sched.", "lr_sched_overhead_pct"), ("AEES-LR", "aees_lr_overhead_pct"),
                     ("AEES-Noise", "aees_noise_overhead_pct"), ("AEES-Dual", "aees_dual_overhead_pct")):
        parts.append(_rows(df, block, lambda r, x=row: x, {"overhead": (col, None, 1.0)}, n=None))
    return pd.concat(parts, ignore_index=True)


def _t14() -> pd.DataFrame:
    df = _csv("compute_overhead/compute_overhead_summary.csv")
    metrics = {"sec_per_epoch": ("sec_per_epoch_mean", "sec_per_epoch_std", 1.0),
               "overhead": ("overhead_vs_baseline_none_pct", None, 1.0),
               "steps_per_second": ("steps_per_second_mean", "steps_per_second_std", 1.0),
               "tflops_per_second": ("tflops_per_second_mean", "tflops_per_second_std", 1.0)}
    return _rows(df, lambda r: f"{r['task']} {r['optimizer']}", lambda r: r["config"], metrics)


def _nlp(rel: str, table: str) -> pd.DataFrame:
    df = _csv(rel)
    df = df.assign(row=df["label"].map(NLP_LABELS))
    df = df[df["row"].isin(ROW_ORDERS[table])]
    metrics = {"best": ("best_val_accuracy_mean", "best_val_accuracy_std", 100.0),
               "final": ("final_val_accuracy_mean", "final_val_accuracy_std", 100.0),
               "drop": ("drop_best_to_final_mean", "drop_best_to_final_std", 100.0),
               "peak_epoch": ("best_epoch_mean", "best_epoch_std", 1.0)}
    return _rows(df, "", lambda r: r["row"], metrics)


_PCT = {"best": ("best_mean_pct", "best_std_pct", 1.0), "final": ("final_mean_pct", "final_std_pct", 1.0),
        "drop": ("drop_mean_pp", "drop_std_pp", 1.0), "peak_epoch": ("peak_epoch_mean", "peak_epoch_std", 1.0)}


def _t20() -> pd.DataFrame:
    return _rows(_csv("nlp_tables/nlp_detailed_appendix_table.csv"), lambda r: r["task"], lambda r: r["method"], _PCT)


def _t21() -> pd.DataFrame:
    df = _csv("nlp_tables/nlp_noise_ablation_table.csv")
    return _rows(df, "", lambda r: T21_KEYS[r["condition_key"]], _PCT)


def _ablation(rel: str) -> pd.DataFrame:
    metrics = {m: (f"{m}_mean", f"{m}_std", 100.0) for m in ("best", "final", "drop")}
    return _rows(_csv(rel), lambda r: r["setting"], lambda r: r["variant"], metrics)


def _t24() -> pd.DataFrame:
    metrics = {"peak": ("peak_mean_pct", "peak_std_pct", 1.0), "final": ("final_mean_pct", "final_std_pct", 1.0),
               "gap": ("gap_pp", None, 1.0)}
    return _rows(_csv("cifar_ablation/cifar_noise_ablation_summary.csv"), "", lambda r: r["condition"], metrics)


def _x5() -> pd.DataFrame:
    """X5 (beyond the thesis): Baseline and Cosine of the noisy CIFAR summary (T4-T7): relative peak
    epoch = mean peak epoch ÷ 200 (the thesis' epochs), drop (pp), final (%), and the final-epoch corrupted-label
    fit, T7's Corr. noisy (a fraction)."""
    df = _csv(_MAIN)
    df = df[df["method"].isin(("Baseline", "Cosine"))]
    metrics = {"rel_peak": ("peak_epoch_mean", "peak_epoch_std", 1.0 / MAIN_EPOCHS["cifar100"]),
               "drop": ("drop_val_mean", "drop_val_std", 100.0), "final": ("final_val_mean", "final_val_std", 100.0),
               "corr_fit": ("corr_noisy_mean", "corr_noisy_std", 1.0)}
    return _rows(df, lambda r: f"{r['task']} {r['optimizer']}", lambda r: r["method"], metrics)


_MAIN = "cifar_noisy/cifar_noisy_main_tables_summary.csv"
_FIXED = "cifar_noisy/cifar_noisy_fixed_lr_ablation_detailed.csv"
SOURCES = {
    "T1": lambda: _clean("T1"), "T2": lambda: _clean("T2"), "T3": lambda: _clean("T3"),
    "T4": lambda: _noisy(_MAIN, ("asym20",)), "T5": lambda: _noisy(_MAIN, ("sym20",)),
    "T6": lambda: _noisy(_MAIN, ("sym40",)), "T7": lambda: _noisy(_MAIN, ("asym20", "sym20", "sym40"), diag=True),
    "T8": _t8, "T9": lambda: _noisy(_FIXED, ("asym20", "sym20", "sym40")), "T10": _t10, "T11": _t11, "T12": _t12,
    "T13": _t13, "T14": _t14,
    "T15": lambda: _nlp("nlp_tables/sst2_summary.csv", "T15"),
    "T16": lambda: _nlp("nlp_tables/sst2_summary.csv", "T16"),
    "T17": lambda: _nlp("nlp_tables/agnews_summary.csv", "T17"),
    "T18": lambda: _nlp("nlp_tables/agnews_noise_summary.csv", "T18"),
    "T19": lambda: _nlp("nlp_tables/agnews_noise_summary.csv", "T19"),
    "T20": _t20, "T21": _t21, "T22": lambda: _ablation("ablations/instability_penalty_ablation_summary.csv"),
    "T23": lambda: _ablation("ablations/trend_context_ablation_summary.csv"), "T24": _t24,
    "X5": _x5,  # beyond the thesis: derived from the T4-T7 summary
}


def thesis_numbers(table_id: str) -> pd.DataFrame:
    """Published numbers of one thesis table in long form, rows in the table's order."""
    if table_id not in SOURCES:
        raise KeyError(f"thesis_numbers: no published numbers for {table_id!r}; tables are {list(SOURCES)}")
    df = SOURCES[table_id]()
    rank = {label: i for i, label in enumerate(ROW_ORDERS.get(table_id, ()))}
    blocks = {b: i for i, b in enumerate(dict.fromkeys(df["block"]))}
    key = [(blocks[b], rank.get(r, len(rank))) for b, r in zip(df["block"], df["row"])]
    df = df.iloc[sorted(range(len(df)), key=lambda i: key[i])]
    return df.reset_index(drop=True)


def compare(table_id: str, archive: pd.DataFrame | None) -> pd.DataFrame:
    """Thesis and archive means side by side: ``block, row, metric, thesis, archive, delta, n_thesis, n_archive``.

    Every published number appears; an archive number without a published
    counterpart is appended with an empty ``thesis``.
    """
    ref = thesis_numbers(table_id)
    mine = archive if archive is not None and not archive.empty else pd.DataFrame(columns=NUMBER_COLUMNS)
    keys = ["block", "row", "metric"]
    merged = ref.merge(mine, on=keys, how="outer", suffixes=("_thesis", "_archive"), sort=False)
    out = pd.DataFrame({**{k: merged[k] for k in keys}, "thesis": merged["mean_thesis"],
                        "archive": merged["mean_archive"].astype(float),
                        "n_thesis": merged["n_thesis"], "n_archive": merged["n_archive"]})
    out.insert(5, "delta", out["archive"] - out["thesis"])
    order = {k: i for i, k in enumerate(ref[keys].itertuples(index=False, name=None))}
    out["_o"] = [order.get(k, len(order) + i) for i, k in enumerate(out[keys].itertuples(index=False, name=None))]
    return out.sort_values("_o", kind="stable").drop(columns="_o").reset_index(drop=True)


# Column headers of ``thesis_table``, per metric of the long form (display units).
METRIC_HEADERS = {
    "best": "Best (%)", "final": "Final (%)", "drop": "Drop (pp)", "peak_epoch": "Peak epoch",
    "corr_noisy": "Corr. vs noisy (%)", "corr_clean": "Corr. vs clean (%)", "train_clean": "Train clean (%)",
    "fixed_best": "Best fixed: best (%)", "aees_best": "AEES: best (%)", "delta_best": "Δ best (pp)",
    "ci_low": "95% CI low", "ci_high": "95% CI high", "p": "p", "epoch": "Epoch", "val": "Val. (%)",
    "sec_per_epoch": "Time/epoch (s)", "overhead": "Overhead (%)", "steps_per_second": "Steps/s",
    "tflops_per_second": "TFLOP/s", "peak": "Peak (%)", "gap": "Gap (pp)", "rel_peak": "Rel. peak epoch",
    "corr_fit": "Corr. noisy fit",
}
TWO_DECIMALS = ("T10", "T15", "T16", "T17", "T18", "T19", "T20", "T21", "X5")
METRIC_DIGITS = {"sec_per_epoch": 2, "steps_per_second": 2, "tflops_per_second": 2, "p": 3}


def _cell(mean: float, sd: float, digits: int) -> str:
    if math.isnan(mean):
        return "--"
    return f"{mean:.{digits}f}" if math.isnan(sd) else f"{mean:.{digits}f} $\\pm$ {sd:.{digits}f}"


def _one_row_per_group(df: pd.DataFrame, digits: int) -> pd.DataFrame:
    """A table whose rows carry one number each (T13's baseline time and overheads), one row per group."""
    rows = []
    for block, part in df.groupby("block", sort=False):
        cells = {"Group": block}
        for r in part.itertuples():
            cells[f"{r.row}: {METRIC_HEADERS.get(r.metric, r.metric)}"] = _cell(r.mean, r.std,
                                                                                 METRIC_DIGITS.get(r.metric, digits))
        rows.append(cells)
    return pd.DataFrame(rows).fillna("--")


def thesis_table(table_id: str) -> pd.DataFrame:
    """The published numbers of one table as a table: one row per (block, row), one column per metric
    (mean ± SD as the thesis prints them, LaTeX like the builders' cells), ``$n$`` where published."""
    df = thesis_numbers(table_id)
    digits = 2 if table_id in TWO_DECIMALS else 1
    keys = list(dict.fromkeys(zip(df["block"], df["row"])))
    metrics = list(dict.fromkeys(df["metric"]))
    at = df.set_index(["block", "row", "metric"])
    names = {}
    if table_id == "T14":  # rows keyed by configuration (baseline_cosine); the thesis printed its label
        pub = _csv("compute_overhead/compute_overhead_summary.csv")
        names = {(f"{r.task} {r.optimizer}", r.config): _variant(r.label) for r in pub.itertuples()}
    rows = []
    for block, row in keys:
        cells = {"Group": block, "Method": names.get((block, row), row)}
        n = df[(df["block"] == block) & (df["row"] == row)]["n"].dropna()
        cells["$n$"] = str(int(n.iloc[0])) if len(n) else ""
        for m in metrics:
            hit = at.loc[(block, row, m)] if (block, row, m) in at.index else None
            d = METRIC_DIGITS.get(m, digits)
            cells[METRIC_HEADERS.get(m, m)] = "--" if hit is None else _cell(float(hit["mean"]), float(hit["std"]), d)
        rows.append(cells)
    out = pd.DataFrame(rows)
    out = out.drop(columns=[c for c in ("Group", "$n$") if not out[c].astype(bool).any()])
    if (df.groupby(["block", "row"], sort=False)["metric"].nunique() == 1).all():  # T13: one number per row
        out = _one_row_per_group(df, digits)
    if "Group" in out:
        groups = list(out["Group"])
        starts = [i for i in range(1, len(groups)) if groups[i] != groups[i - 1]]
        out["Group"] = [g if i == 0 or g != groups[i - 1] else "" for i, g in enumerate(groups)]
        out.attrs["midrule_before"] = starts
    return out
