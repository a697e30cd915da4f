"""load_archive on hand-made thesis-style RunResult JSON: identification by content, old keys, bad files."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import pytest

from lib.analysis import inputs_sha256, load_archive, load_run
from lib.analysis.identify import RecordError
from runresult_factory import legacy_record, run_result

VAL = [0.50, 0.62, 0.60, 0.61]


def ctrl_logs(lr, noise, context="none"):
    def axis(name, arms):
        created = len(arms) > 1
        return {"axis_name": name, "arm_values": list(arms), "controller_created": created,
                "controller_type": "DiscountedUCBController" if created else "FixedAxis"}
    return {"lr_controller_logs": axis("lr", lr), "noise_controller_logs": axis("noise", noise),
            "structured_control_mode": "independent", "context_mode": context}


def cifar(seed=0, *, opt="AdamW", mode="baseline", sched="none", lr=(1.0,), noise=(0.0,), ntype="none",
          rate=0.0, context="none", lam=0.0, diagnostics=False):
    method = {"baseline": "Baseline", "adaptive": "AdaptiveScheduler", "random": "RandomScheduler"}[mode]
    cfg = {"task_name": "cifar100", "optimizer": opt, "control_mode": mode, "lr_scheduler": sched,
           "lr": 1e-3 if opt == "AdamW" else 0.1, "lr_candidates": list(lr), "noise_candidates": list(noise),
           "label_noise_type": ntype, "label_noise_rate": rate, "context_mode": context, "episode_length": 200,
           "reward_instability_lambda": lam, "structured_control_mode": "independent", "seed": seed, "epochs": 4,
           "run_tag": None}
    if diagnostics:
        cfg["diagnostics"] = {"final_subset_accuracies": {
            "train_corrupted_accuracy_vs_noisy_labels": 0.2, "train_corrupted_accuracy_vs_clean_labels": 0.5,
            "train_clean_accuracy": 0.8, "train_all_accuracy": 0.7}}
    managed = mode != "baseline"
    return run_result("cifar100", method_name=method, seed=seed, config=cfg, val_accuracies=VAL,
                      total_steps=1564, wall_clock_seconds=40.0,
                      epoch_wall_clock_seconds=[12.0, 9.0, 9.5, 9.5], epoch_tflops=[1.0, 1.0, 1.0, 1.0],
                      estimated_flops=4e12, controller_logs=ctrl_logs(lr, noise, context) if managed else None,
                      episode_logs={"selected_lr_values": [lr[0]]} if managed else None, run_tag=None,
                      runtime_metrics={"steps_per_second": 39.1})


def nlp(task="sst2", seed=0, *, method="AdamW", sched="none", lr=(1.0,), noise=(0.0,), rate=0.0, context="none"):
    """NLP config: no optimizer/control_mode keys, old runner's fixed_mode_name/mode_names/noise_std present."""
    cfg = {"task_name": task, "method": method, "lr_scheduler": sched, "lr": 5e-5, "base_lr": 5e-5,
           "lr_candidates": list(lr), "noise_candidates": list(noise), "label_noise_rate": rate,
           "context_mode": context, "episode_length": 200 if method != "AdamW" else 100, "seed": seed,
           "reward_instability_lambda": 0.0, "fixed_mode_name": None, "mode_names": None, "noise_std": 0.01}
    managed = method != "AdamW"
    return run_result(task, method_name=method, seed=seed, config=cfg, val_accuracies=VAL,
                      controller_logs=ctrl_logs(lr, noise, context) if managed else None, episode_logs=None)


CASES = {  # relative path -> (record, expected task, setting, optimizer, method, aees_axis, grid)
    "cifar_clean/cifar_clean_adamw_none_seed0.json": (cifar(), "clean", "AdamW", "AdamW", "", ""),
    "cifar_clean/a_cos.json": (cifar(sched="cosine"), "clean", "AdamW", "AdamW + Cosine", "", ""),
    "cifar_clean/a_lin.json": (cifar(sched="linear"), "clean", "AdamW", "AdamW + Linear", "", ""),
    "cifar_clean/aees.json": (cifar(mode="adaptive", lr=(0.5, 1, 2)), "clean", "AdamW", "AEES", "AEES-LR", "lr05102"),
    "cifar_clean/aees_cos.json": (cifar(mode="adaptive", lr=(0.5, 1, 2), sched="cosine"), "clean", "AdamW",
                                  "AEES + Cosine", "AEES-LR", "lr05102"),
    "cifar_clean/aees_lin.json": (cifar(mode="adaptive", lr=(0.5, 1, 2), sched="linear"), "clean", "AdamW",
                                  "AEES + Linear", "AEES-LR", "lr05102"),
    "cifar_clean/fixed05.json": (cifar(mode="adaptive", lr=(0.5,)), "clean", "AdamW", "Fixed ×0.5", "", ""),
    "cifar_clean/fixed2.json": (cifar(mode="adaptive", lr=(2.0,)), "clean", "AdamW", "Fixed ×2.0", "", ""),
    # Extensionless, nested like the thesis cifar_noisy archive; names deliberately misleading.
    "cifar_noisy/cifar100_asym20_seed0/adamw_cosine": (cifar(opt="SGD", ntype="asymmetric", rate=0.2),
                                                       "asym20", "SGD", "Baseline", "", ""),
    "cifar_noisy/cifar100_sym40_seed0/x": (cifar(sched="cosine", ntype="symmetric", rate=0.4), "sym40", "AdamW",
                                           "Cosine", "", ""),
    "cifar_noisy/cifar100_sym20_seed0/y": (cifar(opt="SGD", mode="adaptive", lr=(0.5, 1, 2), ntype="symmetric",
                                                 rate=0.2), "sym20", "SGD", "AEES", "AEES-LR", "lr05102"),
    "cifar_noisy/cifar100_sym20_seed0/z": (cifar(mode="adaptive", lr=(0.5, 1, 2), sched="cosine", ntype="symmetric",
                                                 rate=0.2), "sym20", "AdamW", "Cosine + AEES", "AEES-LR", "lr05102"),
    "cifar_noisy/cifar100_sym20_seed0/f1": (cifar(mode="adaptive", ntype="symmetric", rate=0.2), "sym20", "AdamW",
                                            "Fixed ×1.0", "", ""),
    "sst2/adamw.json": (nlp(), "clean", "AdamW", "AdamW", "", ""),
    "sst2/adamw_wl.json": (nlp(sched="warmup_linear"), "clean", "AdamW", "AdamW + WL", "", ""),
    "sst2/dual.json": (nlp(method="AdaptiveScheduler", lr=(0.7, 1, 1.3), noise=(0, 0.0025, 0.005), context="trend"),
                       "clean", "AdamW", "AEES", "AEES-Dual", "SST2-grid"),
    "sst2/seed_0/lr_wl.json": (nlp(method="AdaptiveScheduler", lr=(0.7, 1, 1.3), sched="warmup_linear"), "clean",
                               "AdamW", "AEES-LR + WL", "AEES-LR", "SST2-grid"),
    "sst2/seed_0/noise_wl.json": (nlp(method="AdaptiveScheduler", noise=(0, 0.0025, 0.005), sched="warmup_linear"),
                                  "clean", "AdamW", "AEES-Noise + WL", "AEES-Noise", "SST2-grid"),
    "noisy_agnews/seed_0/dual_wl.json": (nlp("agnews", method="AdaptiveScheduler", lr=(0.5, 1, 2),
                                              noise=(0, 0.005, 0.01), sched="warmup_linear", rate=0.2),
                                         "noise20", "AdamW", "AEES + WL", "AEES-Dual", "coarse/high-noise"),
    "nlp_noise_ablation/agn20_ada_rnd_seed0.json": (nlp("agnews", method="RandomScheduler", noise=(0, 0.005, 0.01),
                                                         sched="warmup_linear", rate=0.2),
                                                    "noise20", "AdamW", "Random σ + WL", "", "coarse/high-noise"),
    "nlp_noise_ablation/agn20_fixed005_seed0.json": (nlp("agnews", method="RandomScheduler", noise=(0.005,),
                                                          sched="warmup_linear", rate=0.2),
                                                     "noise20", "AdamW", "Fixed σ=0.005 + WL", "", ""),
    "nlp_noise_ablation/agn20_fixed01_seed0.json": (nlp("agnews", method="RandomScheduler", noise=(0.01,),
                                                         sched="warmup_linear", rate=0.2),
                                                    "noise20", "AdamW", "Fixed σ=0.01 + WL", "", ""),
}


def old_key_records() -> dict[str, dict]:
    """Older runner variants (protocol 7.3/7.4): legacy records, partial on purpose."""
    fixed_mode = nlp("agnews", method="FixedMode", sched="warmup_linear", rate=0.2)
    fixed_mode["config"].update(fixed_mode_name="lr1_n0p005", mode_names=["lr1_n0", "lr1_n0p005"], noise_std=0.005)
    # fallbacks: max / last of val_accuracies
    fixed_mode = legacy_record("agnews", missing=("best_val_accuracy", "final_val_accuracy"), **fixed_mode)
    old_ctx = nlp("sst2", method="AdaptiveScheduler", lr=(0.7, 1, 1.3), noise=(0, 0.0025, 0.005))
    del old_ctx["config"]["lr_candidates"], old_ctx["config"]["noise_candidates"], old_ctx["config"]["context_mode"]
    del old_ctx["controller_logs"]["context_mode"]
    old_ctx["episode_logs"] = {"context_bucket_ids": [0, 1], "context_bucket_names": ["stable", "improving"],
                               "context_trends": [0.0, -0.01], "selected_lr_values": [1.0, 0.7]}
    return {"old/agnews_fixed_mode": fixed_mode, "old/sst2_pulseopt01.json": old_ctx}


def write(root: Path, rel: str, obj) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(obj if isinstance(obj, str) else json.dumps(obj, indent=2, sort_keys=True))
    return path


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    for rel, (record, *_rest) in CASES.items():
        write(tmp_path, rel, record)
    for rel, record in old_key_records().items():
        write(tmp_path, rel, record)
    good = json.dumps(cifar(seed=3), indent=2)
    write(tmp_path, "cifar_noisy/cifar100_sym40_seed3/truncated", good[: len(good) // 2])
    write(tmp_path, "manifest.json", {"run_count": 2, "runs": []})
    write(tmp_path, "logs/run.log", "{not json")
    write(tmp_path, "mini/cifar_clean/run.json.ckpt.corrupt-20261129T120000Z", "garbage")  # moved aside
    write(tmp_path, "notebooks/train.ipynb", {"cells": [], "metadata": {}})
    write(tmp_path, "instability_penalty_ablation/seed_0/copy.json", CASES["cifar_clean/aees.json"][0])
    write(tmp_path, "instability_penalty_ablation/seed_0/clean_penalty_0p1_seed0.json",
          cifar(mode="adaptive", lr=(0.5, 1, 2), lam=0.1))
    project = cifar(seed=1)
    project["config"].update(profile="mini", data_standin=True, extra_block={"beyond": "thesis"})
    write(tmp_path, "mini/cifar_clean/run.json", project)
    return tmp_path


def test_each_variant_identified_by_content(archive: Path) -> None:
    df = load_archive(archive).set_index("relpath")
    for rel, (_, setting, optimizer, method, axis, grid) in CASES.items():
        row = df.loc[rel]
        assert (row.setting, row.optimizer, row.method, row.aees_axis, row.grid) == \
            (setting, optimizer, method, axis, grid), rel
    assert df.loc["sst2/adamw_wl.json", "summary_label"] == "AdamW + warmup-linear"
    assert df.loc["sst2/dual.json", "summary_label"] == "AEES-Dual"
    assert df.loc["sst2/dual.json", "context"] == "trend"
    assert df.loc["noisy_agnews/seed_0/dual_wl.json", "summary_label"] == "AEES-Dual + warmup-linear"
    assert df.loc["noisy_agnews/seed_0/dual_wl.json", "label_noise_type"] == "symmetric"  # rate only, AG News
    assert df.loc["cifar_clean/fixed05.json", "summary_label"] == "Fixed 0.5"
    assert df.loc["cifar_clean/fixed05.json", "fixed_lr"] == 0.5


def test_required_columns_and_metrics(archive: Path) -> None:
    df = load_archive(archive)
    required = ["task", "method", "optimizer", "lr_scheduler", "label_noise_type", "label_noise_rate", "seed",
                "best_val_accuracy", "final_val_accuracy", "path", "profile", "standin"]
    assert set(required) <= set(df.columns)
    row = df.set_index("relpath").loc["cifar_clean/aees.json"]
    assert (row.best_val_accuracy, row.final_val_accuracy, row.peak_epoch) == (0.62, 0.61, 2.0)
    assert row.drop_val_accuracy == pytest.approx(0.01)
    assert (row.time_to_best, row.tflops_to_best, row.sec_per_epoch) == (21.0, 2.0, pytest.approx(28 / 3))
    assert (row.total_time, row.total_tflops, row.steps_per_second) == (40.0, 4.0, 39.1)


def test_old_key_variants(archive: Path) -> None:
    df = load_archive(archive).set_index("relpath")
    fixed = df.loc["old/agnews_fixed_mode"]
    assert (fixed.kind, fixed.method, fixed.setting) == ("fixed", "Fixed σ=0.005 + WL", "noise20")
    assert (fixed.best_val_accuracy, fixed.final_val_accuracy) == (0.62, 0.61)
    old = df.loc["old/sst2_pulseopt01.json"]
    assert (old.method, old.aees_axis, old.lr_grid, old.noise_grid) == ("AEES", "AEES-Dual", "0.7 1 1.3",
                                                                         "0 0.0025 0.005")
    assert (old.context, bool(old.old_context_keys)) == ("trend", True)
    # noise_std=0.01 on a plain AdamW run (as in the thesis example JSON) must not make it "fixed".
    assert df.loc["sst2/adamw_wl.json", "kind"] == "baseline"


def test_bad_files_reported_and_skipped(archive: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="lib.analysis"):
        df = load_archive(archive)
    truncated = str(archive / "cifar_noisy/cifar100_sym40_seed3/truncated")
    assert [p for p, _ in df.attrs["skipped"]] == [truncated]
    assert "truncated JSON" in df.attrs["skipped"][0][1]
    assert [r.getMessage() for r in caplog.records] == [f"skipped {truncated}: {df.attrs['skipped'][0][1]}"]
    assert [p for p, _ in df.attrs["ignored"]] == [str(archive / "manifest.json")]
    assert not df["path"].str.endswith((".log", ".ipynb", "truncated", "manifest.json")).any()
    assert len(df) == len(CASES) + len(old_key_records()) + 3
    with pytest.raises(RecordError, match="truncated"):
        load_run(truncated)


def test_duplicates_profile_and_standin(archive: Path) -> None:
    df = load_archive(archive).set_index("relpath")
    copy = df.loc["instability_penalty_ablation/seed_0/copy.json"]
    assert bool(copy.duplicate) and copy.duplicate_of == str(archive / "cifar_clean/aees.json")
    assert not df.loc["cifar_clean/aees.json", "duplicate"]
    penalty = df.loc["instability_penalty_ablation/seed_0/clean_penalty_0p1_seed0.json"]
    assert (penalty.method, penalty.lam, bool(penalty.duplicate)) == ("AEES", 0.1, False)  # λ is identity
    project = df.loc["mini/cifar_clean/run.json"]
    assert (project.profile, project.standin) == ("mini", True)
    assert (df.loc["cifar_clean/a_cos.json", "profile"], df.loc["cifar_clean/a_cos.json", "standin"]) == \
        ("thesis-archive", False)


def test_inputs_sha256_and_missing_path(archive: Path, tmp_path: Path) -> None:
    df = load_archive(archive)
    expected = hashlib.sha256(b"".join(Path(p).read_bytes() for p in sorted(df["path"]))).hexdigest()
    assert inputs_sha256(reversed(list(df["path"]))) == expected
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_archive(tmp_path / "nowhere")
    empty = load_archive(write(tmp_path, "empty/readme.txt", "x").parent)
    assert empty.empty and "best_val_accuracy" in empty.columns
