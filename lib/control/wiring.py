"""Baseline / AEES / random wiring on the public ``pulseopt.AEES`` class (protocol 5).

* ``baseline``: a plain torch AdamW or SGD, no episode manager (``episode_logs`` and
  ``controller_logs`` are null). The thesis' SGD baseline ran through pulseopt's wrapper in
  "base" mode (multiplier 1, sigma 0): numerically the same update, only slower (protocol 14.5).
* ``adaptive`` / ``random``: the same optimizer wrapped by AEES (``FastAEES`` by default) with
  discounted-UCB / random controllers per axis that has more than one candidate. pulseopt seeds
  them as protocol 5.2 prescribes (LR ``seed``, noise ``seed+101`` (+LR index in conditional
  mode), buckets ``+1000+index``, gradient-noise generators ``seed + 1009*group + index``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from pulseopt import AEES
from pulseopt.modes import build_candidate_configs_from_axes

from lib.control.fast import FastAEES
from lib.control.internals import closed_episode_count
from lib.control.peers import build_peer
from lib.control.snapshots import ControllerLogger
from lib.vocab import PEER_SPECS

METHOD_NAMES = {"baseline": "Baseline", "adaptive": "AdaptiveScheduler", "random": "RandomScheduler"}
# The text tasks name the control mode by their ``method`` parameter (a peer's name: its baseline).
MODES_BY_METHOD = {"AdamW": "baseline", "AdaptiveScheduler": "adaptive", "RandomScheduler": "random"}


def mode_of_method(method: str) -> str:
    """``baseline`` / ``adaptive`` / ``random``: the control mode a text task's ``method`` names."""
    return "baseline" if method in PEER_SPECS else MODES_BY_METHOD[method]


def build_optimizer(params: Any, name: str, lr: float, weight_decay: float,
                    momentum: float = 0.9, total_steps: int | None = None,
                    fine_tuning: bool = False) -> torch.optim.Optimizer:
    """AdamW (betas 0.9/0.999, eps 1e-8) or SGD (dampening 0, no Nesterov), as in the thesis;
    a peer of ``lib.vocab.PEER_SPECS`` (:mod:`lib.control.peers`; Schedule-Free's warmup needs the
    run's ``total_steps``; ``fine_tuning`` picks Prodigy's d_coef for a pre-trained model)."""
    if name in PEER_SPECS:
        if total_steps is None:
            raise ValueError(f"optimizer {name}: build_optimizer needs total_steps (the run's optimizer steps)")
        return build_peer(params, name, lr, weight_decay, total_steps, fine_tuning)
    if name == "AdamW":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if name == "SGD":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    raise ValueError(f"optimizer: must be AdamW, SGD, {', '.join(PEER_SPECS)}; got {name!r}")


def build_aees(optimizer: torch.optim.Optimizer, mode: str, cfg: Any, *,
               aees_class: type | None = None, **extra: Any) -> AEES | None:
    """The AEES wrapper for ``adaptive``/``random`` runs, None for ``baseline``.

    No LR scheduler is passed: schedules are stepped by the training loop (protocol 6.3).
    """
    if mode == "baseline":
        return None
    if mode not in ("adaptive", "random"):
        raise ValueError(f"control mode must be baseline, adaptive or random; got {mode!r}")
    if aees_class is None:
        aees_class = FastAEES
    return aees_class(
        optimizer,
        lr_candidates=list(cfg.lr_candidates),
        noise_candidates=list(cfg.noise_candidates),
        episode_length=cfg.episode_length,
        lr_scheduler=None,
        control_mode=mode,
        structured_control_mode=cfg.structured_control_mode,
        context_mode=cfg.context_mode,
        context_trend_window=cfg.context_trend_window,
        context_trend_epsilon=cfg.context_trend_epsilon,
        reward_instability_lambda=cfg.reward_instability_lambda,
        reward_epsilon=cfg.reward_epsilon,
        reward_clip_min=cfg.reward_clip_min,
        reward_clip_max=cfg.reward_clip_max,
        ema_alpha=0.1,
        seed=cfg.seed,
        **extra,
    )


def candidate_blocks(lr_candidates: list[float], noise_candidates: list[float]) -> dict[str, Any]:
    """``candidate_config_names`` / ``_definitions`` (Cartesian product, LR-major; protocol 7.3)."""
    configs = build_candidate_configs_from_axes(list(lr_candidates), list(noise_candidates))
    return {
        "candidate_config_names": [c.name for c in configs],
        "candidate_config_definitions": [
            {"name": c.name, "lr_multiplier": c.lr_multiplier, "noise_std": c.noise_std}
            for c in configs
        ],
    }


def control_mode(cfg: Any) -> str:
    """``baseline`` / ``adaptive`` / ``random``: CIFAR's ``control_mode``, the text tasks' ``method``."""
    return cfg.control_mode if hasattr(cfg, "control_mode") else mode_of_method(cfg.method)


def aees_engine(cfg: Any) -> dict[str, Any]:
    """Keyword arguments selecting the AEES implementation (``aees_impl``, ``update_norm``)."""
    if cfg.aees_impl == "stock":
        return {"aees_class": AEES}
    return {"update_norm": cfg.update_norm}


class Stepper:
    """One optimizer step with or without AEES, and the episode-closing bookkeeping.

    :meth:`start` (``aees.step_start``, ``zero_grad``) -> forward/backward by the caller ->
    :meth:`finish` (``optimizer.step`` or ``aees.step_end``). A controller snapshot is taken
    after each episode AEES closes (protocol 1.5): the episode count is AEES's own.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, aees: Any | None,
                 logger: ControllerLogger | None) -> None:
        self.optimizer = optimizer
        self.aees = aees
        self.logger = logger
        self.global_step = 0

    def start(self) -> None:
        if self.aees is not None:
            self.aees.step_start(self.global_step)
        self.optimizer.zero_grad(set_to_none=True)

    def _snapshot_closed(self) -> None:
        while self.logger.count < closed_episode_count(self.aees):
            self.logger.on_episode_closed()

    def finish(self, loss: torch.Tensor) -> None:
        if self.aees is None:
            self.optimizer.step()
        else:
            self.aees.step_end(loss)
            self._snapshot_closed()
        self.global_step += 1

    def finalize(self) -> None:
        """Close a trailing partial episode (and snapshot it), as ``episode_manager.finalize()``."""
        if self.aees is None:
            return
        self.aees.finalize()
        self._snapshot_closed()


@dataclass
class Control:
    """What :func:`build_control` returns: the AEES wrapper (None for baseline), its logger, the stepper."""

    aees: Any
    logger: ControllerLogger | None
    stepper: Stepper


def build_control(optimizer: torch.optim.Optimizer, cfg: Any, **aees_options: Any) -> Control:
    """Wrap ``optimizer`` as the config says (protocol 5): AEES (``aees_impl``: FastAEES or
    stock) for adaptive/random runs, nothing for baseline; ``aees_options`` go to the AEES
    constructor (an ``aees_class`` among them replaces the configured engine)."""
    mode = control_mode(cfg)
    # An explicit ``aees_class`` replaces the engine the config selects (and its keywords).
    engine = {} if "aees_class" in aees_options else aees_engine(cfg)
    aees = build_aees(optimizer, mode, cfg, **engine, **aees_options)
    logger = None
    if aees is not None:
        logger = ControllerLogger(
            aees, structured_control_mode=cfg.structured_control_mode,
            context_mode=cfg.context_mode, control_mode=mode,
            lr_candidates=cfg.lr_candidates, noise_candidates=cfg.noise_candidates)
    return Control(aees=aees, logger=logger, stepper=Stepper(optimizer, aees, logger))
