r"""Checkpoint (T11, T12), compute-overhead (T13, T14) and ablation (T22-T24) tables.

Peak-checkpoint diagnostics (T11, T12) in two protocols, side by side:
* best-epoch weights (this project): every noisy run records them on its best epoch's weights
  (``peak_checkpoint_diagnostics``);
* re-run to peak (the thesis): runs re-trained to each seed's peak epoch with the schedule
  compressed to it, read at their final epoch: this project's ``cifar-peak-rerun`` runs
  (``run_tag`` ``peak-rerun``) or a thesis archive's shorter runs with diagnostics. A method
  without a schedule re-trains the same run up to the peak, so its re-run columns repeat the
  best-epoch numbers when it has no re-runs; a scheduled method without re-runs shows "--"
  (the table still builds, status partial).

Compute overhead (T13, T14) reads the timing runs (``run_tag`` ``run1``, ``run2``, ...) of both
machineries (``config.machinery``; a thesis archive's runs are the thesis machinery's, its timing
runs the ones with ``runtime_metrics``): the thesis machinery's columns first, comparable with the
published tables, then this project's. Seconds per epoch drop the first epoch (protocol 9.5);
overhead = 100 (s/epoch / s/epoch of the no-schedule baseline of the same machinery − 1), from the means.
"""

from __future__ import annotations

import math

import pandas as pd

from lib.analysis.build import (NUMBER_COLUMNS, Built, Runs, artifact, largest_group, main_filters, numbers_from,
                                stats)
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
# The two protocols of T11/T12: (key, column suffix, numbers prefix, description).
# The thesis' published T11/T12 are the re-run protocol, so its numbers keep the thesis metric names.
PROTOCOLS = (("best", " (best ep.)", "best-epoch weights ", "best-epoch weights (this project)"),
             ("rerun", " (re-run)", "", "re-run to peak (thesis)"))
PROTOCOL_NOTE = ("Two measurements of the peak checkpoint: 'best ep.' reads the training-subset diagnostics "
                 "on the best epoch's weights of the full run (this project); 're-run' re-trains the run to its "
                 "peak epoch with the schedule compressed to it (scheduler_t_max = that epoch) and measures "
                 "the final weights (the thesis protocol), which for Cosine runs is a different model.")
UNSCHEDULED_NOTE = ("re-run to peak of a run without a schedule: the same training up to the peak epoch, so "
                    "the re-run columns repeat the best-epoch weights' numbers")


def _columns(protocol: str) -> tuple[Column, ...]:
    _, suffix, _, _ = next(p for p in PROTOCOLS if p[0] == protocol)
    return tuple(Column(c.header + suffix, f"{protocol}_{c.metric}", c.scale, c.better) for c in CKPT_COLUMNS)


def _ckpt_frame(out: list[dict], setting: str, optimizer: str, method: str) -> pd.DataFrame:
    cols = ["seed", *(m for m, _ in CKPT_METRICS.values()), "path"]
    return pd.DataFrame(out, columns=cols).assign(setting=setting, optimizer=optimizer, method=method)


def _filters(setting: str, optimizer: str, method: str) -> dict:
    return dict(task="cifar100", setting=setting, optimizer=optimizer, method=method,
                **main_filters("cifar100", method))


def best_epoch_rows(runs: Runs, setting: str, optimizer: str, method: str) -> pd.DataFrame:
    """This project's protocol: the diagnostics of each full run's best epoch (``peak_checkpoint_diagnostics``)."""
    out = []
    for r in largest_group(runs.candidates(**_filters(setting, optimizer, method))).itertuples():
        d = runs.record(r.path).get("peak_checkpoint_diagnostics")
        if isinstance(d, dict):
            out.append({"seed": r.seed, "ckpt_epoch": float(d["epoch"]), "ckpt_val": d["val_accuracy"],
                        **{k: d.get(v, math.nan) for k, v in _DIAG_KEYS.items()}, "path": r.path})
    return _ckpt_frame(out, setting, optimizer, method)


def _final_diagnostics(rows: pd.DataFrame) -> list[dict]:
    return [{"seed": r.seed, "ckpt_epoch": float(r.epochs), "ckpt_val": r.final_val_accuracy,
             "ckpt_corr_noisy": r.corr_noisy, "ckpt_corr_clean": r.corr_clean, "ckpt_train_clean": r.train_clean,
             "path": r.path} for r in rows.itertuples()]


def rerun_rows(runs: Runs, setting: str, optimizer: str, method: str) -> pd.DataFrame:
    """The thesis protocol: the final diagnostics of runs re-trained to each seed's peak epoch.

    This project's re-runs carry ``run_tag`` ``peak-rerun`` (grid ``cifar-peak-rerun``; their epochs
    differ per seed, so no configuration group is taken). A thesis archive's re-runs are the noisy
    runs with diagnostics that are shorter than the full runs of the same method (a seed whose peak is
    the last epoch: its full run's final diagnostics are the peak's)."""
    filters = _filters(setting, optimizer, method)
    tagged = runs.candidates(peak_rerun=True, **filters)
    tagged = tagged[tagged["has_diagnostics"].astype(bool)].sort_values(["seed", "path"]).drop_duplicates("seed")
    if not tagged.empty:
        return _ckpt_frame(_final_diagnostics(tagged), setting, optimizer, method)
    cands = runs.candidates(profile="thesis-archive", **filters)
    if cands.empty:
        return _ckpt_frame([], setting, optimizer, method)
    diag = cands[cands["has_diagnostics"].astype(bool)]
    full = cands["epochs"].max()
    reruns = diag[diag["epochs"] < full]
    at_end = diag[(diag["epochs"] == full) & (diag["peak_epoch"] == full) & ~diag["seed"].isin(reruns["seed"])]
    chosen = pd.concat([reruns, at_end]).sort_values(["seed", "path"]).drop_duplicates("seed")
    return _ckpt_frame(_final_diagnostics(chosen), setting, optimizer, method)


def checkpoint_rows(runs: Runs, setting: str, optimizer: str, method: str) -> tuple[pd.DataFrame, str]:
    """One row per seed for F13 and the protocol it follows: the thesis's re-runs to each seed's peak epoch
    where the archive has them, else the best-epoch weights (for a method without a schedule the same
    training as a re-run; for a scheduled one not: its LR has not decayed at the peak of the full run)."""
    rerun = rerun_rows(runs, setting, optimizer, method)
    if not rerun.empty:
        return rerun, "re-run to peak"
    best = best_epoch_rows(runs, setting, optimizer, method)
    return best, ("best-epoch weights" if not best.empty else "")


def _unscheduled(method: str) -> bool:
    return not method.startswith("Cosine")


def _checkpoint_all(runs: Runs, built: Built, optimizers: tuple[str, ...] = OPTS) -> pd.DataFrame:
    """Per seed, both protocols side by side (``best_ckpt_*`` and ``rerun_ckpt_*`` columns)."""
    parts, reused = [], False
    for s in CKPT_SETTINGS:
        for o in optimizers:
            for m in ROW_ORDERS["T11"]:
                best = built.use(best_epoch_rows(runs, s, o, m), f"{s} {o} {m} (best-epoch weights)")
                rerun = rerun_rows(runs, s, o, m)
                if rerun.empty and _unscheduled(m) and not best.empty:
                    rerun, reused = best, True  # no schedule to compress: the re-run is the same training
                built.use(rerun, f"{s} {o} {m} (re-run to peak)")
                metrics = [c for c, _ in CKPT_METRICS.values()]
                b = best[["seed", *metrics]].rename(columns={c: f"best_{c}" for c in metrics})
                r = rerun[["seed", *metrics]].rename(columns={c: f"rerun_{c}" for c in metrics})
                both = b.merge(r, on="seed", how="outer").sort_values("seed")
                if not both.empty:
                    parts.append(both.assign(setting=s, optimizer=o, method=m))
    if reused:
        built.notes.append(UNSCHEDULED_NOTE)
    built.notes.insert(0, PROTOCOL_NOTE)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _ckpt_numbers(frame: pd.DataFrame, block, row, std: bool) -> list[dict]:
    out = []
    for _, r in frame.iterrows():
        for key, _, prefix, _ in PROTOCOLS:
            for name, (col, scale) in CKPT_METRICS.items():
                mean = r[f"{key}_{col}_mean" if std else f"{key}_{col}"]
                if not pd.isna(mean):
                    out.append({"block": block(r), "row": row(r), "metric": prefix + name, "mean": mean * scale,
                                "std": r[f"{key}_{col}_std"] * scale if std else math.nan,
                                "n": int(r["n"]) if std else 1})
    return out


@artifact("T11", "table", "checkpoints", "checkpoint_diagnostics_main",
          "Peak-checkpoint diagnostics (training-subset accuracies at each seed's peak epoch)",
          "tab:checkpoint-diagnostics-main")
def t11(runs: Runs) -> Built:
    built = Built()
    rows = _checkpoint_all(runs, built)
    if not built.inputs:
        return built
    metrics = [f"{k}_{c}" for k, *_ in PROTOCOLS for c, _ in CKPT_METRICS.values()]
    summary = stats(rows, by=("setting", "optimizer", "method"), metrics=metrics)
    columns = _columns("best") + _columns("rerun")
    built.cells, built.styles = per_setting(summary, ROW_ORDERS["T11"], columns, n_col=False,
                                            tie_break_sd=True, setting_header="Setting", opt_header="Opt.")
    built.numbers = pd.DataFrame(_ckpt_numbers(summary, lambda r: f"{r['setting']} {r['optimizer']}",
                                               lambda r: str(r["method"]), std=True), columns=NUMBER_COLUMNS)
    return built


@artifact("T12", "table", "checkpoints", "checkpoint_diagnostics_appendix",
          "Peak-checkpoint diagnostics per seed", "tab:checkpoint-diagnostics-detailed")
def t12(runs: Runs) -> Built:
    built = Built()
    rows = _checkpoint_all(runs, built)
    if not built.inputs:
        return built
    cells = []
    for _, r in rows.iterrows():
        cell = {"Setting": SETTING_LABELS[r.setting], "Seed": str(int(r.seed)), "Opt.": r.optimizer,
                "Variant": r.method}
        for key, *_ in PROTOCOLS:
            for c in _columns(key):
                v = r[c.metric]
                cell[c.header] = "--" if pd.isna(v) else (str(int(v)) if c.metric.endswith("_epoch")
                                                          else f"{v * 100:.1f}")
        cells.append(cell)
    built.cells = pd.DataFrame(cells)
    built.numbers = pd.DataFrame(_ckpt_numbers(rows, lambda r: f"{r['setting']} {r['optimizer']}",
                                               lambda r: f"{r['method']} seed {int(r['seed'])}", std=False),
                                 columns=NUMBER_COLUMNS)
    return built


# --- compute overhead (protocol 9.5) ---
TIMING_GROUPS = (("cifar100", "SGD", "cosine"), ("cifar100", "AdamW", "cosine"),
                 ("sst2", "AdamW", "warmup_linear"), ("agnews", "AdamW", "warmup_linear"))
VARIANTS = (("baseline", None, "Baseline"), ("aees_lr_only", "AEES-LR", "AEES-LR"),
            ("aees_noise_only", "AEES-Noise", "AEES-Noise"), ("aees_both", "AEES-Dual", "AEES-Dual"))
SCHED_LABEL = {"cosine": "Cosine", "warmup_linear": "Warmup-linear"}
# Thesis machinery first (comparable with the published T13/T14, whose numbers keep their names),
# then this project's: (machinery, column suffix, numbers block suffix).
MACHINERY_SETS = (("thesis", "", ""), ("project", " (project)", " (project machinery)"))
MACHINERY_NOTE = ("Thesis machinery: stock pulseopt as the thesis runner drove it (its optimizer wrappers and "
                  "episode manager; loss and correct count read to the host every step), the SGD baseline "
                  "through pulseopt's SGD wrapper, CIFAR batches from a DataLoader with 2 workers and PIL "
                  "transforms, fp32, no checkpoint writes (on the text tasks: the same runner step, no "
                  "checkpoint writes), comparable with the published T13/T14. "
                  "(project): FastAEES, device-resident CIFAR batches, per-epoch checkpoints written outside "
                  "the timed epochs, and the profile's precision and memory format (mini CIFAR: bf16 autocast "
                  "and channels_last, so its seconds are not the thesis machinery's arithmetic).")


def timing_rows(runs: Runs, task: str, optimizer: str, axis: str | None, scheduler: str,
                machinery: str = "project") -> pd.DataFrame:
    """Timing repeats of one configuration (clean data) trained with ``machinery``."""
    f = dict(task=task, setting="clean", optimizer=optimizer, lr_scheduler=scheduler, lam=0.0, context="none",
             machinery=machinery)
    f.update({"kind": "baseline"} if axis is None else {"aees_axis": axis})
    rows = runs.pick(timing=True, **f)
    if rows.empty:  # thesis archives: no run tags; the timing runs are the ones with runtime_metrics
        rows = largest_group(runs.candidates(profile="thesis-archive", has_runtime_metrics=True, **f))
    return rows


def _timing_summary(runs: Runs, built: Built, machinery: str = "project") -> pd.DataFrame:
    out = []
    for task, opt, sched in TIMING_GROUPS:
        base = None
        for s in ("none", sched):
            for key, axis, label in VARIANTS:
                rows = built.use(timing_rows(runs, task, opt, axis, s, machinery),
                                 f"{task} {opt} {key}_{s} ({machinery} machinery)")
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
    return pd.DataFrame(out, columns=["task", "optimizer", "config", "label", "n", "sec", "sec_std", "overhead",
                                      "sps", "sps_std", "tfs", "tfs_std"])


def _both_machineries(runs: Runs, built: Built) -> dict[str, pd.DataFrame]:
    summaries = {m: _timing_summary(runs, built, m) for m, _, _ in MACHINERY_SETS}
    built.notes.append(MACHINERY_NOTE)
    return summaries


def _groups(summaries: dict[str, pd.DataFrame]) -> list[tuple[str, str]]:
    order = [(TASK_LABELS[t], o) for t, o, _ in TIMING_GROUPS]
    present = {(r.task, r.optimizer) for s in summaries.values() for r in s.itertuples()}
    return [g for g in order if g in present]


@artifact("T13", "table", "compute", "compute_overhead_decomposition_table",
          "Compute overhead: seconds per epoch of the baseline and the relative cost of each addition",
          "tab:compute-overhead")
def t13(runs: Runs) -> Built:
    built = Built()
    summaries = _both_machineries(runs, built)
    if all(s.empty for s in summaries.values()):
        return built
    cells, nums = [], []
    for task, opt in _groups(summaries):
        row = {"Task / Optimizer": f"{task} / {opt}"}
        sched = "cosine" if task == "CIFAR-100" else "warmup_linear"
        keys = {"LR sched.": f"baseline_{sched}", "AEES-LR": "aees_lr_only_none",
                "AEES-Noise": "aees_noise_only_none", "AEES-Dual": "aees_both_none"}
        for machinery, suffix, block_suffix in MACHINERY_SETS:
            s = summaries[machinery]
            by = s[(s["task"] == task) & (s["optimizer"] == opt)].set_index("config")
            block = f"{task} {opt}{block_suffix}"
            has_base = "baseline_none" in by.index
            row[f"Baseline (s/ep){suffix}"] = f"{by.loc['baseline_none', 'sec']:.2f}" if has_base else "--"
            for header, key in keys.items():
                row[header + suffix] = fmt_signed(by.loc[key, "overhead"]) if key in by.index else "--"
                if key in by.index:
                    nums.append({"block": block, "row": header, "metric": "overhead",
                                 "mean": by.loc[key, "overhead"], "std": math.nan, "n": int(by.loc[key, "n"])})
            if has_base:
                nums.append({"block": block, "row": "Baseline", "metric": "sec_per_epoch",
                             "mean": by.loc["baseline_none", "sec"], "std": by.loc["baseline_none", "sec_std"],
                             "n": int(by.loc["baseline_none", "n"])})
        cells.append(row)
    built.cells, built.numbers = pd.DataFrame(cells), pd.DataFrame(nums, columns=NUMBER_COLUMNS)
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
    summaries = _both_machineries(runs, built)
    if all(s.empty for s in summaries.values()):
        return built
    keyed = {m: s.set_index(["task", "optimizer", "config"]) for m, s in summaries.items()}
    cells, nums, starts = [], [], []
    for task, opt in _groups(summaries):
        configs = sorted({c for s in summaries.values() for c in s[(s["task"] == task) & (s["optimizer"] == opt)]["config"]},
                         key=_t14_rank)
        starts.append(len(cells))
        for i, config in enumerate(configs):
            label = next(s.loc[(task, opt, config), "label"] for s in keyed.values() if (task, opt, config) in s.index)
            cell = {"Task": task if i == 0 else "", "Optimizer": opt if i == 0 else "", "Configuration": label}
            for machinery, suffix, block_suffix in MACHINERY_SETS:
                s = keyed[machinery]
                r = s.loc[(task, opt, config)] if (task, opt, config) in s.index else None
                if r is None:
                    cell.update({h + suffix: "--" for h in ("$n$", "Time/epoch (s)", "Overhead (\\%)", "Steps/s",
                                                            "TFLOP/s")})
                    continue
                cell.update({f"$n${suffix}": str(int(r["n"])), f"Time/epoch (s){suffix}": fmt_pm(r["sec"], r["sec_std"], 2),
                             f"Overhead (\\%){suffix}": fmt_signed(r["overhead"]),
                             f"Steps/s{suffix}": fmt_pm(r["sps"], r["sps_std"], 2),
                             f"TFLOP/s{suffix}": fmt_pm(r["tfs"], r["tfs_std"], 2)})
                for metric, mean, sd in (("sec_per_epoch", r["sec"], r["sec_std"]), ("overhead", r["overhead"], math.nan),
                                         ("steps_per_second", r["sps"], r["sps_std"]),
                                         ("tflops_per_second", r["tfs"], r["tfs_std"])):
                    nums.append({"block": f"{task} {opt}{block_suffix}", "row": config, "metric": metric,
                                 "mean": mean, "std": sd, "n": int(r["n"])})
            cells.append(cell)
    built.cells, built.numbers = pd.DataFrame(cells), pd.DataFrame(nums, columns=NUMBER_COLUMNS)
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
