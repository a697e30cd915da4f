"""The thesis machinery and the peak re-runs in the analysis, on small synthetic archives:
T13/T14 set the thesis machinery's timing beside this project's; T11/T12 set the thesis' re-run-to-peak
protocol beside this project's best-epoch weights, and still build without re-runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lib.analysis.render import build, open_archive, reproduction
from runresult_factory import run_result

AEES_LR = {"control_mode": "adaptive", "lr_candidates": [0.5, 1.0, 2.0], "noise_candidates": [0.0]}


def _write(root: Path, name: str, record: dict) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{name}.json").write_text(json.dumps(record))


def _timing(machinery: str | None, sec: float, mode: dict) -> dict:
    cfg = {"task_name": "cifar100", "optimizer": "AdamW", "lr_scheduler": "none", "epochs": 3, "seed": 0,
           "profile": "mini", "data_standin": True, "episode_length": 10, "run_tag": "run1",
           "control_mode": "baseline", **mode, **({"machinery": machinery} if machinery else {})}
    managed = mode.get("control_mode") == "adaptive"
    return run_result("cifar100", keys="all", method_name="AdaptiveScheduler" if managed else "Baseline", seed=0,
                      config=cfg, val_accuracies=[0.1, 0.2, 0.3], epoch_wall_clock_seconds=[9.0, sec, sec],
                      total_steps=60, run_tag="run1",
                      controller_logs={"lr_controller_logs": {"arm_values": [0.5, 1, 2]}} if managed else None)


@pytest.fixture
def timing_archive(tmp_path: Path) -> Path:
    root = tmp_path / "archive"
    _write(root, "thesis_base", _timing("thesis", 2.0, {}))
    _write(root, "thesis_lr", _timing("thesis", 2.5, AEES_LR))
    _write(root, "project_base", _timing(None, 1.0, {}))  # runs from before the field: project machinery
    _write(root, "project_lr", _timing("project", 1.1, AEES_LR))
    return root


def test_t13_t14_show_both_machineries_side_by_side(timing_archive: Path, tmp_path: Path) -> None:
    ctx = open_archive(timing_archive, tmp_path / "out")
    t13 = build(ctx, "T13")
    row = t13.cells.set_index("Task / Optimizer").loc["CIFAR-100 / AdamW"]
    assert (row["Baseline (s/ep)"], row["AEES-LR"]) == ("2.00", "+25.0")  # thesis machinery, as published
    assert (row["Baseline (s/ep) (project)"], row["AEES-LR (project)"]) == ("1.00", "+10.0")
    assert any("Thesis machinery: stock pulseopt" in n for n in t13.notes)
    nums = t13.numbers.set_index(["block", "row", "metric"])["mean"]
    assert nums[("CIFAR-100 AdamW", "AEES-LR", "overhead")] == pytest.approx(25.0)
    assert nums[("CIFAR-100 AdamW (project machinery)", "AEES-LR", "overhead")] == pytest.approx(10.0)
    cmp = reproduction(ctx, "T13").set_index(["block", "row", "metric"])  # thesis machinery vs the published 15.5
    assert cmp.loc[("CIFAR-100 AdamW", "AEES-LR", "overhead"), "thesis"] == pytest.approx(15.5)
    assert cmp.loc[("CIFAR-100 AdamW", "AEES-LR", "overhead"), "archive"] == pytest.approx(25.0)
    t14 = build(ctx, "T14").cells.set_index("Configuration")
    assert t14.loc["AEES-LR", "Overhead (\\%)"] == "+25.0" and t14.loc["AEES-LR", "Overhead (\\%) (project)"] == "+10.0"
    assert t14.loc["Baseline", "Time/epoch (s)"] == "2.00" and t14.loc["Baseline", "Time/epoch (s) (project)"] == "1.00"


def test_t13_with_one_machinery_only_shows_the_other_as_missing(timing_archive: Path, tmp_path: Path) -> None:
    for name in ("thesis_base", "thesis_lr"):
        (timing_archive / f"{name}.json").unlink()
    t13 = build(open_archive(timing_archive, tmp_path / "out"), "T13")
    row = t13.cells.iloc[0]
    assert row["AEES-LR"] == "--" and row["AEES-LR (project)"] == "+10.0" and t13.status == "partial"


def _noisy(method: str, epochs: int, peak: int, *, diag: dict, peak_diag: dict | None = None,
           sched: str = "none", run_tag: str | None = None) -> dict:
    val = [0.1] * epochs
    val[peak - 1] = 0.5
    cfg = {"task_name": "cifar100", "optimizer": "AdamW", "lr_scheduler": sched, "epochs": epochs, "seed": 0,
           "profile": "mini", "data_standin": True, "control_mode": "baseline", "label_noise_type": "asymmetric",
           "label_noise_rate": 0.2, "run_tag": run_tag,
           "diagnostics": {"final_subset_accuracies": diag}}
    values = dict(method_name="Baseline", seed=0, config=cfg, val_accuracies=val, run_tag=run_tag)
    if peak_diag is not None:
        values["peak_checkpoint_diagnostics"] = {"epoch": peak, "val_accuracy": 0.5, **peak_diag}
    return run_result("cifar100", keys="all", noisy=True, **values)


def _diag(noisy: float, clean: float) -> dict:
    return {"train_corrupted_accuracy_vs_noisy_labels": noisy, "train_corrupted_accuracy_vs_clean_labels": clean,
            "train_clean_accuracy": 0.9, "train_all_accuracy": 0.8}


@pytest.fixture
def ckpt_archive(tmp_path: Path) -> Path:
    root = tmp_path / "ckpt"
    _write(root / "cifar-noisy", "cosine", _noisy("Cosine", 10, 7, sched="cosine", diag=_diag(0.9, 0.05),
                                                  peak_diag=_diag(0.4, 0.5)))
    _write(root / "cifar-noisy", "baseline", _noisy("Baseline", 10, 6, diag=_diag(0.95, 0.02),
                                                    peak_diag=_diag(0.3, 0.6)))
    _write(root / "cifar-peak-rerun", "cosine_peak", _noisy("Cosine", 7, 7, sched="cosine", diag=_diag(0.2, 0.7),
                                                            run_tag="peak-rerun"))
    return root


def test_t11_t12_show_both_peak_checkpoint_protocols(ckpt_archive: Path, tmp_path: Path) -> None:
    ctx = open_archive(ckpt_archive, tmp_path / "out")
    t11 = build(ctx, "T11")
    cells = t11.cells.set_index("Method")
    cosine, base = cells.loc["Cosine"], cells.loc["Baseline"]
    assert cosine["Corr. noisy $\\downarrow$ (best ep.)"] == "40.0" and cosine["Corr. noisy $\\downarrow$ (re-run)"] == "20.0"
    assert cosine["Epoch (best ep.)"] == "7.0" and cosine["Epoch (re-run)"] == "7.0"
    assert cosine["Corr. clean $\\uparrow$ (re-run)"] == "70.0"
    # no schedule: the re-run to the peak is the same training, so its columns repeat the best-epoch numbers
    assert base["Corr. noisy $\\downarrow$ (re-run)"] == base["Corr. noisy $\\downarrow$ (best ep.)"] == "30.0"
    assert any("re-trains the run to its peak epoch" in n for n in t11.notes)
    nums = t11.numbers.set_index(["block", "row", "metric"])["mean"]
    assert nums[("asym20 AdamW", "Cosine", "corr_noisy")] == pytest.approx(20.0)  # the thesis' name: re-run
    assert nums[("asym20 AdamW", "Cosine", "best-epoch weights corr_noisy")] == pytest.approx(40.0)
    # the re-run never enters the accuracy tables (T4: asym20), only the full runs
    t4 = build(ctx, "T4")
    assert not any("cifar-peak-rerun" in p for p in t4.inputs)
    t12 = build(ctx, "T12").cells.set_index("Variant")
    assert t12.loc["Cosine", "Epoch (re-run)"] == "7" and t12.loc["Cosine", "Corr. noisy $\\downarrow$ (re-run)"] == "20.0"


def test_t11_builds_without_reruns_and_shows_them_missing(ckpt_archive: Path, tmp_path: Path) -> None:
    (ckpt_archive / "cifar-peak-rerun" / "cosine_peak.json").unlink()
    built = build(open_archive(ckpt_archive, tmp_path / "out"), "T11")
    cosine = built.cells.set_index("Method").loc["Cosine"]
    assert cosine["Corr. noisy $\\downarrow$ (re-run)"] == "--" and cosine["Corr. noisy $\\downarrow$ (best ep.)"] == "40.0"
    assert built.status == "partial" and any("Cosine (re-run to peak)" in m for m in built.missing)
    assert build(open_archive(ckpt_archive, tmp_path / "out2"), "T12").status == "partial"


def test_f13_shows_the_rerun_protocol_where_reruns_exist_and_says_so(ckpt_archive: Path, tmp_path: Path) -> None:
    """Cosine has a re-run (corrupted fit 20 %, not the best epoch's 40 %); the Baseline has none: its best-epoch
    weights, labelled as such."""
    built = build(open_archive(ckpt_archive, tmp_path / "out"), "F13")
    ax = built.figure.axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["Flat (n=1, best epoch)", "Cosine (n=1, re-run)"]  # figure names (labels.figure_name)
    assert [round(float(c.lines[0].get_xdata()[0]), 6) for c in ax.containers] == [30.0, 20.0]
    note = next(n for n in built.notes if n.startswith("protocol"))
    assert "re-run = re-run to peak: asym20 Cosine" in note and "best epoch = best-epoch weights: asym20 Baseline" \
        in note
