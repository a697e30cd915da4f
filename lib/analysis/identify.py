"""Identify a RunResult by its content, never by its file name.

``identify(record)`` returns the identification columns of one run: task,
setting, optimizer, the thesis display label (``labels.method_label``), the AEES
axis, scheduler, candidate grids, λ, context, profile. It reads the protocol 7
keys and tolerates the older variants: ``fixed_mode_name`` / ``mode_names`` /
``noise_std`` (old NLP runner), pulseopt 0.1.x context keys in ``episode_logs``,
and candidates found only in ``controller_logs`` or ``candidate_config_definitions``.
"""

from __future__ import annotations

import math
import re
from typing import Any

from lib.analysis import labels
from lib.vocab import PEERS

NLP_TASKS = ("sst2", "agnews")
_TASK_ALIASES = {
    "cifar100": "cifar100", "cifar-100": "cifar100", "cifar_100": "cifar100",
    "sst2": "sst2", "sst-2": "sst2", "glue sst-2": "sst2", "glue/sst2": "sst2",
    "agnews": "agnews", "ag_news": "agnews", "ag news": "agnews", "ag-news": "agnews",
}
_KIND_BY_METHOD = {
    "adaptivescheduler": "adaptive", "adaptive": "adaptive",
    "randomscheduler": "random", "random": "random",
    "uniformrandomopenloop": "uniform-random", "uniform-random": "uniform-random",
    "frequencymatchedopenloop": "frequency-matched", "frequency-matched": "frequency-matched",
    "fixedmode": "fixed",
    "baseline": "baseline", "adamw": "baseline", "sgd": "baseline",
    **{peer.lower(): "baseline" for peer in PEERS},  # NLP peer baselines
}
# pulseopt 0.1.x episode-log context keys (protocol 7.4).
OLD_CONTEXT_KEYS = ("context_bucket_ids", "context_bucket_names", "context_phases", "context_trends")
_NAME_RE = re.compile(r"^lr(?P<lr>[0-9pm.e+]+)_n(?P<n>[0-9pm.e+]+)$")


class RecordError(ValueError):
    """A RunResult lacks something identification or metrics need."""


def config_of(record: dict[str, Any]) -> dict[str, Any]:
    """The ``config`` block, or ``{}``; a non-object config is an error."""
    cfg = record.get("config")
    if cfg is None:
        return {}
    if not isinstance(cfg, dict):
        raise RecordError(f"'config' is a {type(cfg).__name__}, expected an object")
    return cfg


def task_of(record: dict[str, Any]) -> str:
    """``cifar100`` / ``sst2`` / ``agnews`` from ``task_name``, else ``dataset_name``."""
    cfg = config_of(record)
    for key in ("task_name", "dataset_name"):
        for source in (record, cfg):
            value = source.get(key)
            if isinstance(value, str) and value.strip().lower() in _TASK_ALIASES:
                return _TASK_ALIASES[value.strip().lower()]
    raise RecordError("no known task: task_name/dataset_name not one of cifar100, sst2, agnews")


def float_list(value: Any, key: str) -> tuple[float, ...]:
    """A list of numbers (or the CLI's comma form ``"0.5,1,2"``) as floats."""
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    if not isinstance(value, (list, tuple)):
        raise RecordError(f"'{key}' is a {type(value).__name__}, expected a list of numbers")
    try:
        return tuple(float(v) for v in value if not isinstance(v, bool))
    except (TypeError, ValueError) as exc:
        raise RecordError(f"'{key}' holds a non-number: {exc}") from None


def parse_candidate_name(name: str) -> tuple[float, float] | None:
    """``lr0p5_n0p005`` -> (0.5, 0.005); ``None`` if it is not a candidate name."""
    match = _NAME_RE.match(name.strip())
    if not match:
        return None
    try:
        return tuple(float(match[g].replace("p", ".").replace("m", "-")) for g in ("lr", "n"))  # type: ignore[return-value]
    except ValueError:
        return None


def _unique(values: list[float]) -> tuple[float, ...]:
    return tuple(dict.fromkeys(values))


def candidates(record: dict[str, Any]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """LR and noise candidate lists, in order of preference of their sources.

    ``config.{lr,noise}_candidates`` -> ``controller_logs.*.arm_values`` ->
    ``config.candidate_config_definitions`` -> candidate names (``candidate_config_names``
    or the old ``mode_names``) -> the runner default ``[1.0]`` / ``[0.0]``.
    """
    cfg = config_of(record)
    logs = record.get("controller_logs") if isinstance(record.get("controller_logs"), dict) else {}
    noise_logs = logs.get("noise_controller_logs")
    if noise_logs is None and isinstance(logs.get("noise_controller_logs_by_lr"), dict):
        noise_logs = next(iter(logs["noise_controller_logs_by_lr"].values()), None)
    defs = cfg.get("candidate_config_definitions")
    names = cfg.get("candidate_config_names") or cfg.get("mode_names")
    parsed = [parse_candidate_name(n) for n in names] if isinstance(names, list) else []
    parsed = [p for p in parsed if p is not None]
    out = []
    for axis, axis_logs, def_key, default in (("lr", logs.get("lr_controller_logs"), "lr_multiplier", 1.0),
                                              ("noise", noise_logs, "noise_std", 0.0)):
        key = f"{axis}_candidates"
        if cfg.get(key) is not None:
            out.append(float_list(cfg[key], f"config.{key}"))
        elif isinstance(axis_logs, dict) and axis_logs.get("arm_values") is not None:
            out.append(float_list(axis_logs["arm_values"], f"controller_logs.{axis}.arm_values"))
        elif isinstance(defs, list) and defs and all(isinstance(d, dict) and def_key in d for d in defs):
            out.append(_unique(list(float_list([d[def_key] for d in defs], "candidate_config_definitions"))))
        elif parsed:
            out.append(_unique([p[0 if axis == "lr" else 1] for p in parsed]))
        else:
            out.append((default,))
    return out[0], out[1]


def kind_of(record: dict[str, Any]) -> str:
    """Control kind: baseline, adaptive, random, fixed, uniform-random, frequency-matched, other."""
    cfg = config_of(record)
    for value in (record.get("method_name"), cfg.get("control_mode"), cfg.get("control_regime"),
                  cfg.get("method")):
        if isinstance(value, str) and value.strip().lower() in _KIND_BY_METHOD:
            return _KIND_BY_METHOD[value.strip().lower()]
    return "other"


def optimizer_of(record: dict[str, Any], task: str) -> str:
    """Base optimizer (``AdamW`` / ``SGD``). NLP configs carry none: the thesis NLP runs are AdamW."""
    cfg = config_of(record)
    for value in (cfg.get("optimizer_family"), cfg.get("optimizer"), cfg.get("method"),
                  record.get("method_name")):
        if isinstance(value, str) and value.strip().lower() in labels.OPTIMIZER_NAMES:
            return labels.OPTIMIZER_NAMES[value.strip().lower()]
    if task in NLP_TASKS:
        return "AdamW"
    raise RecordError("no optimizer: config.optimizer/optimizer_family missing on a CIFAR run")


def noise_setting(record: dict[str, Any], task: str) -> tuple[str, float, str]:
    """(label_noise_type, label_noise_rate, setting), e.g. ("symmetric", 0.4, "sym40").

    CIFAR settings are ``sym<pct>`` / ``asym<pct>``; noisy AG News is ``noise<pct>``
    (its construction is symmetric only, protocol 4.3, so a rate without a type is
    symmetric there).
    """
    cfg = config_of(record)
    rate = cfg.get("label_noise_rate") or 0.0
    if isinstance(rate, bool) or not isinstance(rate, (int, float)):
        raise RecordError(f"config.label_noise_rate is {rate!r}, expected a number")
    kind = cfg.get("label_noise_type")
    kind = "none" if kind in (None, "") else str(kind).lower()
    if kind == "none" and rate > 0 and task == "agnews":
        kind = "symmetric"
    if kind == "none" or rate <= 0:
        return "none", 0.0, "clean"
    pct = int(round(float(rate) * 100))
    if kind.startswith("sym"):
        return "symmetric", float(rate), f"sym{pct}" if task == "cifar100" else f"noise{pct}"
    if kind.startswith("asym"):
        return "asymmetric", float(rate), f"asym{pct}"
    return kind, float(rate), f"{kind}{pct}"


def context_of(record: dict[str, Any]) -> tuple[str, bool]:
    """(context mode, whether pulseopt 0.1.x context keys were found)."""
    cfg = config_of(record)
    episodes = record.get("episode_logs") if isinstance(record.get("episode_logs"), dict) else {}
    old = any(k in episodes for k in OLD_CONTEXT_KEYS)
    for value in (cfg.get("context_mode"), (record.get("controller_logs") or {}).get("context_mode")
                  if isinstance(record.get("controller_logs"), dict) else None):
        if isinstance(value, str) and value:
            return value, old
    if "context_phases" in episodes:
        return "trend_phase", old
    if old or "context_buckets" in episodes:
        return "trend", old
    return "none", old


def _fixed_values(record: dict[str, Any], kind: str, lr: tuple[float, ...],
                  noise: tuple[float, ...]) -> tuple[float | None, float | None] | None:
    """(lr multiplier, σ) of a fixed run, or ``None`` if the run is not fixed.

    Fixed = the old ``FixedMode`` method or a non-null ``fixed_mode_name`` on a
    non-adaptive run, or a controller-managed run with no active axis (protocol 12).
    """
    cfg = config_of(record)
    name = cfg.get("fixed_mode_name")
    if kind == "fixed" or (kind == "baseline" and isinstance(name, str) and name not in ("", "none")):
        parsed = parse_candidate_name(name) if isinstance(name, str) else None
        if parsed:
            return parsed
        sigma = cfg.get("noise_std")
        return (lr[0] if len(lr) == 1 else None,
                float(sigma) if isinstance(sigma, (int, float)) else (noise[0] if len(noise) == 1 else None))
    if kind in ("adaptive", "random") and len(lr) == 1 and len(noise) == 1:
        return lr[0], noise[0]
    return None


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan


def identify(record: dict[str, Any]) -> dict[str, Any]:
    """Identification columns of one RunResult (see module docstring)."""
    cfg = config_of(record)
    task = task_of(record)
    optimizer = optimizer_of(record, task)
    noise_type, noise_rate, setting = noise_setting(record, task)
    kind = kind_of(record)
    lr, noise = candidates(record)
    scheduler = str(cfg.get("lr_scheduler") or "none")
    context, old_context = context_of(record)
    lr_active, noise_active = len(lr) > 1, len(noise) > 1
    fixed = _fixed_values(record, kind, lr, noise)
    aees_axis = ""
    if fixed is not None:
        core = labels.fixed_core(*fixed)
        kind = "fixed"
    elif kind == "adaptive":
        aees_axis = labels.AEES_AXES[(lr_active, noise_active)]
        main = "AEES-LR" if task == "cifar100" else "AEES-Dual"
        core = "AEES" if aees_axis == main else aees_axis
    elif kind == "random":
        core = labels.RANDOM_AXES[(lr_active, noise_active)]
    elif kind in labels.OPEN_LOOP:
        core = labels.OPEN_LOOP[kind]
    elif kind == "baseline":
        core = optimizer
    else:
        core = str(record.get("method_name") or cfg.get("method") or "unknown")
    method = labels.method_label(task=task, setting=setting, optimizer=optimizer, kind=kind,
                                 core=core, scheduler=scheduler)
    managed = kind not in ("baseline", "other")
    seed = record.get("seed", cfg.get("seed"))
    if isinstance(seed, bool) or not isinstance(seed, (int, float)) or seed != int(seed):
        raise RecordError(f"seed is {seed!r}, expected an integer (top-level 'seed' or config.seed)")
    profile = cfg.get("profile")
    return {
        "task": task,
        "setting": setting,
        "optimizer": optimizer,
        "method": method,
        "summary_label": labels.summary_label(task=task, method=method, aees_axis=aees_axis,
                                              scheduler=scheduler),
        "kind": kind,
        "aees_axis": aees_axis,
        "active_axes": "+".join(a for a, on in (("lr", lr_active), ("noise", noise_active)) if on),
        "lr_scheduler": scheduler,
        "label_noise_type": noise_type,
        "label_noise_rate": noise_rate,
        "seed": int(seed),
        "base_lr": _number(cfg.get("base_lr", cfg.get("lr"))),
        "lr_grid": " ".join(labels.fmt_value(v) for v in lr),
        "noise_grid": " ".join(labels.fmt_value(v) for v in noise),
        "grid": labels.grid_name(task, lr, noise),
        "fixed_lr": fixed[0] if fixed and fixed[0] is not None else math.nan,
        "fixed_sigma": fixed[1] if fixed and fixed[1] is not None else math.nan,
        "lam": _number(cfg.get("reward_instability_lambda")),
        "context": context if managed else "none",
        "old_context_keys": old_context,
        "episode_length": _number(cfg.get("episode_length")) if managed else math.nan,
        "config_episode_length": _number(cfg.get("episode_length")),  # recorded even where unused
        "structured_control_mode": str(cfg.get("structured_control_mode") or "") if managed else "",
        "method_name": str(record.get("method_name") or ""),
        "run_tag": record.get("run_tag", cfg.get("run_tag")),
        "profile": str(profile) if profile is not None else "thesis-archive",
        # the machinery a run was trained with; a thesis archive's runs are the thesis'
        "machinery": str(cfg.get("machinery") or ("project" if profile is not None else "thesis")),
        "standin": (cfg.get("data_standin") if profile is not None else False),
        # the CIFAR task's data (config.dataset; runs that predate the key trained on CIFAR-100's data)
        "dataset": str(cfg.get("dataset") or "cifar100") if task == "cifar100" else task,
    }
