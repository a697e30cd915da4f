r"""Ablation tables (T22 instability penalty, T23 trend context, T24 small gradient noise; chapter
``ablations``): paired variants of the same AEES configuration (protocol 11.3).
"""

from __future__ import annotations

import math

import pandas as pd

from lib.analysis.build import Built, Runs, numbers_from, stats
from lib.analysis.style import Column, fmt_diff, fmt_pm, format_table


def _paired_variants(runs: Runs, built: Built, setting_key: str, base: dict, a: dict, b: dict,
                     names: tuple[str, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Runs of variant ``b`` (the ablation) and ``a`` (the reference), cut to their shared seeds and epochs."""
    rows_b = runs.pick(**base, **b)
    rows_a = runs.pick(**base, **a, **({"epochs": rows_b["epochs"].iloc[0]} if not rows_b.empty else {}))
    if not rows_a.empty and not rows_b.empty:
        seeds = set(rows_a["seed"]) & set(rows_b["seed"])
        if seeds != set(rows_a["seed"]) | set(rows_b["seed"]):
            built.notes.append(f"{setting_key}: shared seeds {sorted(seeds)} only")
        rows_a, rows_b = rows_a[rows_a["seed"].isin(seeds)], rows_b[rows_b["seed"].isin(seeds)]
    built.use(rows_a, f"{setting_key} {names[0]}")
    built.use(rows_b, f"{setting_key} {names[1]}")
    return rows_a, rows_b


def _ablation_table(runs: Runs, settings: dict[str, tuple[str, dict]], a: dict, b: dict,
                    names: tuple[str, str], headers: tuple[str, str]) -> Built:
    built = Built()
    cells, nums = [], []
    for key, (label, base) in settings.items():
        rows_a, rows_b = _paired_variants(runs, built, key, base, a, b, names)
        if rows_a.empty and rows_b.empty:
            continue
        row, means = {"Setting": label}, {}
        for side, rows, header in (("a", rows_a, headers[0]), ("b", rows_b, headers[1])):
            st = stats(rows.assign(method=names[side == "b"])).iloc[0] if not rows.empty else None
            for metric, col in (("best", "best_val_accuracy"), ("final", "final_val_accuracy"),
                                ("drop", "drop_val_accuracy")):
                mean = st[f"{col}_mean"] * 100 if st is not None else math.nan
                sd = st[f"{col}_std"] * 100 if st is not None else math.nan
                row[f"{header} {metric}"] = fmt_pm(mean, sd, 1)
                means[(side, metric)] = mean
                if st is not None:
                    nums.append({"block": key, "row": names[side == "b"], "metric": metric, "mean": mean,
                                 "std": sd, "n": int(st["n"])})
        for metric in ("best", "final", "drop"):
            row[f"$\\Delta$ {metric}"] = fmt_diff(means[("b", metric)] - means[("a", metric)])
        cells.append(row)
    if cells:
        built.cells, built.numbers = pd.DataFrame(cells), pd.DataFrame(nums)
    return built


_CIFAR_AEES = {"task": "cifar100", "optimizer": "AdamW", "method": "AEES", "lr_scheduler": "none"}


def t22(runs: Runs) -> Built:
    settings = {"cifar_clean": ("Clean CIFAR-100", {**_CIFAR_AEES, "setting": "clean", "context": "none"}),
                "cifar_noisy": ("Sym. 20\\% CIFAR-100", {**_CIFAR_AEES, "setting": "sym20", "context": "none"})}
    return _ablation_table(runs, settings, {"lam": 0.0}, {"lam": 0.1}, ("0p0", "0p1"), ("No penalty", "Penalty"))


def t23(runs: Runs) -> Built:
    settings = {"cifar_clean": ("Clean CIFAR-100", {**_CIFAR_AEES, "setting": "clean", "lam": 0.0}),
                "cifar_noisy": ("Sym. 20\\% CIFAR-100", {**_CIFAR_AEES, "setting": "sym20", "lam": 0.0}),
                "sst2": ("SST-2", {"task": "sst2", "setting": "clean", "method": "AEES", "lam": 0.0})}
    return _ablation_table(runs, settings, {"context": "none"}, {"context": "trend"}, ("none", "trend"),
                           ("Context-free", "Trend context"))


def t24(runs: Runs) -> Built:
    built = Built()
    rows = noise_ablation_rows(runs, built)
    if not built.inputs:
        return built
    summary = stats(rows)
    columns = (Column("Peak (\\%)", "best_val_accuracy", 100.0, "max"),
               Column("Final (\\%)", "final_val_accuracy", 100.0, "max"),
               Column("Gap (pp)", "drop_val_accuracy", 100.0, None))
    built.cells, built.styles = format_table(summary, columns=columns, digits=2, label_header="Condition",
                                             order=NOISE_ABLATION, escape=False)
    built.styles = built.styles.replace("second", "")  # only the higher of the two is bold
    gap = summary.set_index("method")["drop_val_accuracy_mean"] * 100  # the thesis prints the gap's mean alone
    built.cells["Gap (pp)"] = [f"{gap[c]:.2f}" for c in built.cells["Condition"]]
    built.numbers = numbers_from(summary, {"peak": ("best_val_accuracy", 100.0), "final": ("final_val_accuracy", 100.0),
                                           "gap": ("drop_val_accuracy", 100.0)})
    return built


NOISE_ABLATION = ("No gradient noise", "Gradient-noise injection")


def noise_ablation_rows(runs: Runs, built: Built) -> pd.DataFrame:
    """T24 / F8 runs: sym20 AdamW AEES, trend context; σ {0} vs the small-σ grid, at the σ runs' budget."""
    base = dict(task="cifar100", setting="sym20", optimizer="AdamW", context="trend", lam=0.0, lr_scheduler="none")
    dual = runs.pick(aees_axis="AEES-Dual", **base)
    lr = runs.pick(aees_axis="AEES-LR", **base, **({"epochs": dual["epochs"].iloc[0]} if not dual.empty else {}))
    built.use(lr, NOISE_ABLATION[0])
    built.use(dual, NOISE_ABLATION[1])
    return pd.concat([lr.assign(method=NOISE_ABLATION[0]), dual.assign(method=NOISE_ABLATION[1])])
