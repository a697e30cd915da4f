"""Per-run metrics, group means ± sample SD, and the paired statistics of protocol 12.

Accuracies stay fractions in [0, 1] (as in the JSON and the thesis CSVs); the
styling layer scales them to percent. ``peak_epoch`` is the 1-indexed first
argmax of ``val_accuracies``; ``drop_val_accuracy`` = best − final.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from lib.analysis.identify import RecordError, config_of, float_list

METRICS = (
    "best_val_accuracy", "final_val_accuracy", "drop_val_accuracy", "peak_epoch",
    "total_time", "total_tflops", "time_to_best", "tflops_to_best",
    "sec_per_epoch", "steps_per_second", "tflops_per_second",
    "corr_noisy", "corr_clean", "train_clean",
)
# A group never mixes runs that differ in any of these (task × setting × method, made exact).
GROUP_KEYS = (
    "profile", "standin", "dataset", "task", "setting", "optimizer", "method", "aees_axis", "lr_scheduler",
    "base_lr", "lr_grid", "noise_grid", "lam", "context", "episode_length", "epochs", "machinery",
)
_DIAGNOSTICS = {
    "corr_noisy": "train_corrupted_accuracy_vs_noisy_labels",
    "corr_clean": "train_corrupted_accuracy_vs_clean_labels",
    "train_clean": "train_clean_accuracy",
    "train_all": "train_all_accuracy",
}
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 0


def _opt_float(value: Any, key: str) -> float:
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RecordError(f"'{key}' is {value!r}, expected a number")
    return float(value)


def _opt_list(record: Mapping[str, Any], key: str) -> tuple[float, ...]:
    value = record.get(key)
    return () if value is None else float_list(value, key)


def run_metrics(record: Mapping[str, Any]) -> dict[str, Any]:
    """Metrics of one RunResult (protocol 12 and the thesis report scripts).

    Best = ``best_val_accuracy`` (fallback max of ``val_accuracies``), Final =
    ``final_val_accuracy`` (fallback last); time/TFLOPs to best sum the per-epoch
    lists up to the peak epoch; ``sec_per_epoch`` drops epoch 0 (protocol 9.5).
    """
    cfg = config_of(dict(record))
    val = _opt_list(record, "val_accuracies")
    best = _opt_float(record.get("best_val_accuracy"), "best_val_accuracy")
    final = _opt_float(record.get("final_val_accuracy"), "final_val_accuracy")
    if math.isnan(best) and val:
        best = max(val)
    if math.isnan(final) and val:
        final = val[-1]
    if math.isnan(best) or math.isnan(final):
        raise RecordError("no accuracies: best/final_val_accuracy and val_accuracies all missing")
    peak = int(np.argmax(val)) + 1 if val else None
    times = _opt_list(record, "epoch_wall_clock_seconds")
    tflops = _opt_list(record, "epoch_tflops")
    wall = _opt_float(record.get("wall_clock_seconds"), "wall_clock_seconds")
    flops = _opt_float(record.get("estimated_flops"), "estimated_flops")
    runtime = record.get("runtime_metrics") if isinstance(record.get("runtime_metrics"), dict) else {}
    epochs = record.get("total_epochs", cfg.get("epochs", len(val) or None))
    epochs = _opt_float(epochs, "total_epochs")
    if len(times) > 1:
        sec_per_epoch = float(np.mean(times[1:]))
    else:
        fallback = runtime.get("seconds_per_epoch") or runtime.get("mean_epoch_wall_clock_seconds")
        sec_per_epoch = _opt_float(fallback, "runtime_metrics.seconds_per_epoch")
        if math.isnan(sec_per_epoch) and epochs and not math.isnan(wall):
            sec_per_epoch = wall / epochs
    diag = ((cfg.get("diagnostics") or {}).get("final_subset_accuracies") or {}) \
        if isinstance(cfg.get("diagnostics"), dict) else {}
    episodes = record.get("episode_logs")
    return {
        "best_val_accuracy": best,
        "final_val_accuracy": final,
        "drop_val_accuracy": best - final,
        "peak_epoch": float(peak) if peak else math.nan,
        "epochs": epochs,
        "complete": bool(val) and not math.isnan(epochs) and len(val) == int(epochs),
        "total_steps": _opt_float(record.get("total_steps"), "total_steps"),
        "total_time": wall if not math.isnan(wall) else (float(sum(times)) if times else math.nan),
        "total_tflops": flops / 1e12 if not math.isnan(flops) else (float(sum(tflops)) if tflops else math.nan),
        "time_to_best": float(sum(times[:peak])) if times and peak else math.nan,
        "tflops_to_best": float(sum(tflops[:peak])) if tflops and peak else math.nan,
        "sec_per_epoch": sec_per_epoch,
        "steps_per_second": _opt_float(runtime.get("steps_per_second"), "runtime_metrics.steps_per_second"),
        "tflops_per_second": _opt_float(runtime.get("estimated_tflops_per_second"),
                                        "runtime_metrics.estimated_tflops_per_second"),
        **{col: _opt_float(diag.get(key), f"diagnostics.{key}") for col, key in _DIAGNOSTICS.items()},
        "has_diagnostics": bool(diag),
        "has_runtime_metrics": bool(runtime),
        "has_episode_logs": isinstance(episodes, dict) and bool(episodes),
        "val_accuracies": list(val),
        "epoch_wall_clock_seconds": list(times),
        "epoch_tflops": list(tflops),
    }


def select(df: pd.DataFrame, **filters: Any) -> pd.DataFrame:
    """Rows whose columns equal the given values (a tuple/list/set means any of them)."""
    mask = pd.Series(True, index=df.index)
    for col, value in filters.items():
        if col not in df.columns:
            raise KeyError(f"select: unknown column {col!r}; columns are {sorted(df.columns)}")
        if isinstance(value, (tuple, list, set, frozenset)):
            mask &= df[col].isin(list(value))
        else:
            mask &= df[col] == value
    return df[mask]


def group_stats(df: pd.DataFrame, by: Sequence[str] = GROUP_KEYS, metrics: Sequence[str] = METRICS,
                *, drop_duplicates: bool = True) -> pd.DataFrame:
    """One row per group: ``n``, ``seeds``, ``<metric>_mean`` and ``<metric>_std`` (sample SD, ddof=1).

    Runs flagged ``duplicate`` (the same run stored twice) are left out unless
    ``drop_duplicates=False``. The SD of a single run is NaN.
    """
    if drop_duplicates and "duplicate" in df.columns:
        df = df[~df["duplicate"].astype(bool)]
    by, metrics = list(by), [m for m in metrics if m in df.columns]
    columns = by + ["n", "seeds"] + [f"{m}_{s}" for m in metrics for s in ("mean", "std")]
    if df.empty:
        return pd.DataFrame(columns=columns)
    grouped = df.groupby(by, dropna=False, sort=True)
    table = grouped[metrics].agg(["mean", "std"])
    table.columns = [f"{m}_{s}" for m, s in table.columns]
    table.insert(0, "seeds", grouped["seed"].agg(lambda s: " ".join(str(int(v)) for v in sorted(s))))
    table.insert(0, "n", grouped.size())
    return table.reset_index()[columns]


# Paired differences closer than this are one difference: accuracies are fractions k/N with N far
# below 1e9, so only float rounding (0.858 - 0.846 vs 0.846 - 0.834) separates them, and scipy's
# moments on such "nearly identical" data lose all precision.
SAME_DIFFERENCE = 1e-9


def paired_stats(method_vals: Sequence[float], baseline_vals: Sequence[float], *, scale: float = 1.0,
                 n_resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED,
                 confidence: float = 0.95) -> dict[str, float]:
    """Seed-paired comparison: differences method − baseline, percentile-bootstrap CI, paired t-test.

    The CI resamples the paired differences (``scipy.stats.bootstrap``, percentile
    method, ``numpy.random.default_rng(seed)``, 2.5/97.5 for 95 %); ``p`` is the
    two-sided ``scipy.stats.ttest_rel`` on the raw values. ``scale`` (100 for
    percent) multiplies every reported value except ``p``.
    """
    a, b = np.asarray(method_vals, dtype=float), np.asarray(baseline_vals, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired_stats needs two equal-length seed-aligned sequences, got {a.shape} vs {b.shape}")
    diffs = a - b
    n = diffs.size
    lo = hi = p = math.nan
    if n >= 2:
        if np.ptp(diffs) <= SAME_DIFFERENCE:  # every resample has the same mean; the t statistic is ±inf or 0/0
            lo = hi = float(diffs.mean())
            p = 0.0 if abs(lo) > SAME_DIFFERENCE else math.nan  # what ttest_rel gives for exactly equal differences
        else:
            ci = stats.bootstrap((diffs,), np.mean, n_resamples=n_resamples, method="percentile",
                                 confidence_level=confidence, vectorized=True,
                                 rng=np.random.default_rng(seed)).confidence_interval
            lo, hi = float(ci.low), float(ci.high)
            p = float(stats.ttest_rel(a, b).pvalue)
    sd = (lambda x: float(np.std(x, ddof=1)) * scale if x.size > 1 else math.nan)
    return {
        "n": n,
        "method_mean": float(a.mean()) * scale if n else math.nan, "method_std": sd(a),
        "baseline_mean": float(b.mean()) * scale if n else math.nan, "baseline_std": sd(b),
        "diff_mean": float(diffs.mean()) * scale if n else math.nan,
        "ci_low": lo * scale, "ci_high": hi * scale, "p_value": p,
    }


def paired_comparison(df: pd.DataFrame, method: Mapping[str, Any], baseline: Mapping[str, Any], *,
                      metric: str = "best_val_accuracy", scale: float = 100.0) -> dict[str, Any]:
    """``paired_stats`` of two selections of ``df`` (``select`` filters), paired by seed.

    Only seeds present in both selections are used (listed under ``seeds``); a
    seed that appears twice in one selection is an error, since pairing would be
    ambiguous.
    """
    sides = {}
    for name, filters in (("method", method), ("baseline", baseline)):
        rows = select(df[~df["duplicate"].astype(bool)] if "duplicate" in df.columns else df, **filters)
        dup = rows["seed"][rows["seed"].duplicated()].tolist()
        if dup:
            raise ValueError(f"paired_comparison: {name} selection {dict(filters)} has several runs for seeds {dup}")
        sides[name] = rows.set_index("seed")[metric]
    seeds = sorted(set(sides["method"].index) & set(sides["baseline"].index))
    result = paired_stats(sides["method"].loc[seeds].to_numpy(), sides["baseline"].loc[seeds].to_numpy(),
                          scale=scale)
    return {**result, "seeds": " ".join(str(int(s)) for s in seeds)}
