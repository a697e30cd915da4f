"""``runtime_metrics``: derived at save time from a RunResult dict (protocol §9.1).

Derived values only; the result's top-level fields are never modified. Missing,
zero or non-numeric inputs (bools included) give None, never a division error.
"""

from __future__ import annotations

from typing import Any, Mapping

from lib.results._parse import as_float, as_int, float_list, mapping, mean, pstdev, ratio
from lib.results.hardware import collect_hardware
from lib.results.overhead import build_overhead_metadata, controller_metric_by_axis

__all__ = ["build_runtime_metrics"]


def _epoch_time_stats(epochs: list[float] | None) -> dict[str, float | None]:
    return {
        "mean_epoch_wall_clock_seconds": mean(epochs),
        "std_epoch_wall_clock_seconds": pstdev(epochs),
        "min_epoch_wall_clock_seconds": min(epochs) if epochs else None,
        "max_epoch_wall_clock_seconds": max(epochs) if epochs else None,
        "first_epoch_wall_clock_seconds": epochs[0] if epochs else None,
        "last_epoch_wall_clock_seconds": epochs[-1] if epochs else None,
    }


def build_runtime_metrics(result: Mapping[str, Any]) -> dict[str, Any]:
    """Return the §9.1 ``runtime_metrics`` block (with §9.2 hardware and §9.3 metadata)."""
    if not isinstance(result, Mapping):
        raise TypeError(f"build_runtime_metrics expects a RunResult mapping, got {type(result).__name__}")
    seconds = as_float(result.get("wall_clock_seconds"))
    epoch_seconds = float_list(result.get("epoch_wall_clock_seconds"))
    steps = as_int(result.get("total_steps"))
    epochs = as_int(result.get("total_epochs"))
    flops = as_float(result.get("estimated_flops"))
    epoch_tflops = float_list(result.get("epoch_tflops"))
    config = mapping(result.get("config")) or {}
    logs = mapping(result.get("controller_logs"))

    has_steps = seconds is not None and steps is not None and steps > 0
    has_epochs = seconds is not None and epochs is not None and epochs > 0
    batch_size = as_int(config.get("batch_size"))
    accumulation = as_int(config.get("gradient_accumulation_steps"))
    accumulation = 1 if accumulation is None else accumulation
    effective_batch = None if batch_size is None else batch_size * accumulation
    examples = None if steps is None or effective_batch is None else steps * effective_batch
    tflops_total = None if flops is None else flops / 1e12

    return {
        "wall_clock_seconds": seconds,
        "wall_clock_minutes": None if seconds is None else seconds / 60.0,
        "wall_clock_hours": None if seconds is None else seconds / 3600.0,
        "epoch_wall_clock_seconds": epoch_seconds,
        **_epoch_time_stats(epoch_seconds),
        "total_steps": steps,
        "seconds_per_step": ratio(seconds, steps) if has_steps else None,
        "steps_per_second": ratio(steps, seconds) if has_steps else None,
        "total_epochs": epochs,
        "seconds_per_epoch": ratio(seconds, epochs) if has_epochs else None,
        "epochs_per_hour": ratio(epochs * 3600.0, seconds) if has_epochs else None,  # type: ignore[operator]
        "batch_size": batch_size,
        "gradient_accumulation_steps": accumulation,
        "effective_batch_size": effective_batch,
        "estimated_train_examples_processed": examples,
        "estimated_examples_per_second": ratio(examples, seconds),
        "estimated_flops": flops,
        "estimated_tflops_total": tflops_total,
        "estimated_tflops_per_second": ratio(tflops_total, seconds),
        "estimated_tflops_per_hour": ratio(None if tflops_total is None else tflops_total * 3600.0, seconds),
        "epoch_tflops": epoch_tflops,
        "mean_epoch_tflops": mean(epoch_tflops),
        "hardware": collect_hardware(config),
        "aees_overhead_metadata": build_overhead_metadata(result, logs),
        "logged_episode_count": None if logs is None else as_int(logs.get("_logged_episode_count")),
        "controller_update_count_by_axis": controller_metric_by_axis(logs, "update_count"),
        "controller_history_length_by_axis": controller_metric_by_axis(logs, "history_length"),
        "controller_select_count_by_axis": None,
    }
