"""runtime_metrics derivation (protocol §9.1-9.4): the six thesis cases plus controller aggregation."""

from __future__ import annotations

import copy
import math

import pytest

from lib.results import build_runtime_metrics, collect_hardware, load_run_result, save_run_result
from lib.results.hardware import HARDWARE_KEYS


def _ucb_log(axis: str, arms: list[float], updates: int, snapshots: int) -> dict:
    """A DiscountedUCB axis log with ``updates`` update counts and ``snapshots`` value snapshots."""
    return {
        "controller_type": "DiscountedUCB",
        "axis_name": axis,
        "arm_values": arms,
        "controller_created": True,
        "controller_updates_history": list(range(1, updates + 1)),
        "value_estimates_history": [{str(a): 0.1 * i for a in arms} for i in range(snapshots)],
    }


def _fixed_log(axis: str, value: float) -> dict:
    return {
        "controller_type": "FixedAxis",
        "axis_name": axis,
        "arm_values": [value],
        "controller_created": False,
        "fixed_arm_value": value,
    }


@pytest.fixture
def payload() -> dict:
    """SST-2 AdaptiveScheduler result of protocol §9.4 (fixed LR axis, UCB noise axis)."""
    return {
        "method_name": "AdaptiveScheduler",
        "task_name": "sst2",
        "seed": 0,
        "config": {
            "batch_size": 16,
            "gradient_accumulation_steps": 2,
            "device": "cpu",
            "num_workers": 0,
            "pin_memory": False,
            "run_tag": "runtime_benchmark",
            "lr_candidates": [1.0],
            "noise_candidates": [0.0, 0.005, 0.01],
            "structured_control_mode": "independent",
            "context_mode": "none",
            "lr_scheduler": "none",
            "episode_length": 20,
        },
        "total_steps": 100,
        "total_epochs": 5,
        "wall_clock_seconds": 20.0,
        "estimated_flops": 4e12,
        "epoch_wall_clock_seconds": [3.0, 4.0, 5.0, 4.0, 4.0],
        "epoch_tflops": [0.8] * 5,
        "episode_logs": {},
        "controller_logs": {
            "structured_control_mode": "independent",
            "context_mode": "none",
            "_logged_episode_count": 5,
            "lr_controller_logs": _fixed_log("lr", 1.0),
            "noise_controller_logs": _ucb_log("noise", [0.0, 0.005, 0.01], updates=5, snapshots=2),
        },
    }


def test_preservation_and_run_tag_lift(payload: dict, tmp_path) -> None:
    original = copy.deepcopy(payload)
    saved = load_run_result(save_run_result(payload, tmp_path / "run.json"))
    assert payload == original  # input untouched
    assert saved["wall_clock_seconds"] == 20.0
    assert saved["runtime_metrics"]["wall_clock_seconds"] == 20.0
    assert saved["run_tag"] == "runtime_benchmark"
    metrics = build_runtime_metrics(payload)
    assert payload == original
    assert metrics["wall_clock_minutes"] == pytest.approx(20.0 / 60)
    assert metrics["wall_clock_hours"] == pytest.approx(20.0 / 3600)


def test_throughput_formulas(payload: dict) -> None:
    m = build_runtime_metrics(payload)
    assert m["seconds_per_step"] == pytest.approx(0.2)
    assert m["steps_per_second"] == pytest.approx(5.0)
    assert m["seconds_per_epoch"] == pytest.approx(4.0)
    assert m["epochs_per_hour"] == pytest.approx(900.0)
    assert (m["batch_size"], m["gradient_accumulation_steps"], m["effective_batch_size"]) == (16, 2, 32)
    assert m["estimated_train_examples_processed"] == 3200
    assert m["estimated_examples_per_second"] == pytest.approx(160.0)
    assert m["estimated_tflops_total"] == pytest.approx(4.0)
    assert m["estimated_tflops_per_second"] == pytest.approx(0.2)
    assert m["estimated_tflops_per_hour"] == pytest.approx(720.0)
    assert m["mean_epoch_tflops"] == pytest.approx(0.8)
    assert m["controller_select_count_by_axis"] is None
    assert m["logged_episode_count"] == 5


def test_missing_optional_fields_are_none_not_errors() -> None:
    result = {
        "wall_clock_seconds": 20.0,
        "total_steps": 0,
        "total_epochs": 0,
        "epoch_wall_clock_seconds": None,
        "epoch_tflops": None,
        "estimated_flops": None,
        "controller_logs": None,
        "config": {"batch_size": 8},
    }
    m = build_runtime_metrics(result)
    for key in (
        "seconds_per_step",
        "steps_per_second",
        "seconds_per_epoch",
        "epochs_per_hour",
        "mean_epoch_wall_clock_seconds",
        "std_epoch_wall_clock_seconds",
        "estimated_tflops_total",
        "estimated_tflops_per_second",
        "mean_epoch_tflops",
        "logged_episode_count",
        "controller_update_count_by_axis",
        "controller_history_length_by_axis",
    ):
        assert m[key] is None, key
    assert m["gradient_accumulation_steps"] == 1 and m["effective_batch_size"] == 8
    assert m["estimated_train_examples_processed"] == 0


def test_cpu_only_hardware(payload: dict, monkeypatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    hw = build_runtime_metrics(payload)["hardware"]
    assert tuple(hw) == HARDWARE_KEYS
    assert hw["cuda_available"] is False
    assert hw["gpu_count"] == 0 and hw["gpu_names"] == [] and hw["gpu_total_memory_mb"] == []
    assert hw["current_device_index"] is None and hw["current_device_name"] is None
    assert hw["device_from_config"] == "cpu"
    assert hw["num_workers_from_config"] == 0 and hw["pin_memory_from_config"] is False
    assert hw["mixed_precision_from_config"] is None  # thesis: never set by the runners
    assert hw["bf16_from_config"] is None and hw["fp16_from_config"] is None


def test_gpu_hardware_fields_with_faked_cuda(monkeypatch) -> None:
    """The CUDA branch, exercised on CPU with a faked two-GPU torch.cuda."""
    from types import SimpleNamespace

    import torch

    props = [SimpleNamespace(name="Fake GPU A", total_memory=32109 * 1024 * 1024), SimpleNamespace(name="B")]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda index: props[index])
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index: props[index].name)
    hw = collect_hardware({"device": "cuda", "pin_memory": True, "num_workers": 2})
    assert hw["cuda_available"] is True and hw["gpu_count"] == 2
    assert hw["gpu_names"] == ["Fake GPU A", "B"]
    assert hw["gpu_total_memory_mb"] == [32109, 0]  # MiB; 0 when the size is unknown
    assert (hw["current_device_index"], hw["current_device_name"]) == (1, "B")
    assert (hw["device_from_config"], hw["pin_memory_from_config"], hw["num_workers_from_config"]) == (
        "cuda",
        True,
        2,
    )


def test_precision_key_fills_mixed_precision_fields() -> None:
    fp32 = collect_hardware({"precision": "fp32"})
    bf16 = collect_hardware({"precision": "bf16", "fp16": False})
    assert (fp32["mixed_precision_from_config"], fp32["bf16_from_config"], fp32["fp16_from_config"]) == (
        False,
        False,
        None,
    )
    assert (bf16["mixed_precision_from_config"], bf16["bf16_from_config"], bf16["fp16_from_config"]) == (
        True,
        True,
        False,
    )
    with pytest.raises(ValueError, match="precision"):
        collect_hardware({"precision": "fp8"})


def test_fixed_axis_inference(payload: dict) -> None:
    m = build_runtime_metrics(payload)
    meta = m["aees_overhead_metadata"]
    assert meta["fixed_axis_optimization_enabled"] is True
    assert meta["controller_created_by_axis"] == {"lr": False, "noise": True}
    assert meta["num_controllers_created"] == 1
    assert (meta["num_adaptive_axes"], meta["num_fixed_axes"]) == (1, 1)
    assert meta["adaptive_axes"] == ["noise=[0, 0.005, 0.01]"]
    assert meta["fixed_axes"] == ["lr=1"]
    assert meta["control_regime"] is None  # NLP configs have neither control_regime nor control_mode
    assert m["controller_update_count_by_axis"] == {"lr": 0, "noise": 5}
    assert m["controller_history_length_by_axis"] == {"lr": 0, "noise": 2}  # snapshots, not updates


def test_epoch_statistics(payload: dict) -> None:
    m = build_runtime_metrics(payload)
    assert m["epoch_wall_clock_seconds"] == [3.0, 4.0, 5.0, 4.0, 4.0]
    assert m["mean_epoch_wall_clock_seconds"] == pytest.approx(4.0)
    assert m["std_epoch_wall_clock_seconds"] == pytest.approx(math.sqrt(0.4))  # population std
    assert m["min_epoch_wall_clock_seconds"] == 3.0 and m["max_epoch_wall_clock_seconds"] == 5.0
    assert m["first_epoch_wall_clock_seconds"] == 3.0 and m["last_epoch_wall_clock_seconds"] == 4.0
    single = build_runtime_metrics({"epoch_wall_clock_seconds": [7.5]})
    assert single["std_epoch_wall_clock_seconds"] == 0.0


def test_bools_and_non_numbers_are_rejected(payload: dict) -> None:
    payload.update(wall_clock_seconds=True, total_steps=100.0, epoch_wall_clock_seconds=[3.0, "4", 5.0])
    payload["config"]["batch_size"] = True
    m = build_runtime_metrics(payload)
    assert m["wall_clock_seconds"] is None and m["seconds_per_epoch"] is None
    assert m["total_steps"] is None  # floats are not step counts
    assert m["epoch_wall_clock_seconds"] is None and m["mean_epoch_wall_clock_seconds"] is None
    assert m["batch_size"] is None and m["effective_batch_size"] is None


def test_conditional_noise_controllers_aggregate(payload: dict) -> None:
    lrs = [0.5, 1.0, 2.0]
    payload["config"].update(
        lr_candidates=lrs, noise_candidates=[0.0, 0.01], structured_control_mode="conditional"
    )
    by_lr = {}
    for index, lr in enumerate(lrs):
        log = _ucb_log("noise", [0.0, 0.01], updates=index + 2, snapshots=index + 1)
        log["conditioned_on_lr_value"] = lr
        by_lr[str(lr)] = log
    payload["controller_logs"] = {
        "structured_control_mode": "conditional",
        "context_mode": "none",
        "_logged_episode_count": 9,
        "lr_controller_logs": _ucb_log("lr", lrs, updates=9, snapshots=9),
        "noise_controller_logs_by_lr": by_lr,
    }
    m = build_runtime_metrics(payload)
    assert m["controller_update_count_by_axis"] == {"lr": 9, "noise": 2 + 3 + 4}  # sum
    assert m["controller_history_length_by_axis"] == {"lr": 9, "noise": 3}  # max
    meta = m["aees_overhead_metadata"]
    assert meta["controller_created_by_axis"] == {"lr": True, "noise": True}
    assert meta["num_controllers_created"] == 1 + 3
    assert meta["fixed_axis_optimization_enabled"] is False
    assert meta["adaptive_axes"] == ["lr=[0.5, 1, 2]", "noise=[0, 0.01]"]
    assert meta["fixed_axes"] is None and meta["num_fixed_axes"] is None


def test_contextual_counts_fall_back_to_global_prior(payload: dict) -> None:
    contextual = {
        "controller_type": "BucketedContextualController",
        "axis_name": "noise",
        "arm_values": [0.0, 0.005, 0.01],
        "controller_created": True,
        "global_prior_logs": {"controller_updates_history": [1, 2, 3, 4], "value_estimates_history": [{}] * 4},
    }
    payload["controller_logs"]["noise_controller_logs"] = contextual
    m = build_runtime_metrics(payload)
    assert m["controller_update_count_by_axis"] == {"lr": 0, "noise": 4}
    assert m["controller_history_length_by_axis"] == {"lr": 0, "noise": 4}


@pytest.mark.parametrize(
    ("lr", "noise", "mode", "expected"),
    [
        ([0.5, 1.0, 2.0], [0.0, 0.01], "conditional", 4),  # 1 LR + one noise controller per LR arm
        ([0.5, 1.0, 2.0], [0.0, 0.01], "independent", 2),
        ([1.0], [0.0, 0.01], "conditional", 1),  # conditional needs > 1 LR arm
        ([0.5, 1.0, 2.0], [0.0], "conditional", 1),
        ([1.0], [0.0], "independent", 0),
        (None, [0.0, 0.01], "independent", None),  # candidate list missing
    ],
)
def test_num_controllers_created_without_logs(lr, noise, mode, expected) -> None:
    config = {"batch_size": 8, "structured_control_mode": mode, "noise_candidates": noise}
    if lr is not None:
        config["lr_candidates"] = lr
    meta = build_runtime_metrics({"config": config, "controller_logs": None})["aees_overhead_metadata"]
    assert meta["num_controllers_created"] == expected
    assert meta["controller_created_by_axis"] == {"lr": None, "noise": None}


def test_axes_from_config_without_logs() -> None:
    config = {"lr_candidates": [0.5, 1.0, 2.0], "noise_candidates": [0.0], "control_mode": "adaptive"}
    meta = build_runtime_metrics({"method_name": "AdaptiveScheduler", "config": config})["aees_overhead_metadata"]
    assert meta["adaptive_axes"] == ["lr=[0.5, 1, 2]"]
    assert meta["fixed_axes"] == ["noise=0"]
    assert meta["fixed_axis_optimization_enabled"] is True  # a length-1 candidate list
    assert meta["control_regime"] == "adaptive"  # falls back to config.control_mode
    baseline = build_runtime_metrics({"config": {}})["aees_overhead_metadata"]
    assert baseline["adaptive_axes"] is None and baseline["num_adaptive_axes"] is None
    assert baseline["fixed_axis_optimization_enabled"] is None
