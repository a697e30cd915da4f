"""The one place that touches pulseopt private attributes (pinned to pulseopt 0.3.0).

Everything the compendium needs beyond pulseopt's public API goes through here:
the controllers behind an ``AEES`` object, the per-bucket controllers of a
``BucketedContextualController``, the per-parameter gradient-noise generators, and a
checkpoint of the whole AEES state (episode manager, controllers, reward details,
noise-generator states) that resumes bit for bit. ``tests/test_internals_guard.py``
fails loudly when any attribute used here changes.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pulseopt
import torch
from pulseopt.controller import (
    BucketedContextualController,
    DiscountedUCBController,
    RandomController,
)
from pulseopt.episode import StructuredEpisodeManager, _ActiveStructuredEpisode
from pulseopt.reward import NormalizedLossImprovementReward, RewardDetails
from pulseopt.types import CandidateConfig, StructuredSelection

PULSEOPT_VERSION = "0.3.0"
STATE_FORMAT = 1

if pulseopt.__version__ != PULSEOPT_VERSION:
    raise ImportError(
        f"lib.control.internals is written against pulseopt=={PULSEOPT_VERSION} private "
        f"attributes, but pulseopt {pulseopt.__version__} is installed. Install "
        f"pulseopt=={PULSEOPT_VERSION} (the pin in pyproject.toml) or port "
        "lib/control/internals.py and rerun tests/test_internals_guard.py."
    )


# ----------------------------------------------------------------------------
# Accessors
# ----------------------------------------------------------------------------


def controllers_of(aees: pulseopt.AEES) -> tuple[Any, Any]:
    """``(lr_controller, noise_controller)`` of an AEES; each may be None, noise may be a list."""
    manager = aees.episode_manager
    return manager._lr_controller, manager._noise_controller


def bucket_controllers_of(ctrl: BucketedContextualController) -> dict[str, DiscountedUCBController]:
    """The per-bucket controllers created so far (buckets are created lazily on first visit)."""
    return dict(ctrl._bucket_controllers)


def global_prior_of(ctrl: BucketedContextualController) -> DiscountedUCBController:
    """The global discounted-UCB prior of a bucketed contextual controller."""
    return ctrl._global_prior


def noise_generator(
    aees: pulseopt.AEES, group_index: int, param_index: int, device: torch.device
) -> torch.Generator:
    """The AEES's gradient-noise generator for one parameter (created and seeded like stock)."""
    return aees._get_noise_generator(group_index, param_index, device)


def active_episode_steps(aees: pulseopt.AEES) -> int:
    """Steps the episode manager has recorded in its open episode (0 when none is open)."""
    active = aees.episode_manager._active_episode
    return 0 if active is None else int(active.steps_completed)


def closed_episode_count(aees: pulseopt.AEES) -> int:
    """Episodes the episode manager has closed so far (without copying its logs)."""
    return len(aees.episode_manager._logs["episode_rewards"])


def episode_config_of(aees: pulseopt.AEES) -> dict[str, Any]:
    """The episode manager's configuration (used to check a checkpoint fits the object)."""
    m = aees.episode_manager
    return {
        "lr_candidates": list(m._lr_candidates),
        "noise_candidates": list(m._noise_candidates),
        "episode_length": int(m._episode_length),
        "structured_control_mode": m._structured_control_mode,
        "context_mode": m._context_mode,
        "context_trend_window": int(m._context_trend_window),
        "context_trend_epsilon": float(m._context_trend_epsilon),
        "ema_alpha": float(m._ema_alpha),
    }


# ----------------------------------------------------------------------------
# Controllers
# ----------------------------------------------------------------------------


def _rng_state(rng: Any) -> list[Any]:
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def _set_rng_state(rng: Any, state: list[Any]) -> None:
    version, internal, gauss = state
    rng.setstate((version, tuple(internal), gauss))


def _ucb_state(ctrl: DiscountedUCBController) -> dict[str, Any]:
    return {
        "type": "DiscountedUCBController",
        "n_arms": ctrl.n_arms,
        "counts": list(ctrl._discounted_counts),
        "reward_sums": list(ctrl._discounted_reward_sums),
        "warmup_counts": list(ctrl._warmup_counts),
        "total_updates": ctrl._total_updates,
        "rng": _rng_state(ctrl._rng),
    }


def _load_ucb(ctrl: DiscountedUCBController, state: dict[str, Any]) -> None:
    ctrl._discounted_counts = [float(v) for v in state["counts"]]
    ctrl._discounted_reward_sums = [float(v) for v in state["reward_sums"]]
    ctrl._warmup_counts = [int(v) for v in state["warmup_counts"]]
    ctrl._total_updates = int(state["total_updates"])
    _set_rng_state(ctrl._rng, state["rng"])


def _controller_state(ctrl: Any) -> dict[str, Any] | list[Any] | None:
    if ctrl is None:
        return None
    if isinstance(ctrl, list):
        return [_controller_state(c) for c in ctrl]
    if isinstance(ctrl, DiscountedUCBController):
        return _ucb_state(ctrl)
    if isinstance(ctrl, RandomController):
        return {"type": "RandomController", "n_arms": ctrl.n_arms, "rng": _rng_state(ctrl._rng)}
    if isinstance(ctrl, BucketedContextualController):
        return {
            "type": "BucketedContextualController",
            "n_arms": ctrl.n_arms,
            "bucket_names": list(ctrl.bucket_names),
            "active_bucket_id": ctrl._active_bucket_id,
            "global_prior": _ucb_state(ctrl._global_prior),
            "bucket_controllers": {k: _ucb_state(c) for k, c in ctrl._bucket_controllers.items()},
            "visit_counts": dict(ctrl._bucket_visit_counts),
            "reward_sums": dict(ctrl._bucket_reward_sums),
            "chosen_arms": {k: sorted(v) for k, v in ctrl._bucket_chosen_arms.items()},
        }
    raise TypeError(f"Cannot checkpoint controller of type {type(ctrl).__name__}.")


def _load_controller(ctrl: Any, state: Any, where: str) -> None:
    if (ctrl is None) != (state is None) or isinstance(ctrl, list) != isinstance(state, list):
        raise ValueError(f"AEES state: {where} does not match this object's controller layout.")
    if ctrl is None:
        return
    if isinstance(ctrl, list):
        if len(ctrl) != len(state):
            raise ValueError(
                f"AEES state: {where} has {len(state)} controllers, expected {len(ctrl)}."
            )
        for i, (c, s) in enumerate(zip(ctrl, state, strict=True)):
            _load_controller(c, s, f"{where}[{i}]")
        return
    if state["type"] != type(ctrl).__name__ or state["n_arms"] != ctrl.n_arms:
        raise ValueError(
            f"AEES state: {where} is a {state['type']} with {state['n_arms']} arms, "
            f"expected {type(ctrl).__name__} with {ctrl.n_arms} arms."
        )
    if isinstance(ctrl, DiscountedUCBController):
        _load_ucb(ctrl, state)
    elif isinstance(ctrl, RandomController):
        _set_rng_state(ctrl._rng, state["rng"])
    else:
        if list(state["bucket_names"]) != list(ctrl.bucket_names):
            raise ValueError(f"AEES state: {where} bucket names differ: {state['bucket_names']}.")
        _load_ucb(ctrl._global_prior, state["global_prior"])
        ctrl._bucket_controllers = {}
        for name, sub in state["bucket_controllers"].items():
            ctrl.set_context(name)  # creates the bucket controller exactly as stock does
            _load_ucb(ctrl._bucket_controllers[name], sub)
        ctrl._active_bucket_id = state["active_bucket_id"]
        ctrl._bucket_visit_counts = {k: int(v) for k, v in state["visit_counts"].items()}
        ctrl._bucket_reward_sums = {k: float(v) for k, v in state["reward_sums"].items()}
        ctrl._bucket_chosen_arms = {k: set(v) for k, v in state["chosen_arms"].items()}


# ----------------------------------------------------------------------------
# Episode manager
# ----------------------------------------------------------------------------


def _episode_manager_state(m: StructuredEpisodeManager) -> dict[str, Any]:
    active = None
    if m._active_episode is not None:
        active = dataclasses.asdict(m._active_episode)  # recurses into selection/candidate
    details = m._reward_fn._last_details if isinstance(
        m._reward_fn, NormalizedLossImprovementReward
    ) else None
    return {
        "active_episode": active,
        "last_loss": m._last_loss,
        "next_episode_index": m._next_episode_index,
        "episode_end_loss_history": list(m._episode_end_loss_history),
        "logs": {k: list(v) for k, v in m._logs.items()},
        "loss_delta_ema": m._loss_delta_ema._value,
        "reward_last_details": None if details is None else dataclasses.asdict(details),
        "lr_controller": _controller_state(m._lr_controller),
        "noise_controller": _controller_state(m._noise_controller),
    }


def _load_episode_manager(m: StructuredEpisodeManager, s: dict[str, Any]) -> None:
    _load_controller(m._lr_controller, s["lr_controller"], "lr_controller")
    _load_controller(m._noise_controller, s["noise_controller"], "noise_controller")
    active = s["active_episode"]
    if active is None:
        m._active_episode = None
    else:
        fields = dict(active)
        fields["selection"] = StructuredSelection(**fields["selection"])
        fields["candidate_config"] = CandidateConfig(**fields["candidate_config"])
        fields["step_losses"] = list(fields["step_losses"])
        m._active_episode = _ActiveStructuredEpisode(**fields)
    m._last_loss = s["last_loss"]
    m._next_episode_index = int(s["next_episode_index"])
    m._episode_end_loss_history = list(s["episode_end_loss_history"])
    if set(s["logs"]) != set(m._logs):
        raise ValueError(f"AEES state: log keys {sorted(s['logs'])} differ from {sorted(m._logs)}.")
    m._logs = {k: list(v) for k, v in s["logs"].items()}
    m._loss_delta_ema._value = s["loss_delta_ema"]
    details = s["reward_last_details"]
    if isinstance(m._reward_fn, NormalizedLossImprovementReward):
        m._reward_fn._last_details = None if details is None else RewardDetails(**details)


# ----------------------------------------------------------------------------
# Whole AEES state
# ----------------------------------------------------------------------------


def aees_state_dict(aees: pulseopt.AEES) -> dict[str, Any]:
    """Everything needed to resume an AEES (stock or FastAEES) bit for bit; torch.save-able.

    Must be called between steps. For FastAEES the pending device-side step values are
    first handed to the episode manager (one host sync).
    """
    if aees.current_candidate is not None:
        raise RuntimeError("aees_state_dict() called inside a step; call it after step_end().")
    if hasattr(aees, "sync"):
        aees.sync()
    generators = {}
    for key, gen in aees._noise_generators.items():
        _, group_index, param_index = key.rsplit(":", 2)
        generators[f"{group_index}:{param_index}"] = {
            "key": key, "device_type": gen.device.type, "state": gen.get_state(),
        }
    return {
        "format": STATE_FORMAT,
        "pulseopt_version": PULSEOPT_VERSION,
        "config": episode_config_of(aees),
        "seed": aees._seed,
        "episode_manager": _episode_manager_state(aees.episode_manager),
        "noise_generators": generators,
        "extra": aees.extra_state() if hasattr(aees, "extra_state") else None,
    }


def _generator_device(aees: pulseopt.AEES, index: str, device: torch.device | None) -> torch.device:
    if device is None:
        group_index, param_index = (int(v) for v in index.split(":"))
        device = aees.optimizer.param_groups[group_index]["params"][param_index].device
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    return device


def load_aees_state_dict(
    aees: pulseopt.AEES, state: dict[str, Any], device: torch.device | str | None = None
) -> None:
    """Restore ``aees_state_dict`` output into a freshly built AEES of the same configuration.

    Noise generators are re-created on ``device`` (default: each parameter's device) and
    re-keyed to it; a generator state saved on one device type cannot move to another.
    """
    if state.get("format") != STATE_FORMAT:
        raise ValueError(f"AEES state format {state.get('format')!r} is not {STATE_FORMAT}.")
    if aees.current_candidate is not None:
        raise RuntimeError("load_aees_state_dict() called inside a step.")
    config = episode_config_of(aees)
    if state["config"] != config:
        raise ValueError(f"AEES state was saved for {state['config']}, this object is {config}.")
    if state["seed"] != aees._seed:
        raise ValueError(
            f"AEES state seed {state['seed']} differs from this object's seed {aees._seed}."
        )
    extra = state["extra"]
    saved_mode = "exact" if extra is None else extra["update_norm"]
    mode = getattr(aees, "update_norm", "exact")  # stock AEES logs exact update norms
    if saved_mode != mode:
        raise ValueError(
            f"AEES state was saved with update_norm={saved_mode!r} (stock AEES counts as "
            f"'exact'); this object uses update_norm={mode!r}. Resume with the same mode."
        )
    target = None if device is None else torch.device(device)
    generators: dict[str, torch.Generator] = {}
    for index, entry in state["noise_generators"].items():
        dev = _generator_device(aees, index, target)
        gen_type = "cuda" if dev.type == "cuda" else "cpu"  # as stock _get_noise_generator
        if gen_type != entry["device_type"]:
            raise ValueError(
                f"Noise generator {entry['key']!r} was saved on {entry['device_type']} and cannot "
                f"be restored on {dev}; load onto a {entry['device_type']} device."
            )
        gen = torch.Generator(device=gen_type)
        gen.set_state(entry["state"].cpu())
        generators[f"{dev}:{index}"] = gen
    _load_episode_manager(aees.episode_manager, state["episode_manager"])
    aees._noise_generators = generators
    if hasattr(aees, "load_extra_state"):
        aees.load_extra_state(extra)
