"""Controller-log derived runtime metrics: ``aees_overhead_metadata`` (§9.3) and the
per-axis controller counts of §9.1.

Controller logs (§7.5) hold ``lr_controller_logs`` and either ``noise_controller_logs``
or, in conditional mode, ``noise_controller_logs_by_lr`` (one noise controller per LR arm).
"""

from __future__ import annotations

from typing import Any, Literal, Mapping

from lib.results._parse import as_float, as_int, float_list, mapping

Metric = Literal["update_count", "history_length"]
AXES = ("lr", "noise")


def _conditional_noise_logs(logs: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    """Per-LR noise controller logs in conditional mode, else None."""
    by_lr = mapping(logs.get("noise_controller_logs_by_lr"))
    if by_lr is None:
        return None
    return [entry for entry in by_lr.values() if isinstance(entry, Mapping)]


def axis_created(axis_log: object) -> bool | None:
    """``controller_created`` if a bool; else from ``controller_type`` ("FixedAxis" -> False)."""
    log = mapping(axis_log)
    if log is None:
        return None
    created = log.get("controller_created")
    if isinstance(created, bool):
        return created
    controller_type = log.get("controller_type")
    if controller_type == "FixedAxis":
        return False
    return True if isinstance(controller_type, str) else None


def _noise_created(logs: Mapping[str, Any]) -> bool | None:
    per_lr = _conditional_noise_logs(logs)
    if per_lr is None:
        return axis_created(logs.get("noise_controller_logs"))
    present = [value for value in map(axis_created, per_lr) if value is not None]
    return any(present) if present else None


def controller_created_by_axis(logs: Mapping[str, Any] | None) -> dict[str, bool | None]:
    """``{lr, noise}`` created flags; conditional noise is ``any()`` over the per-LR controllers."""
    if logs is None:
        return {"lr": None, "noise": None}
    return {"lr": axis_created(logs.get("lr_controller_logs")), "noise": _noise_created(logs)}


def _last_int(history: object) -> int | None:
    return as_int(history[-1]) if isinstance(history, list) and history else None


def _update_count(log: Mapping[str, Any]) -> int | None:
    count = _last_int(log.get("controller_updates_history"))
    if count is None and (prior := mapping(log.get("global_prior_logs"))) is not None:
        count = _last_int(prior.get("controller_updates_history"))
    return count


def _history_length(log: Mapping[str, Any]) -> int | None:
    prior = mapping(log.get("global_prior_logs")) or {}
    for history in (
        log.get("value_estimates_history"),
        prior.get("value_estimates_history"),
        prior.get("controller_updates_history"),
        log.get("controller_updates_history"),
    ):
        if isinstance(history, list):
            return len(history)
    return None


def _axis_metric(axis_log: object, metric: Metric) -> int | None:
    log = mapping(axis_log)
    if log is None:
        return None
    if axis_created(log) is False:
        return 0
    return _update_count(log) if metric == "update_count" else _history_length(log)


def controller_metric_by_axis(logs: Mapping[str, Any] | None, metric: Metric) -> dict[str, int | None] | None:
    """Per-axis update count (sum over conditional noise controllers) or history length (max)."""
    if logs is None:
        return None
    per_lr = _conditional_noise_logs(logs)
    if per_lr is None:
        noise = _axis_metric(logs.get("noise_controller_logs"), metric)
    else:
        values = [v for v in (_axis_metric(log, metric) for log in per_lr) if v is not None]
        noise = (max(values) if metric == "history_length" else sum(values)) if values else None
    return {"lr": _axis_metric(logs.get("lr_controller_logs"), metric), "noise": noise}


def _format_adaptive(axis: str, values: list[float] | None) -> str:
    if not values:
        return axis
    return f"{axis}=[{', '.join(f'{value:g}' for value in values)}]"


def _axis_summary(axis: str, logs: list[Mapping[str, Any]], created: bool | None, adaptive: bool) -> str | None:
    """``"lr=[0.5, 1, 2]"`` (adaptive) or ``"lr=1"`` (fixed) from an axis' log(s), or None."""
    if created is None or created != adaptive or not logs:
        return None
    arm_values = next((v for v in (float_list(log.get("arm_values")) for log in logs) if v), None)
    if adaptive:
        return _format_adaptive(axis, arm_values)
    fixed = next((v for v in (as_float(log.get("fixed_arm_value")) for log in logs) if v is not None), None)
    if fixed is None and arm_values and len(arm_values) == 1:
        fixed = arm_values[0]
    return axis if fixed is None else f"{axis}={fixed:g}"


def axes_summary(
    logs: Mapping[str, Any] | None,
    lr_candidates: list[float] | None,
    noise_candidates: list[float] | None,
    adaptive: bool,
) -> list[str] | None:
    """Adaptive or fixed axis strings, from the controller logs first, then from the config lists."""
    axes: list[str] = []
    if logs is not None:
        created = controller_created_by_axis(logs)
        lr_log = mapping(logs.get("lr_controller_logs"))
        per_lr = _conditional_noise_logs(logs)
        noise_log = mapping(logs.get("noise_controller_logs"))
        noise_logs = per_lr if per_lr is not None else ([noise_log] if noise_log is not None else [])
        for axis, axis_logs in (("lr", [lr_log] if lr_log is not None else []), ("noise", noise_logs)):
            summary = _axis_summary(axis, axis_logs, created[axis], adaptive)
            if summary is not None:
                axes.append(summary)
        if axes:
            return axes
    for axis, candidates in (("lr", lr_candidates), ("noise", noise_candidates)):
        if candidates is not None and (len(candidates) > 1) == adaptive:
            axes.append(_format_adaptive(axis, candidates) if adaptive else _format_fixed(axis, candidates))
    return axes or None


def _format_fixed(axis: str, candidates: list[float]) -> str:
    return f"{axis}={candidates[0]:g}" if len(candidates) == 1 else axis


def num_controllers_created(
    logs: Mapping[str, Any] | None,
    lr_candidates: list[float] | None,
    noise_candidates: list[float] | None,
    structured_control_mode: object,
) -> int | None:
    """Created controllers from the logs; without logs, inferred from the candidate lists."""
    if logs is not None:
        count = 1 if axis_created(logs.get("lr_controller_logs")) else 0
        per_lr = _conditional_noise_logs(logs)
        if per_lr is not None:
            return count + sum(1 for log in per_lr if axis_created(log))
        return count + (1 if axis_created(logs.get("noise_controller_logs")) else 0)
    if lr_candidates is None or noise_candidates is None:
        return None
    count = 1 if len(lr_candidates) > 1 else 0
    if len(noise_candidates) > 1:
        conditional = structured_control_mode == "conditional" and len(lr_candidates) > 1
        count += len(lr_candidates) if conditional else 1
    return count


def build_overhead_metadata(result: Mapping[str, Any], logs: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``runtime_metrics.aees_overhead_metadata`` block (§9.3)."""
    config = mapping(result.get("config")) or {}
    lr_candidates = float_list(config.get("lr_candidates"))
    noise_candidates = float_list(config.get("noise_candidates"))
    created = controller_created_by_axis(logs)
    if any(value is False for value in created.values()):
        fixed_axis_optimization = True
    elif all(value is not None for value in created.values()):
        fixed_axis_optimization = False
    elif any(c is not None and len(c) == 1 for c in (lr_candidates, noise_candidates)):
        fixed_axis_optimization = True
    else:
        fixed_axis_optimization = None
    adaptive_axes = axes_summary(logs, lr_candidates, noise_candidates, adaptive=True)
    fixed_axes = axes_summary(logs, lr_candidates, noise_candidates, adaptive=False)
    return {
        "method_name": result.get("method_name"),
        "control_regime": config.get("control_regime", config.get("control_mode")),
        "structured_control_mode": config.get("structured_control_mode"),
        "context_mode": config.get("context_mode"),
        "lr_scheduler": config.get("lr_scheduler"),
        "episode_length": config.get("episode_length"),
        "lr_candidates": lr_candidates,
        "noise_candidates": noise_candidates,
        "controller_created_by_axis": created,
        "fixed_axis_optimization_enabled": fixed_axis_optimization,
        "adaptive_axes": adaptive_axes,
        "fixed_axes": fixed_axes,
        "num_adaptive_axes": None if adaptive_axes is None else len(adaptive_axes),
        "num_fixed_axes": None if fixed_axes is None else len(fixed_axes),
        "num_controllers_created": num_controllers_created(
            logs, lr_candidates, noise_candidates, config.get("structured_control_mode")
        ),
    }
