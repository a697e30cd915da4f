r"""Compute-overhead tables (T13, T14; chapter ``compute``).

Compute overhead (T13, T14) reads the timing runs (``run_tag`` ``run1``, ``run2``, ...) of both
machineries (``config.machinery``; a thesis archive's runs are the thesis machinery's, its timing
runs the ones with ``runtime_metrics``): the thesis machinery's columns first, comparable with the
published tables, then this project's. Seconds per epoch drop the first epoch (protocol 9.5);
overhead = 100 (s/epoch / s/epoch of the no-schedule baseline of the same machinery − 1), from the means.
"""

from __future__ import annotations

import math

import pandas as pd

from lib.analysis.build import NUMBER_COLUMNS, Built, Runs, largest_group, stats
from lib.analysis.labels import TASK_LABELS
from lib.analysis.style import fmt_pm, fmt_signed

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
