r"""CIFAR-100 tables T1-T12 (INVENTORY section 2), built from an archive by content.

Rows are picked with ``Runs.pick`` (main runs: λ 0, context none). "Fixed ×1.0" is the
baseline of its block when the archive has no single-candidate ×1.0 run, as in the
thesis (clean: by design; noisy: identical numbers); which run stands in for which row
comes from the grid definitions' aliases (``STAND_INS``). Rounding, ranking and LaTeX
come from ``lib.analysis.style``.

Beyond the thesis, the clean tables T1-T3 end in two columns (``GAP_COLUMNS``) that say
whether a row differs from the flat AdamW row (T2: Fixed ×1.0, the same runs) at all: the
seed-paired difference in best accuracy with its percentile-bootstrap 95 % CI and the
paired t-test p of protocol 12 (``flat_gaps``), whatever its sign. The thesis printed
means ± SD only; at the clean ceiling of a small archive the means alone cannot tell a
gap from seed noise.
"""

from __future__ import annotations

import math

import pandas as pd

from lib.analysis.aggregate import paired_stats
from lib.analysis.build import NUMBER_COLUMNS, Built, Runs, main_filters, numbers_from, stats
from lib.analysis.labels import OPTIMIZER_FIGURE_LABELS, ROW_ORDERS, SETTING_LABELS, latex_label
from lib.analysis.style import ACCURACY_COLUMNS, Column, fmt_ci, fmt_p, fmt_pm, format_table
from lib.grids.definitions import GRIDS

NOISY = ("asym20", "sym20", "sym40")
OPTS = ("AdamW", "SGD")
ACC = {"best": ("best_val_accuracy", 100.0), "final": ("final_val_accuracy", 100.0),
       "drop": ("drop_val_accuracy", 100.0), "peak_epoch": ("peak_epoch", 1.0)}
DIAG = {"corr_noisy": ("corr_noisy", 100.0), "corr_clean": ("corr_clean", 100.0),
        "train_clean": ("train_clean", 100.0)}
DIAG_COLUMNS = (Column("Corr. noisy", "corr_noisy", 100.0, None), Column("Corr. clean", "corr_clean", 100.0, None),
                Column("Train clean", "train_clean", 100.0, None))


def _stand_ins() -> dict[tuple[str, str], str]:
    """(label, setting) -> the label of the run that stands in for it (e.g. Fixed ×1.0 -> the
    block's baseline), from the grid definitions' aliases: the rule is written there once."""
    out = {}
    for grid in GRIDS.values():
        for alias in grid.aliases:
            target = next(c for c in GRIDS[alias.grid].cells if c.name == alias.cell)
            if target.task == "cifar100" and target.label != alias.label:
                out[(alias.label, alias.setting)] = target.label
    return out


STAND_INS = _stand_ins()


def cifar_rows(runs: Runs, built: Built, labels: tuple[str, ...], *, setting: str, optimizer: str,
               block: str = "") -> pd.DataFrame:
    """Picked runs of each label (relabelled aliases included), with a ``block`` column."""
    parts = []
    for label in labels:
        rows = runs.pick(task="cifar100", setting=setting, optimizer=optimizer, method=label,
                         **main_filters("cifar100", label))
        if rows.empty and (label, setting) in STAND_INS:
            base = STAND_INS[(label, setting)]
            rows = runs.pick(task="cifar100", setting=setting, optimizer=optimizer, method=base,
                             **main_filters("cifar100", base)).assign(method=label)
            if not rows.empty and f"{label} = {base}" not in built.notes:
                built.notes.append(f"{label} = {base}")
        built.use(rows, f"{setting} {optimizer} {label}".replace("clean AdamW ", ""))
        parts.append(rows.assign(block=block))
    return pd.concat(parts) if parts else pd.DataFrame()


# The flat row of each clean table, and the columns of the paired gap against it (beyond the thesis).
FLAT = {"T1": "AdamW", "T2": "Fixed ×1.0", "T3": "AdamW"}
GAP_COLUMNS = ("$\\Delta$ Best vs flat (pp)", "$p$")
GAP_METRICS = ("delta_best_vs_flat", "ci_low", "ci_high", "p")


def flat_gaps(rows: pd.DataFrame, flat: str) -> pd.DataFrame:
    """Per method of ``rows`` other than ``flat``: ``paired_stats`` of its best accuracy against the flat row's
    over the seeds both have (pp; ``n`` 0 and NaN when they share none)."""
    base = rows[rows["method"] == flat].set_index("seed")["best_val_accuracy"]
    out = []
    for method in dict.fromkeys(rows["method"]):
        if method == flat:
            continue
        mine = rows[rows["method"] == method].set_index("seed")["best_val_accuracy"]
        seeds = sorted(set(mine.index) & set(base.index))
        p = paired_stats(mine.loc[seeds].to_numpy(), base.loc[seeds].to_numpy(), scale=100.0) if seeds else \
            {"n": 0, "diff_mean": math.nan, "ci_low": math.nan, "ci_high": math.nan, "p_value": math.nan}
        out.append({"method": method, "n": p["n"], "delta_best_vs_flat": p["diff_mean"], "ci_low": p["ci_low"],
                    "ci_high": p["ci_high"], "p": p["p_value"]})
    return pd.DataFrame(out, columns=["method", "n", *GAP_METRICS])


def _clean_table(runs: Runs, table: str) -> Built:
    built = Built()
    rows = cifar_rows(runs, built, ROW_ORDERS[table], setting="clean", optimizer="AdamW")
    if not built.inputs:
        return built
    summary = stats(rows)
    built.cells, built.styles = format_table(summary, order=ROW_ORDERS[table], digits=1)
    gaps = flat_gaps(rows, FLAT[table]).set_index("method")
    shown = [m for m in ROW_ORDERS[table] if m in set(summary["method"])]  # format_table's row order
    built.cells[GAP_COLUMNS[0]] = [fmt_ci(*gaps.loc[m, ["delta_best_vs_flat", "ci_low", "ci_high"]])
                                   if m in gaps.index else "--" for m in shown]
    built.cells[GAP_COLUMNS[1]] = [fmt_p(gaps.loc[m, "p"]) if m in gaps.index else "--" for m in shown]
    for col in GAP_COLUMNS:
        built.styles[col] = ""
    gap_numbers = pd.DataFrame([{"block": "", "row": m, "metric": k, "mean": float(g[k]), "std": math.nan,
                                 "n": int(g["n"])} for m, g in gaps.iterrows() for k in GAP_METRICS],
                               columns=NUMBER_COLUMNS)
    built.numbers = pd.concat([numbers_from(summary, ACC), gap_numbers], ignore_index=True)
    built.notes.append(f"Δ Best vs flat and p (beyond the thesis): each row's seed-paired difference in best accuracy "
                       f"against {FLAT[table]}, percentile-bootstrap 95 % CI and paired t-test p (protocol 12; "
                       "exploratory); \"no CI: one seed\" below two paired seeds")
    return built


def t1(runs: Runs) -> Built:
    return _clean_table(runs, "T1")


def t2(runs: Runs) -> Built:
    return _clean_table(runs, "T2")


def t3(runs: Runs) -> Built:
    return _clean_table(runs, "T3")


def _noisy_rows(runs: Runs, built: Built, settings: tuple[str, ...], labels: tuple[str, ...]) -> pd.DataFrame:
    parts = [cifar_rows(runs, built, labels, setting=s, optimizer=o, block=f"{s} {o}")
             for s in settings for o in OPTS]
    return pd.concat(parts)


def _noisy_numbers(summary: pd.DataFrame, metrics: dict) -> pd.DataFrame:
    return numbers_from(summary, metrics, block=lambda r: f"{r['setting']} {r['optimizer']}")


def _main_noisy(runs: Runs, setting: str) -> Built:
    built = Built()
    rows = _noisy_rows(runs, built, (setting,), ROW_ORDERS["T4"])
    if not built.inputs:
        return built
    summary = stats(rows, by=("setting", "optimizer", "method"))
    built.cells, built.styles = format_table(summary, order=ROW_ORDERS["T4"], digits=1, block_col="optimizer",
                                             block_header="Optimizer", n_col=False)
    built.numbers = _noisy_numbers(summary, ACC)
    return built


def t4(runs: Runs) -> Built:
    return _main_noisy(runs, "asym20")


def t5(runs: Runs) -> Built:
    return _main_noisy(runs, "sym20")


def t6(runs: Runs) -> Built:
    return _main_noisy(runs, "sym40")


def per_setting(summary: pd.DataFrame, order: tuple[str, ...], columns: tuple[Column, ...], *,
                digits: int = 1, n_col: bool = True, tie_break_sd: bool = False, setting_header: str = "Noise",
                opt_header: str = "Optimizer") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cells/styles of a setting × optimizer table: labels on each block's first row, a rule per setting."""
    cells, styles, starts = [], [], []
    for setting in dict.fromkeys(summary["setting"]):
        c, s = format_table(summary[summary["setting"] == setting], columns=columns, order=order, digits=digits,
                            block_col="optimizer", block_header=opt_header, n_col=n_col, tie_break_sd=tie_break_sd)
        if c.empty:
            continue
        c.insert(0, setting_header, [SETTING_LABELS.get(setting, setting)] + [""] * (len(c) - 1))
        s.insert(0, setting_header, "")
        starts.append(sum(len(x) for x in cells))
        cells.append(c)
        styles.append(s)
    out = pd.concat(cells, ignore_index=True)
    out.attrs["midrule_before"] = starts[1:]
    return out, pd.concat(styles, ignore_index=True)


def t7(runs: Runs) -> Built:
    built = Built()
    rows = _noisy_rows(runs, built, NOISY, ROW_ORDERS["T7"])
    if not built.inputs:
        return built
    summary = stats(rows, by=("setting", "optimizer", "method"))
    columns = tuple(Column(c.header, c.metric, c.scale, None) for c in ACCURACY_COLUMNS) + DIAG_COLUMNS
    built.cells, built.styles = per_setting(summary, ROW_ORDERS["T7"], columns)
    built.styles = None
    built.numbers = _noisy_numbers(summary, {**ACC, **DIAG})
    return built


FIXED = ("Fixed ×0.5", "Fixed ×1.0", "Fixed ×2.0")


def _fixed_summary(runs: Runs, built: Built) -> pd.DataFrame:
    rows = _noisy_rows(runs, built, NOISY, ROW_ORDERS["T9"])
    return stats(rows, by=("setting", "optimizer", "method")) if built.inputs else pd.DataFrame()


def best_fixed(part: pd.DataFrame) -> str | None:
    """The fixed multiplier with the highest mean best accuracy (first in ×0.5, ×1.0, ×2.0 on ties)."""
    fixed = part.set_index("method").reindex([f for f in FIXED if f in set(part["method"])])
    if fixed.empty:
        return None
    return str(fixed["best_val_accuracy_mean"].idxmax())


def t8(runs: Runs) -> Built:
    built = Built()
    summary = _fixed_summary(runs, built)
    if not built.inputs:
        return built
    rows, nums, starts, seen = [], [], [], set()
    for (setting, opt), part in summary.groupby(["setting", "optimizer"], sort=False):
        fixed = best_fixed(part)
        by = part.set_index("method")
        if setting not in seen:  # the thesis prints a setting once, on its block's first row
            starts.append(len(rows))
        row = {"Noise": "" if setting in seen else SETTING_LABELS[setting], "Optimizer": opt,
               "Best fixed": latex_label(fixed.replace("Fixed ", "")) if fixed else "--"}
        for header, method in (("Best fixed value", fixed), ("AEES", "AEES"), ("Cosine", "Cosine"),
                               ("Cosine + AEES", "Cosine + AEES")):
            if method in by.index:
                vals = [by.loc[method, f"{m}_mean"] * 100 for m in ("best_val_accuracy", "final_val_accuracy",
                                                                     "drop_val_accuracy")]
                row[header] = " / ".join(f"{v:.1f}" for v in vals)
                nums += [{"block": f"{setting} {opt}", "row": "Best fixed" if header == "Best fixed value" else method,
                          "metric": m, "mean": v, "std": math.nan, "n": int(by.loc[method, "n"])}
                         for m, v in zip(("best", "final", "drop"), vals)]
            else:
                row[header] = "--"
        rows.append(row)
        seen.add(setting)
    built.cells = pd.DataFrame(rows).rename(columns={"Best fixed value": "Best fixed (best / final / drop)"})
    built.cells.attrs["midrule_before"] = starts[1:]
    built.numbers = pd.DataFrame(nums)
    return built


def t9(runs: Runs) -> Built:
    built = Built()
    summary = _fixed_summary(runs, built)
    if not built.inputs:
        return built
    columns = tuple(Column(c.header, c.metric, c.scale, None) for c in ACCURACY_COLUMNS)
    built.cells, _ = per_setting(summary, ROW_ORDERS["T9"], columns)
    built.numbers = _noisy_numbers(summary, ACC)
    return built


def t10(runs: Runs) -> Built:
    built = Built()
    rows = _noisy_rows(runs, built, NOISY, ("Fixed ×0.5", "Fixed ×1.0", "Fixed ×2.0", "AEES"))
    if not built.inputs:
        return built
    summary = stats(rows, by=("setting", "optimizer", "method"))
    cells, nums = [], []
    for (setting, opt), part in summary.groupby(["setting", "optimizer"], sort=False):
        fixed = best_fixed(part)
        if fixed is None or "AEES" not in set(part["method"]):
            continue
        sel = rows[(rows["setting"] == setting) & (rows["optimizer"] == opt)]
        a, f = (sel[sel["method"] == m].set_index("seed")["best_val_accuracy"] for m in ("AEES", fixed))
        seeds = sorted(set(a.index) & set(f.index))
        p = paired_stats(a.loc[seeds].to_numpy(), f.loc[seeds].to_numpy(), scale=100.0)
        cells.append({"Noise": SETTING_LABELS[setting], "Optimizer": OPTIMIZER_FIGURE_LABELS[opt],
                      "Best fixed": latex_label(fixed.replace("Fixed ", "")), "n": str(p["n"]),
                      "Fixed Best (\\%)": fmt_pm(p["baseline_mean"], p["baseline_std"], 2),
                      "AEES Best (\\%)": fmt_pm(p["method_mean"], p["method_std"], 2),
                      "$\\Delta$ Best (pp)": fmt_ci(p["diff_mean"], p["ci_low"], p["ci_high"]),
                      "$p$": fmt_p(p["p_value"])})
        block = f"{setting} {opt}"
        nums += [{"block": block, "row": "paired", "metric": m, "mean": v, "std": sd, "n": p["n"]}
                 for m, v, sd in (("fixed_best", p["baseline_mean"], p["baseline_std"]),
                                  ("aees_best", p["method_mean"], p["method_std"]),
                                  ("delta_best", p["diff_mean"], math.nan), ("ci_low", p["ci_low"], math.nan),
                                  ("ci_high", p["ci_high"], math.nan), ("p", p["p_value"], math.nan))]
    if not cells:
        built.missing.append("no setting with both AEES and a fixed multiplier")
        built.inputs.clear()
        return built
    built.cells = pd.DataFrame(cells)
    built.numbers = pd.DataFrame(nums)
    return built
