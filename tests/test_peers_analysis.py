"""X3 / X4 (AEES beside Schedule-Free and Prodigy) on a small hand-made archive, and missing-runs without peers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from lib.analysis.render import open_archive, render

# Clean CIFAR-100, 4 epochs: per seed the validation curve (best = max, final = last, peak = first argmax).
AEES = {0: [0.30, 0.50, 0.45, 0.48], 1: [0.30, 0.40, 0.52, 0.50], 2: [0.54, 0.40, 0.40, 0.40]}
SF = {0: [0.10, 0.20, 0.53, 0.50], 1: [0.10, 0.52, 0.50, 0.52], 2: [0.10, 0.20, 0.30, 0.58]}
PRODIGY = {0: [0.10, 0.45, 0.40, 0.40]}


def record(seed: int, val: list[float], *, opt: str, mode: str) -> dict:
    cfg = {"task_name": "cifar100", "optimizer": opt, "control_mode": mode, "lr_scheduler": "none",
           "lr_candidates": [0.5, 1.0, 2.0] if mode == "adaptive" else [1.0], "noise_candidates": [0.0],
           "label_noise_type": "none", "label_noise_rate": 0.0, "context_mode": "none", "epochs": len(val),
           "reward_instability_lambda": 0.0, "episode_length": 10, "seed": seed, "profile": "mini",
           "data_standin": True, "structured_control_mode": "independent"}
    return {"method_name": "AdaptiveScheduler" if mode == "adaptive" else "Baseline", "task_name": "cifar100",
            "seed": seed, "config": cfg, "best_val_accuracy": max(val), "final_val_accuracy": val[-1],
            "val_accuracies": val, "total_epochs": len(val), "total_steps": 40, "episode_logs": None,
            "controller_logs": {"lr_controller_logs": {"arm_values": [0.5, 1.0, 2.0]}} if mode == "adaptive" else None}


def write(root: Path, name: str, runs: dict, **kw) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for seed, val in runs.items():
        (root / f"{name}_seed{seed}.json").write_text(json.dumps(record(seed, val, **kw)))


def test_peers_table_by_hand(tmp_path: Path) -> None:
    arch = tmp_path / "arch"
    write(arch, "aees", AEES, opt="AdamW", mode="adaptive")
    write(arch, "sf", SF, opt="ScheduleFreeAdamW", mode="baseline")
    write(arch, "prodigy", PRODIGY, opt="Prodigy", mode="adaptive")
    ctx = open_archive(arch, tmp_path / "figs")
    row = render(ctx, "X3")
    assert row["status"] == "partial" and row["n_runs"] == 7  # the other blocks' rows are missing
    csv = pd.read_csv(tmp_path / "figs/peers/peers_table.csv", dtype=str, keep_default_na=False)
    assert csv["Method"].tolist() == ["AEES", "Schedule-Free", "Prodigy + AEES"]
    sf = csv.set_index("Method").loc["Schedule-Free"]
    # best 53/52/58 -> 54.33 (SD sqrt(((-1.33)^2 + (-2.33)^2 + 3.67^2) / 2) = 3.21), final 50/52/58 -> 53.33,
    # drop 3/0/0 -> 1.00 (SD 1.73), peak epochs 3/2/4 -> 3.0 (SD 1.0)
    assert sf["Best (\\%)"] == "54.33 $\\pm$ 3.21" and sf["Final (\\%)"] == "53.33 $\\pm$ 4.16"
    assert sf["Drop (pp)"] == "1.00 $\\pm$ 1.73" and sf["Peak epoch"] == "3.0 $\\pm$ 1.0"
    aees = csv.set_index("Method").loc["AEES"]  # best 50/52/54, final 48/50/40, drop 2/2/14, peaks 2/3/1
    assert aees["Best (\\%)"] == "52.00 $\\pm$ 2.00" and aees["Drop (pp)"] == "6.00 $\\pm$ 6.93"
    assert aees["Peak epoch"] == "2.0 $\\pm$ 1.0" and aees["$p$"] == "--"
    # paired vs AEES: differences +3, 0, +4 pp, mean 2.33; t = 2.33 / (2.08 / sqrt 3) = 1.941 with 2 df,
    # p = 1 - t / sqrt(2 + t^2) (Student t, 2 df, two-sided) = 0.192
    t = (7 / 3) / (math.sqrt(13 / 3) / math.sqrt(3))
    assert sf["$p$"] == f"{1 - t / math.sqrt(2 + t * t):.3f}" == "0.192"
    delta, ci = sf["$\\Delta$ Best vs AEES (pp)"].split(" [")
    low, high = (float(v) for v in ci.rstrip("]").split(", "))
    assert delta == "2.33" and 0.0 <= low <= 2.33 <= high <= 4.0
    # one seed: the difference alone (Prodigy + AEES seed 0: 45 - 50 = -5), no CI, no p
    prodigy = csv.set_index("Method").loc["Prodigy + AEES"]
    assert (prodigy["$\\Delta$ Best vs AEES (pp)"], prodigy["$p$"], prodigy["n"]) == ("-5.00", "--", "1")
    assert (csv["provenance"] == "offline stand-in — not thesis numbers").all()
    fig = render(ctx, "X4")
    assert fig["status"] == "partial" and (tmp_path / "figs/peers/peers_best_final.png").is_file()


def test_no_peer_runs_is_missing_runs(tmp_path: Path) -> None:
    arch = tmp_path / "arch"
    write(arch, "aees", AEES, opt="AdamW", mode="adaptive")
    ctx = open_archive(arch, tmp_path / "figs")
    for art in ("X3", "X4"):
        row = render(ctx, art)
        assert (row["status"], row["path"], row["n_runs"]) == ("missing-runs", "", 0)
        assert "Schedule-Free / Prodigy runs" in row["note"]
    assert not (tmp_path / "figs/peers").exists()


@pytest.mark.parametrize(("opt", "mode", "label"), [("ScheduleFreeAdamW", "baseline", "Schedule-Free"),
                                                    ("Prodigy", "adaptive", "Prodigy + AEES")])
def test_peer_labels_never_match_thesis_rows(opt: str, mode: str, label: str) -> None:
    from lib.analysis.identify import identify

    for setting in ({}, {"label_noise_type": "symmetric", "label_noise_rate": 0.4}):
        rec = record(0, [0.1, 0.2], opt=opt, mode=mode)
        rec["config"].update(setting)
        assert identify(rec)["method"] == label and identify(rec)["optimizer"] == opt
