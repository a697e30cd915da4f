r"""Checkpoint (T11, T12), compute-overhead (T13, T14) and ablation (T22-T24) tables.

Peak-checkpoint diagnostics come from either source the archive has:
* this project's runs record them on the best epoch's weights (``peak_checkpoint_diagnostics``);
* thesis archives hold re-runs stopped at each seed's peak epoch, whose final-epoch
  diagnostics are the peak's (shorter than the full runs of the same method).

Compute overhead reads the timing runs (``run_tag`` ``run1``, ``run2``, ...); a thesis
archive's timing runs are the ones with ``runtime_metrics``. Seconds per epoch drop
the first epoch (protocol 9.5); overhead = 100 (s/epoch / s/epoch of the no-schedule
baseline − 1), from the means.
"""

from __future__ import annotations

import math

import pandas as pd

from lib.analysis.build import Built, Runs, artifact, largest_group, main_filters, numbers_from, stats
from lib.analysis.labels import ROW_ORDERS, SETTING_LABELS, TASK_LABELS
from lib.analysis.style import Column, fmt_diff, fmt_pm, fmt_signed, format_table
from lib.analysis.tables_cifar import OPTS, per_setting

CKPT_SETTINGS = ("asym20", "sym40")
CKPT_METRICS = {"epoch": ("ckpt_epoch", 1.0), "val": ("ckpt_val", 100.0), "corr_noisy": ("ckpt_corr_noisy", 100.0),
                "corr_clean": ("ckpt_corr_clean", 100.0), "train_clean": ("ckpt_train_clean", 100.0)}
CKPT_COLUMNS = (Column("Epoch", "ckpt_epoch", 1.0, None), Column("Val acc.", "ckpt_val", 100.0, None),
                Column("Corr. noisy $\\downarrow$", "ckpt_corr_noisy", 100.0, "min"),
                Column("Corr. clean $\\uparrow$", "ckpt_corr_clean", 100.0, "max"),
                Column("Train clean", "ckpt_train_clean", 100.0, None))
_DIAG_KEYS = {"ckpt_corr_noisy": "train_corrupted_accuracy_vs_noisy_labels",
              "ckpt_corr_clean": "train_corrupted_accuracy_vs_clean_labels", "ckpt_train_clean": "train_clean_accuracy"}


def checkpoint_rows(runs: Runs, setting: str, optimizer: str, method: str) -> pd.DataFrame:
    """One row per seed: the selected (peak) epoch, its val accuracy and the three subset accuracies."""
    filters = dict(task="cifar100", setting=setting, optimizer=optimizer, method=method,
                   **main_filters("cifar100", method))
    cands = runs.candidates(**filters)
    out = []
    for r in largest_group(cands).itertuples():
        d = runs.record(r.path).get("peak_checkpoint_diagnostics")
        if isinstance(d, dict):
            out.append({"seed": r.seed, "ckpt_epoch": float(d["epoch"]), "ckpt_val": d["val_accuracy"],
                        **{k: d.get(v, math.nan) for k, v in _DIAG_KEYS.items()}, "path": r.path})
    if not out and not cands.empty:  # thesis layout: re-runs stopped at each seed's peak epoch
        diag = cands[cands["has_diagnostics"].astype(bool)]
        full = cands["epochs"].max()
        reruns = diag[diag["epochs"] < full]
        # a seed whose peak is the last epoch: its full run's final diagnostics are the peak's
        at_end = diag[(diag["epochs"] == full) & (diag["peak_epoch"] == full) & ~diag["seed"].isin(reruns["seed"])]
        for r in pd.concat([reruns, at_end]).sort_values(["seed", "path"]).drop_duplicates("seed").itertuples():
            out.append({"seed": r.seed, "ckpt_epoch": float(r.epochs), "ckpt_val": r.final_val_accuracy,
                        "ckpt_corr_noisy": r.corr_noisy, "ckpt_corr_clean": r.corr_clean,
                        "ckpt_train_clean": r.train_clean, "path": r.path})
    cols = ["seed", *(m for m, _ in CKPT_METRICS.values()), "path"]
    return pd.DataFrame(out, columns=cols).assign(setting=setting, optimizer=optimizer, method=method)


def _checkpoint_all(runs: Runs, built: Built, optimizers: tuple[str, ...] = OPTS) -> pd.DataFrame:
    parts = []
    for s in CKPT_SETTINGS:
        for o in optimizers:
            for m in ROW_ORDERS["T11"]:
                parts.append(built.use(checkpoint_rows(runs, s, o, m), f"{s} {o} {m}"))
    return pd.concat(parts, ignore_index=True)


@artifact("T11", "table", "checkpoints", "checkpoint_diagnostics_main",
          "Peak-checkpoint diagnostics (training-subset accuracies at each seed's peak epoch)",
          "tab:checkpoint-diagnostics-main")
def t11(runs: Runs) -> Built:
    built = Built()
    rows = _checkpoint_all(runs, built)
    if not built.inputs:
        return built
    summary = stats(rows, by=("setting", "optimizer", "method"), metrics=[m for m, _ in CKPT_METRICS.values()])
    built.cells, built.styles = per_setting(summary, ROW_ORDERS["T11"], CKPT_COLUMNS, n_col=False,
                                            tie_break_sd=True, setting_header="Setting", opt_header="Opt.")
    built.numbers = numbers_from(summary, CKPT_METRICS, block=lambda r: f"{r['setting']} {r['optimizer']}")
    return built


@artifact("T12", "table", "checkpoints", "checkpoint_diagnostics_appendix",
          "Peak-checkpoint diagnostics per seed", "tab:checkpoint-diagnostics-detailed")
def t12(runs: Runs) -> Built:
    built = Built()
    rows = _checkpoint_all(runs, built)
    if not built.inputs:
        return built
    cells, nums = [], []
    for r in rows.itertuples():
        cells.append({"Setting": SETTING_LABELS[r.setting], "Seed": str(int(r.seed)), "Opt.": r.optimizer,
                      "Variant": r.method, "Epoch": str(int(r.ckpt_epoch)),
                      **{c.header: f"{getattr(r, c.metric) * 100:.1f}" for c in CKPT_COLUMNS[1:]}})
        nums += [{"block": f"{r.setting} {r.optimizer}", "row": f"{r.method} seed {int(r.seed)}", "metric": name,
                  "mean": getattr(r, col) * scale, "std": math.nan, "n": 1}
                 for name, (col, scale) in CKPT_METRICS.items()]
    built.cells, built.numbers = pd.DataFrame(cells), pd.DataFrame(nums)
    return built


# --- compute overhead (protocol 9.5) ---
TIMING_GROUPS = (("cifar100", "SGD", "cosine"), ("cifar100", "AdamW", "cosine"),
                 ("sst2", "AdamW", "warmup_linear"), ("agnews", "AdamW", "warmup_linear"))
VARIANTS = (("baseline", None, "Baseline"), ("aees_lr_only", "AEES-LR", "AEES-LR"),
            ("aees_noise_only", "AEES-Noise", "AEES-Noise"), ("aees_both", "AEES-Dual", "AEES-Dual"))
SCHED_LABEL = {"cosine": "Cosine", "warmup_linear": "Warmup-linear"}


def timing_rows(runs: Runs, task: str, optimizer: str, axis: str | None, scheduler: str) -> pd.DataFrame:
    """Timing repeats of one configuration (clean data)."""
    f = dict(task=task, setting="clean", optimizer=optimizer, lr_scheduler=scheduler, lam=0.0, context="none")
    f.update({"kind": "baseline"} if axis is None else {"aees_axis": axis})
    rows = runs.pick(timing=True, **f)
    if rows.empty:  # thesis archives: no run tags; the timing runs are the ones with runtime_metrics
        rows = largest_group(runs.candidates(profile="thesis-archive", has_runtime_metrics=True, **f))
    return rows


def _timing_summary(runs: Runs, built: Built) -> pd.DataFrame:
    out = []
    for task, opt, sched in TIMING_GROUPS:
        base = None
        for s in ("none", sched):
            for key, axis, label in VARIANTS:
                rows = built.use(timing_rows(runs, task, opt, axis, s), f"{task} {opt} {key}_{s}")
                if rows.empty:
                    continue
                st = stats(rows.assign(method=label), by=("method",),).iloc[0]
                sec = st["sec_per_epoch_mean"]
                if key == "baseline" and s == "none":
                    base = sec
                name = label if s == "none" else (SCHED_LABEL[s] if axis is None else f"{SCHED_LABEL[s]} + {label}")
                out.append({"task": TASK_LABELS[task], "optimizer": opt, "config": f"{key}_{s}", "label": name,
                            "n": int(st["n"]), "sec": sec, "sec_std": st["sec_per_epoch_std"],
                            "overhead": 100 * (sec / base - 1) if base else math.nan,
                            "sps": st["steps_per_second_mean"], "sps_std": st["steps_per_second_std"],
                            "tfs": st["tflops_per_second_mean"], "tfs_std": st["tflops_per_second_std"]})
    return pd.DataFrame(out)


@artifact("T13", "table", "compute", "compute_overhead_decomposition_table",
          "Compute overhead: seconds per epoch of the baseline and the relative cost of each addition",
          "tab:compute-overhead")
def t13(runs: Runs) -> Built:
    built = Built()
    summary = _timing_summary(runs, built)
    if summary.empty:
        return built
    cells, nums = [], []
    for (task, opt), part in summary.groupby(["task", "optimizer"], sort=False):
        by = part.set_index("config")
        sched = "cosine" if task == "CIFAR-100" else "warmup_linear"
        keys = {"LR sched.": f"baseline_{sched}", "AEES-LR": "aees_lr_only_none",
                "AEES-Noise": "aees_noise_only_none", "AEES-Dual": "aees_both_none"}
        row = {"Task / Optimizer": f"{task} / {opt}",
               "Baseline (s/ep)": f"{by.loc['baseline_none', 'sec']:.2f}" if "baseline_none" in by.index else "--"}
        for header, key in keys.items():
            row[header] = fmt_signed(by.loc[key, "overhead"]) if key in by.index else "--"
            if key in by.index:
                nums.append({"block": f"{task} {opt}", "row": header, "metric": "overhead",
                             "mean": by.loc[key, "overhead"], "std": math.nan, "n": int(by.loc[key, "n"])})
        if "baseline_none" in by.index:
            nums.append({"block": f"{task} {opt}", "row": "Baseline", "metric": "sec_per_epoch",
                         "mean": by.loc["baseline_none", "sec"], "std": by.loc["baseline_none", "sec_std"],
                         "n": int(by.loc["baseline_none", "n"])})
        cells.append(row)
    built.cells, built.numbers = pd.DataFrame(cells), pd.DataFrame(nums)
    return built


# T14 rows per task × optimizer, as the thesis prints them: Baseline, Sched, AEES-{LR, Noise, Dual},
# Sched + AEES-{LR, Noise, Dual} ("*" = the group's scheduler).
T14_ORDER = ("baseline_none", "baseline_*", "aees_lr_only_none", "aees_noise_only_none", "aees_both_none",
             "aees_lr_only_*", "aees_noise_only_*", "aees_both_*")


def _t14_rank(config: str) -> int:
    """Position of ``<variant>_<scheduler>`` (e.g. ``aees_both_warmup_linear``) in ``T14_ORDER``."""
    variant = next(v for v, _, _ in VARIANTS if config.startswith(v + "_"))
    return T14_ORDER.index(config if config.endswith("_none") else f"{variant}_*")


@artifact("T14", "table", "compute", "compute_overhead_detailed_table", "Compute overhead, detailed",
          "tab:compute_overhead_detailed")
def t14(runs: Runs) -> Built:
    built = Built()
    summary = _timing_summary(runs, built)
    if summary.empty:
        return built
    group = summary.groupby(["task", "optimizer"], sort=False).ngroup()
    summary = summary.assign(_g=group, _r=summary["config"].map(_t14_rank)).sort_values(
        ["_g", "_r"], kind="stable").reset_index(drop=True)
    cells, nums, starts, prev = [], [], [], None
    for r in summary.itertuples():
        first = (r.task, r.optimizer) != prev
        if first:
            starts.append(len(cells))
        prev = (r.task, r.optimizer)
        cells.append({"Task": r.task if first else "", "Optimizer": r.optimizer if first else "",
                      "Configuration": r.label, "$n$": str(r.n), "Time/epoch (s)": fmt_pm(r.sec, r.sec_std, 2),
                      "Overhead (\\%)": fmt_signed(r.overhead), "Steps/s": fmt_pm(r.sps, r.sps_std, 2),
                      "TFLOP/s": fmt_pm(r.tfs, r.tfs_std, 2)})
        for metric, mean, sd in (("sec_per_epoch", r.sec, r.sec_std), ("overhead", r.overhead, math.nan),
                                 ("steps_per_second", r.sps, r.sps_std), ("tflops_per_second", r.tfs, r.tfs_std)):
            nums.append({"block": f"{r.task} {r.optimizer}", "row": r.config, "metric": metric, "mean": mean,
                         "std": sd, "n": r.n})
    built.cells, built.numbers = pd.DataFrame(cells), pd.DataFrame(nums)
    built.cells.attrs["midrule_before"] = starts[1:]
    return built


# --- ablations (protocol 11.3) ---
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


@artifact("T22", "table", "ablations", "instability_penalty_ablation_table",
          "Instability-penalty ablation (λ = 0.1 vs none)", "tab:instability-penalty-ablation")
def t22(runs: Runs) -> Built:
    settings = {"cifar_clean": ("Clean CIFAR-100", {**_CIFAR_AEES, "setting": "clean", "context": "none"}),
                "cifar_noisy": ("Sym. 20\\% CIFAR-100", {**_CIFAR_AEES, "setting": "sym20", "context": "none"})}
    return _ablation_table(runs, settings, {"lam": 0.0}, {"lam": 0.1}, ("0p0", "0p1"), ("No penalty", "Penalty"))


@artifact("T23", "table", "ablations", "trend_context_ablation_table", "Trend-context ablation",
          "tab:trend-context-ablation")
def t23(runs: Runs) -> Built:
    settings = {"cifar_clean": ("Clean CIFAR-100", {**_CIFAR_AEES, "setting": "clean", "lam": 0.0}),
                "cifar_noisy": ("Sym. 20\\% CIFAR-100", {**_CIFAR_AEES, "setting": "sym20", "lam": 0.0}),
                "sst2": ("SST-2", {"task": "sst2", "setting": "clean", "method": "AEES", "lam": 0.0})}
    return _ablation_table(runs, settings, {"context": "none"}, {"context": "trend"}, ("none", "trend"),
                           ("Context-free", "Trend context"))


@artifact("T24", "table", "ablations", "cifar_noise_ablation_table",
          "Small gradient-noise injection on sym20 CIFAR-100 AEES (trend context, shorter budget)",
          "tab:cifar_noise_ablation")
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
