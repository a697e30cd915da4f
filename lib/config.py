"""Typed run configuration per task, thesis defaults, named profiles, strict validation.

Every CIFAR flag of the thesis runner (protocol 1.1) is a field here under its thesis name
(dashes -> underscores) with its thesis default. A *profile* is a named bundle of defaults
(``thesis``: protocol section 11 settings on the real data; ``mini``: the same code paths at CPU
scale on the offline stand-ins). Explicit parameters always win over the profile; the resolved
values, the profile and the explicit parameters are all recorded in the RunResult.

A bad parameter fails here, before any data is touched, with a message that names the
parameter and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from pulseopt.modes import parse_lr_candidates, parse_noise_candidates


class ConfigError(ValueError):
    """A run parameter is unknown, of the wrong type, or outside its allowed values."""


def _f(default: Any, doc: str, choices: tuple | None = None) -> Any:
    meta = {"doc": doc, "choices": choices}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class CifarConfig:
    """CIFAR-100 / ResNet-18 run (protocol 1.1 flags with thesis defaults, plus project fields)."""

    # --- thesis flags (protocol 1.1) ---
    control_mode: str = _f("baseline", "baseline | adaptive (AEES) | random", ("baseline", "adaptive", "random"))
    epochs: int = _f(10, "training epochs, > 0 (thesis runs: 200)")
    batch_size: int = _f(128, "batch size, > 0")
    lr: float = _f(1e-3, "base learning rate, > 0 (thesis: AdamW 1e-3, SGD 0.1)")
    weight_decay: float = _f(1e-4, "weight decay, >= 0")
    optimizer: str = _f("AdamW", "AdamW | SGD", ("AdamW", "SGD"))
    momentum: float = _f(0.9, "SGD momentum, >= 0 (recorded for AdamW too)")
    lr_scheduler: str = _f("none", "epoch-level schedule: none | cosine | linear | warmup_linear",
                           ("none", "cosine", "linear", "warmup_linear"))
    scheduler_t_max: int | None = _f(None, "schedule span in epochs, > 0; None = epochs")
    warmup_epochs: int = _f(0, "warmup epochs for warmup_linear, >= 0")
    reward_epsilon: float = _f(1e-8, "reward epsilon, > 0")
    reward_instability_lambda: float = _f(0.0, "instability penalty lambda, >= 0")
    reward_clip_min: float = _f(-1.0, "reward clip minimum, <= reward_clip_max")
    reward_clip_max: float = _f(1.0, "reward clip maximum")
    episode_length: int = _f(200, "optimizer steps per AEES episode, > 0")
    lr_candidates: list[float] = _f([1.0], "LR multipliers, list or '0.5,1,2'; each > 0, no duplicates")
    noise_candidates: list[float] = _f([0.0], "gradient-noise stds, list or '0,0.005'; each >= 0, no duplicates")
    structured_control_mode: str = _f("independent", "independent | conditional", ("independent", "conditional"))
    context_mode: str = _f("none", "none | trend", ("none", "trend"))
    context_trend_window: int = _f(3, "episodes in the trend window, > 0")
    context_trend_epsilon: float = _f(1e-3, "trend dead band, >= 0")
    label_noise_type: str = _f("none", "none | symmetric | asymmetric", ("none", "symmetric", "asymmetric"))
    label_noise_rate: float = _f(0.0, "fraction of training labels flipped, in [0, 1]; 0 when type is none")
    seed: int = _f(0, "run seed: model init, data order, augmentation, label noise, controllers")
    run_tag: str | None = _f(None, "free text stored as run_tag")
    output: str = _f("", "RunResult JSON path ('' = results/<profile>/scratch/<default name>.json)")
    # --- project fields (beyond the thesis flags) ---
    data_standin: bool = _f(False, "use the offline CIFAR-100 stand-in instead of the real data")
    standin_n_train: int = _f(50000, "stand-in training images, > 0")
    standin_n_test: int = _f(10000, "stand-in test images, > 0")
    model_width: int = _f(64, "ResNet-18 base width (thesis 64), > 0")
    device: str = _f("auto", "auto (cuda when available) | cpu | cuda", ("auto", "cpu", "cuda"))

    task_name = "cifar100"


PROFILES: dict[str, dict[str, dict[str, Any]]] = {
    # Protocol section 11.1 settings on the real data, meant for a GPU.
    "thesis": {
        "cifar100": {"epochs": 200},
    },
    # CPU scale on the offline stand-in. Few images for many epochs so that the memorisation
    # phase under label noise is reached (DESIGN.md); episode length keeps >= 15 episodes.
    "mini": {
        "cifar100": {
            "epochs": 16,
            "episode_length": 16,
            "data_standin": True,
            "standin_n_train": 2560,
            "standin_n_test": 1000,
            "model_width": 16,
        },
    },
}

TASK_CONFIGS: dict[str, type] = {"cifar100": CifarConfig}


def field_docs(task: str) -> dict[str, str]:
    """Name -> one-line meaning / allowed values, for parameters cells and --help."""
    return {f.name: f.metadata["doc"] for f in dataclasses.fields(TASK_CONFIGS[task])}


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp)).replace("NoneType", "None")


def _coerce(name: str, tp: Any, value: Any) -> Any:
    """Check/convert one value against its declared type; raise ConfigError naming the field."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _coerce(name, args[0], value)
    if origin is list:
        parser = parse_lr_candidates if name == "lr_candidates" else parse_noise_candidates
        if isinstance(value, str):
            text = value
        elif isinstance(value, (list, tuple)):
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
                raise ConfigError(f"{name}: every element must be a number, got {value!r}")
            text = ",".join(repr(float(v)) for v in value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            text = repr(float(value))
        else:
            raise ConfigError(f"{name}: expected a list of numbers or a comma-separated string, got {value!r}")
        try:
            return parser(text)
        except ValueError as exc:
            raise ConfigError(f"{name}: {exc}") from None
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{name}: expected true/false, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{name}: expected an integer, got {value!r} ({type(value).__name__})")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise ConfigError(f"{name}: must be finite, got {value!r}")
            return float(value)
        raise ConfigError(f"{name}: expected a number, got {value!r} ({type(value).__name__})")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{name}: expected a string, got {value!r} ({type(value).__name__})")
    raise ConfigError(f"{name}: unsupported type {_type_name(tp)}")  # pragma: no cover


def _require(ok: bool, name: str, rule: str, value: Any) -> None:
    if not ok:
        raise ConfigError(f"{name}: must be {rule}, got {value!r}")


def validate(cfg: Any) -> None:
    """The validation rules of protocol 1.1 (and the project fields)."""
    for f in dataclasses.fields(cfg):
        choices = f.metadata.get("choices")
        value = getattr(cfg, f.name)
        if choices is not None and value not in choices:
            raise ConfigError(f"{f.name}: must be one of {', '.join(choices)}; got {value!r}")
    positive_ints = ["epochs", "batch_size", "episode_length", "context_trend_window", "model_width",
                     "standin_n_train", "standin_n_test"]
    for name in positive_ints:
        _require(getattr(cfg, name) > 0, name, "> 0", getattr(cfg, name))
    _require(cfg.lr > 0, "lr", "> 0", cfg.lr)
    for name in ["weight_decay", "momentum", "reward_instability_lambda", "context_trend_epsilon"]:
        _require(getattr(cfg, name) >= 0, name, ">= 0", getattr(cfg, name))
    _require(cfg.warmup_epochs >= 0, "warmup_epochs", ">= 0", cfg.warmup_epochs)
    _require(cfg.reward_epsilon > 0, "reward_epsilon", "> 0", cfg.reward_epsilon)
    if cfg.scheduler_t_max is not None:
        _require(cfg.scheduler_t_max > 0, "scheduler_t_max", "> 0 (or None for epochs)", cfg.scheduler_t_max)
    _require(cfg.reward_clip_min <= cfg.reward_clip_max, "reward_clip_min",
             f"<= reward_clip_max ({cfg.reward_clip_max})", cfg.reward_clip_min)
    _require(0.0 <= cfg.label_noise_rate <= 1.0, "label_noise_rate", "in [0, 1]", cfg.label_noise_rate)
    if cfg.label_noise_type == "none":
        _require(cfg.label_noise_rate == 0.0, "label_noise_rate",
                 "exactly 0.0 when label_noise_type is 'none'", cfg.label_noise_rate)


def resolve(task: str, profile: str, params: dict[str, Any] | None = None) -> Any:
    """Profile defaults, then explicit ``params`` (None values mean "not given"), validated.

    Returns a task config with two extra attributes: ``profile`` and ``explicit`` (the names
    of the explicitly given parameters).
    """
    if task not in TASK_CONFIGS:
        raise ConfigError(f"task: must be one of {', '.join(TASK_CONFIGS)}; got {task!r}")
    if profile not in PROFILES:
        raise ConfigError(f"profile: must be one of {', '.join(PROFILES)}; got {profile!r}")
    cls = TASK_CONFIGS[task]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    given = {k: v for k, v in (params or {}).items() if v is not None}
    unknown = sorted(set(given) - set(fields))
    if unknown:
        raise ConfigError(f"unknown parameter(s) {', '.join(unknown)} for task {task}; "
                          f"allowed: {', '.join(fields)}")
    values = {**PROFILES[profile].get(task, {}), **given}
    kwargs = {name: _coerce(name, hints[name], value) for name, value in values.items()}
    cfg = cls(**kwargs)
    validate(cfg)
    cfg.profile = profile
    cfg.explicit = sorted(given)
    return cfg


def as_dict(cfg: Any) -> dict[str, Any]:
    """The config fields as a plain dict (thesis names)."""
    return dataclasses.asdict(cfg)
