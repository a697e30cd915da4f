"""Aggregation on a fixed small table against hand-computed values (protocol 12)."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lib.analysis import group_stats, load_archive, paired_comparison, paired_stats
from lib.analysis.aggregate import run_metrics
from lib.analysis.summaries import main as summaries_main
from runresult_factory import legacy_record, run_result

# seed -> validation curve; peak epochs 2, 2 (first of a tie), 1.
BASELINE = {0: [0.60, 0.70, 0.68], 1: [0.65, 0.72, 0.72], 2: [0.77, 0.74, 0.75]}
AEES = {0: [0.66, 0.74, 0.70], 1: [0.70, 0.75, 0.73], 2: [0.78, 0.80, 0.79]}
TIMES, TFLOPS = [10.0, 8.0, 8.5], [1.0, 1.5, 1.5]


def record(seed: int, val: list[float], adaptive: bool, fallback: bool = False) -> dict:
    """A thesis record without wall clock or FLOP totals; ``fallback``: a legacy record that also
    lacks best/final accuracy (the analysis falls back on ``val_accuracies``)."""
    values = {"seed": seed, "method_name": "AdaptiveScheduler" if adaptive else "Baseline",
              "config": {"optimizer": "AdamW", "control_mode": "adaptive" if adaptive else "baseline",
                         "lr_candidates": [0.5, 1.0, 2.0] if adaptive else [1.0], "noise_candidates": [0.0],
                         "lr_scheduler": "none", "epochs": 3, "lr": 1e-3, "reward_instability_lambda": 0.0},
              "val_accuracies": val, "total_epochs": 3, "epoch_wall_clock_seconds": TIMES, "epoch_tflops": TFLOPS}
    if fallback:
        return legacy_record("cifar100", missing=("best_val_accuracy", "final_val_accuracy"), **values)
    return run_result("cifar100", **values)


@pytest.fixture
def df(tmp_path: Path) -> pd.DataFrame:
    for seed, val in BASELINE.items():
        (tmp_path / f"b{seed}").write_text(json.dumps(record(seed, val, False, fallback=seed == 1)))
    for seed, val in AEES.items():
        (tmp_path / f"a{seed}.json").write_text(json.dumps(record(seed, val, True)))
    (tmp_path / "copy_of_a0.json").write_text(json.dumps(record(0, AEES[0], True)))
    return load_archive(tmp_path)


def test_run_metrics_by_hand() -> None:
    m = run_metrics(record(1, BASELINE[1], False, fallback=True))
    assert (m["best_val_accuracy"], m["final_val_accuracy"], m["peak_epoch"]) == (0.72, 0.72, 2.0)
    assert m["drop_val_accuracy"] == 0.0
    assert (m["time_to_best"], m["tflops_to_best"]) == (18.0, 2.5)       # epochs 1..2
    assert (m["total_time"], m["total_tflops"]) == (26.5, 4.0)           # no wall clock/FLOPs: sums
    assert m["sec_per_epoch"] == pytest.approx(8.25)                     # epoch 0 dropped
    m = run_metrics(record(2, BASELINE[2], False))
    assert (m["peak_epoch"], m["time_to_best"], m["drop_val_accuracy"]) == (1.0, 10.0, pytest.approx(0.02))


def test_group_mean_sd_drop_peak(df: pd.DataFrame) -> None:
    groups = group_stats(df).set_index("method")
    base = groups.loc["AdamW"]
    assert (base.n, base.seeds) == (3, "0 1 2")
    assert base.best_val_accuracy_mean == pytest.approx(0.73)
    assert base.best_val_accuracy_std == pytest.approx(math.sqrt(0.0013))  # devs -.03, -.01, .04; ddof=1
    finals = [v[-1] for v in BASELINE.values()]
    assert base.final_val_accuracy_mean == pytest.approx(statistics.mean(finals))
    assert base.final_val_accuracy_std == pytest.approx(statistics.stdev(finals))
    assert base.drop_val_accuracy_mean == pytest.approx(0.04 / 3)
    assert base.drop_val_accuracy_std == pytest.approx(statistics.stdev([0.02, 0.0, 0.02]))
    assert base.peak_epoch_mean == pytest.approx(5 / 3)
    assert base.peak_epoch_std == pytest.approx(math.sqrt(1 / 3))
    assert base.time_to_best_mean == pytest.approx((18 + 18 + 10) / 3)
    aees = groups.loc["AEES"]
    assert aees.n == 3  # the byte-identical copy is a duplicate and left out
    assert group_stats(df, drop_duplicates=False).set_index("method").loc["AEES", "n"] == 4
    single = group_stats(df[df["seed"] == 0], by=["method"]).set_index("method")
    assert math.isnan(single.loc["AdamW", "best_val_accuracy_std"])  # SD of one run is undefined


def test_paired_bootstrap_and_ttest_by_hand() -> None:
    diffs = np.array([0.03, 0.05, 0.04, 0.06, 0.02])
    base = np.array([0.60, 0.58, 0.61, 0.57, 0.59])
    res = paired_stats(base + diffs, base, scale=100.0)
    # The thesis procedure (_paired_stats.py) written out: resample seed indices, mean, percentiles.
    rng = np.random.default_rng(0)
    means = diffs[rng.integers(0, 5, size=(10_000, 5))].mean(axis=1)
    assert res["ci_low"] == pytest.approx(100 * np.percentile(means, 2.5), abs=1e-12)
    assert res["ci_high"] == pytest.approx(100 * np.percentile(means, 97.5), abs=1e-12)
    assert (round(res["ci_low"], 6), round(res["ci_high"], 6)) == (2.8, 5.2)
    # Paired t by hand: t = mean(d) / (sd(d)/sqrt(n)) = 0.04 / (sqrt(2.5e-4)/sqrt(5)) = 4*sqrt(2), df = 4.
    t = 0.04 / (math.sqrt(2.5e-4) / math.sqrt(5))
    assert t == pytest.approx(4 * math.sqrt(2))
    assert res["p_value"] == pytest.approx(2 * stats.t.sf(t, 4), rel=1e-9)
    assert res["p_value"] == pytest.approx(0.0048126783, rel=1e-8)
    assert (res["n"], res["diff_mean"]) == (5, pytest.approx(4.0))
    assert res["method_std"] == pytest.approx(100 * statistics.stdev(base + diffs))
    with pytest.raises(ValueError, match="equal-length"):
        paired_stats([0.1, 0.2], [0.1])


def test_differences_equal_but_for_rounding_are_one_difference() -> None:
    """0.858 - 0.846 and 0.846 - 0.834 differ in the last bits only: no bootstrap, no warning, p as for equal ones."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scipy's precision-loss warning would fail here
        res = paired_stats([0.858, 0.846, 0.710], [0.846, 0.834, 0.698], scale=100.0)
        same = paired_stats([0.5, 0.6], [0.5, 0.6])
    assert (res["ci_low"], res["ci_high"], res["p_value"]) == (pytest.approx(1.2), pytest.approx(1.2), 0.0)
    assert math.isnan(same["p_value"]) and same["ci_low"] == same["ci_high"] == 0.0


def test_paired_comparison_pairs_by_seed(df: pd.DataFrame) -> None:
    res = paired_comparison(df, {"method": "AEES"}, {"method": "AdamW"})
    diffs = [max(AEES[s]) - max(BASELINE[s]) for s in (0, 1, 2)]
    assert res["seeds"] == "0 1 2"
    assert res["diff_mean"] == pytest.approx(100 * statistics.mean(diffs))
    assert res["p_value"] == pytest.approx(stats.ttest_rel([max(AEES[s]) for s in (0, 1, 2)],
                                                           [max(BASELINE[s]) for s in (0, 1, 2)]).pvalue)
    partial = paired_comparison(df[df["relpath"] != "b2"], {"method": "AEES"}, {"method": "AdamW"})
    assert (partial["n"], partial["seeds"]) == (2, "0 1")
    twice = df.assign(duplicate=False)  # the copy of a0 now counts as a second seed-0 run
    with pytest.raises(ValueError, match="seeds \\[0\\]"):
        paired_comparison(twice, {"method": "AEES"}, {"method": "AdamW"})


def test_summaries_cli_writes_run_and_group_csvs(df: pd.DataFrame, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture) -> None:
    results = Path(df.attrs["roots"][0])
    (results / "broken").write_text('{"task_name": "cifar100", "seed": ')
    out = tmp_path / "summaries"
    assert summaries_main([str(results), "--out", str(out)]) == 0
    assert "7 runs in 2 groups" in capsys.readouterr().out  # 6 runs + the duplicate copy
    runs = pd.read_csv(out / "run_summary.csv")
    assert "val_accuracies" not in runs.columns and runs["duplicate"].sum() == 1
    assert {"time_to_best", "tflops_to_best", "total_time", "total_tflops", "peak_epoch"} <= set(runs.columns)
    groups = pd.read_csv(out / "group_summary.csv").set_index("method")
    assert groups.loc["AEES", "n"] == 3
    assert groups.loc["AdamW", "best_val_accuracy_mean"] == pytest.approx(0.73)
    skipped = pd.read_csv(out / "skipped.csv")
    assert list(skipped["path"]) == [str(results / "broken")] and list(skipped["status"]) == ["skipped"]
    assert (out / "inputs.sha256").read_text().endswith("  7 runs\n")
    with pytest.raises(SystemExit):
        summaries_main([str(tmp_path / "missing")])
