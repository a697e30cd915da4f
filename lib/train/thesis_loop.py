"""The thesis runner's optimizer objects and training step (``machinery=thesis``; protocol 1.4, 1.5, 2.4).

The thesis runners did not use ``pulseopt.AEES``. They built pulseopt's optimizer wrapper
(``AdaptiveModeAdamW`` / ``AdaptiveModeSGD``, initial mode = the first LR and noise candidates,
noise seed = the run seed) and drove it with a ``StructuredEpisodeManager`` of their own making
(controllers per axis with more than one candidate, seeds of protocol 5.2). Their step, in order:

    mode = manager.on_step_start(step); optimizer.set_mode(mode)     # episode-managed runs
    optimizer.zero_grad(set_to_none=True); loss = f(model(x), y); loss.backward()
    optimizer.step()        # the wrapper: parameter snapshot, LR x multiplier, gradient noise, the
                            # step, the update norm read back one tensor at a time (.item() each)
    scheduler.step()        # text tasks only (step-level schedules)
    total_loss += loss.item() * b;  total_correct += (pred == y).sum().item()   # two host syncs
    manager.on_step_end(loss.item(), update_norm=optimizer.compute_update_norm())
    snapshot the controllers if an episode closed (the count read through manager.get_logs())

:func:`build` makes those objects, :class:`ThesisStepper` and :func:`train_pass` take that step.
``pulseopt.AEES`` takes its snapshot at ``step_start`` and reads the loss before the optimizer
step; the decisions are the same (same controllers, seeds, reward, update norm;
``tests/test_machinery.py`` checks it), the per-step work and its order are not.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
from pulseopt import (
    AdaptiveModeAdamW,
    AdaptiveModeSGD,
    BucketedContextualController,
    CandidateConfig,
    DiscountedUCBController,
    NormalizedLossImprovementReward,
    RandomController,
    StructuredEpisodeManager,
    TREND_CONTEXT_BUCKETS,
    build_candidate_configs_from_axes,
)

from lib.control import ControllerLogger
from lib.train import progress
from lib.train.common import EpochTimer, record_subset_epoch, subset_hits
from lib.train.rehearsal import capped

WRAPPERS = {"AdamW": AdaptiveModeAdamW, "SGD": AdaptiveModeSGD}
EMA_ALPHA = 0.1  # the runners' fixed ema_alpha (protocol 1.1)


class ThesisEpisodes:
    """The runner's episode-managed pair: pulseopt's wrapper optimizer and its episode manager.

    Offers what the project reads of an AEES object (``episode_manager``, ``get_logs``,
    ``finalize``), so controller snapshots and the RunResult are built as for any run."""

    def __init__(self, optimizer: AdaptiveModeAdamW | AdaptiveModeSGD, manager: StructuredEpisodeManager) -> None:
        self.optimizer = optimizer
        self.episode_manager = manager

    def get_logs(self) -> dict[str, list[object]]:
        return self.episode_manager.get_logs()

    def finalize(self) -> None:
        self.episode_manager.finalize()


def _quiet(cls: type, *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():  # deprecated in pulseopt 0.3.0; it is what the thesis ran
        warnings.simplefilter("ignore", DeprecationWarning)
        return cls(*args, **kwargs)


def _wrapper(params: Any, cfg: Any, mode: CandidateConfig) -> torch.optim.Optimizer:
    extra = {"momentum": cfg.momentum} if cfg.optimizer == "SGD" else {}
    return _quiet(WRAPPERS[cfg.optimizer], params, lr=cfg.lr, weight_decay=cfg.weight_decay,
                  mode=mode, noise_seed=cfg.seed, **extra)


def _axis_controller(n_arms: int, mode: str, seed: int, context_mode: str) -> Any:
    """The runner's controller for one axis; None for a fixed (single-candidate) axis."""
    if n_arms == 1:
        return None
    if mode == "random":
        return RandomController(n_arms=n_arms, random_seed=seed)
    if context_mode == "trend":
        return BucketedContextualController(n_arms=n_arms, bucket_names=list(TREND_CONTEXT_BUCKETS),
                                            random_seed=seed, prior_from_global=True)
    return DiscountedUCBController(n_arms=n_arms, random_seed=seed)


def _manager(cfg: Any, mode: str) -> StructuredEpisodeManager:
    lrs, noises = list(cfg.lr_candidates), list(cfg.noise_candidates)
    n_noise = len(noises)
    if cfg.structured_control_mode == "independent" or len(lrs) == 1:
        noise: Any = _axis_controller(n_noise, mode, cfg.seed + 101, cfg.context_mode)
    else:  # conditional: one noise controller per LR arm
        noise = [_axis_controller(n_noise, mode, cfg.seed + 101 + i, cfg.context_mode) for i in range(len(lrs))]
    reward = NormalizedLossImprovementReward(
        reward_epsilon=cfg.reward_epsilon, reward_instability_lambda=cfg.reward_instability_lambda,
        reward_clip_min=cfg.reward_clip_min, reward_clip_max=cfg.reward_clip_max)
    return StructuredEpisodeManager(
        lr_candidates=lrs, noise_candidates=noises,
        lr_controller=_axis_controller(len(lrs), mode, cfg.seed, cfg.context_mode), noise_controller=noise,
        reward_fn=reward, episode_length=cfg.episode_length, structured_control_mode=cfg.structured_control_mode,
        context_mode=cfg.context_mode, context_trend_window=cfg.context_trend_window,
        context_trend_epsilon=cfg.context_trend_epsilon, ema_alpha=EMA_ALPHA)


def build(params: Any, cfg: Any, mode: str) -> tuple[torch.optim.Optimizer, ThesisEpisodes | None,
                                                      ControllerLogger | None, ThesisStepper]:
    """The objects the thesis runner built for control mode ``mode`` (protocol 1.4, 5.1):

    * ``baseline``: plain torch AdamW; for SGD pulseopt's wrapper in mode ``base`` (×1, σ 0);
    * ``adaptive`` / ``random``: the wrapper in the first candidates' mode and an episode manager.

    Returns ``(optimizer, episodes or None, controller logger or None, stepper)``."""
    if cfg.optimizer not in WRAPPERS:
        raise ValueError(f"optimizer: the thesis machinery runs AdamW or SGD, got {cfg.optimizer!r}")
    if mode == "baseline":
        if cfg.optimizer == "AdamW":
            optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        else:
            optimizer = _wrapper(params, cfg, CandidateConfig(name="base"))
        return optimizer, None, None, ThesisStepper(optimizer, None, None)
    if mode not in ("adaptive", "random"):
        raise ValueError(f"control mode must be baseline, adaptive or random; got {mode!r}")
    lr0, noise0 = cfg.lr_candidates[0], cfg.noise_candidates[0]
    first = CandidateConfig(name=build_candidate_configs_from_axes([lr0], [noise0])[0].name,
                            lr_multiplier=lr0, noise_std=noise0)
    optimizer = _wrapper(params, cfg, first)
    episodes = ThesisEpisodes(optimizer, _manager(cfg, mode))
    logger = ControllerLogger(episodes, structured_control_mode=cfg.structured_control_mode,
                              context_mode=cfg.context_mode, control_mode=mode,
                              lr_candidates=cfg.lr_candidates, noise_candidates=cfg.noise_candidates)
    return optimizer, episodes, logger, ThesisStepper(optimizer, episodes, logger)


class ThesisStepper:
    """The runner's step around the forward/backward pass: :meth:`start` -> forward, backward ->
    :meth:`step` -> [scheduler, FLOPs, the metric reads] -> :meth:`end`."""

    def __init__(self, optimizer: torch.optim.Optimizer, episodes: ThesisEpisodes | None,
                 logger: ControllerLogger | None) -> None:
        self.optimizer = optimizer
        self.manager = None if episodes is None else episodes.episode_manager
        self.logger = logger
        self.global_step = 0

    def start(self) -> None:
        if self.manager is not None:
            self.optimizer.set_mode(self.manager.on_step_start(self.global_step))
        self.optimizer.zero_grad(set_to_none=True)

    def step(self) -> None:
        self.optimizer.step()

    def end(self, loss: torch.Tensor) -> None:
        if self.manager is not None:
            update_norm = self.optimizer.compute_update_norm()
            self.manager.on_step_end(float(loss.item()), update_norm=update_norm)
            self._snapshot_closed()
        self.global_step += 1

    def _snapshot_closed(self) -> None:
        closed = len(self.manager.get_logs()["episode_rewards"])  # as the runner counted, every step
        while self.logger.count < closed:
            self.logger.on_episode_closed()

    def finalize(self) -> None:
        """Close a trailing partial episode and snapshot it (``episode_manager.finalize()``)."""
        if self.manager is None:
            return
        self.manager.finalize()
        self._snapshot_closed()


def train_pass(run: Any, task: Any) -> tuple[float, float, float]:
    """One pass over the training batches as the thesis runner made it: per step the loss and the
    correct count are read to the host (``.item()``) and summed in Python. Returns mean loss,
    accuracy and the pass's seconds (what ``lib.train.loop.train_pass`` returns)."""
    model, dev = run.model, run.device
    model.train()
    total_loss, total_correct, n = 0.0, 0, 0
    subset = torch.zeros(3, dtype=torch.long, device=dev)  # noisy CIFAR: the project's per-epoch subsets
    timer = EpochTimer(dev)
    timer.start()
    total, cap = task.steps_per_epoch(run), run.cfg.rehearsal_max_steps
    total = min(total, cap) if cap and total is not None else total
    desc = f"epoch {run.epoch + 1}/{run.cfg.epochs}"
    for inputs, labels, idx in progress.steps(capped(task.batches(run), run.cfg), total, desc):
        run.stepper.start()
        loss, logits = task.forward(run, inputs, labels)  # fp32: machinery=thesis allows no autocast
        loss.backward()
        run.stepper.step()
        if task.scheduler_unit == "step" and run.scheduler is not None:
            run.scheduler.step()
        task.count_batch(run, inputs, labels)
        pred = logits.argmax(dim=1)
        size = int(labels.size(0))
        total_loss += float(loss.item()) * size
        n += size
        total_correct += int((pred == labels).sum().item())
        if run.corrupted is not None:
            with torch.no_grad():
                subset += subset_hits(pred == labels, pred, run.clean_labels[idx], run.corrupted[idx])
        run.stepper.end(loss)
    seconds = timer.stop()
    if run.corrupted is not None:
        record_subset_epoch(run.subset_metrics, subset, n, run.corrupted)
    return total_loss / max(n, 1), total_correct / max(n, 1), seconds
