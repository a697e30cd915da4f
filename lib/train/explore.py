"""Short AEES runs for ``notebooks/explore_aees.ipynb``, on the project's loop.

A run is the CIFAR adapter's run (:mod:`lib.train.cifar`: seeding, the ``mini`` profile's
stand-in images with their augmented batches, evaluation) with a small CNN in place of the
ResNet-18 (the mechanics of AEES do not depend on the network), the stock ``pulseopt.AEES``
wired by :func:`lib.control.wiring.build_control`, and one loop epoch of ``steps`` optimizer steps
(the data order continues over as many passes as that takes). Every step loss is kept, so an
episode's reward can be recomputed by hand (protocol 5.6: EMA of the episode's step losses,
α = 0.1, started at its first loss; reward = log(EMA_start + ε) − log(EMA_end + ε) −
λ·instability, clipped).
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from lib.config import resolve
from lib.control import build_optimizer
from lib.control.wiring import build_control
from lib.data.cifar import train_batches
from lib.train import cifar, guard, loop

EMA_ALPHA = 0.1


def small_cnn(n_classes: int = 100) -> nn.Module:
    """Two conv layers on 16×16 downsampled images: milliseconds per step on a CPU."""
    return nn.Sequential(nn.AvgPool2d(2), nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(32, n_classes))


@dataclass
class ShortRun:
    """One short AEES run: every step loss and pulseopt's episode logs."""

    step_losses: list[float]
    logs: dict[str, list[Any]]
    settings: dict[str, Any]

    def episode_losses(self, k: int) -> list[float]:
        """Step losses of episode ``k`` (from its logged start/end steps)."""
        start, end = self.logs["episode_start_steps"][k], self.logs["episode_end_steps"][k]
        return self.step_losses[start:end + 1]

    def episodes(self) -> pd.DataFrame:
        """One row per episode: arm chosen, reward."""
        return pd.DataFrame({"episode": range(1, len(self.logs["episode_rewards"]) + 1),
                             "lr_multiplier": self.logs["selected_lr_values"],
                             "sigma": self.logs["selected_noise_values"],
                             "reward": self.logs["episode_rewards"]})


def _task(steps: int, losses: list[float]) -> loop.Task:
    """The CIFAR task with ``steps`` batches per epoch, every step loss appended to ``losses``."""

    def batches(run: cifar.CifarRun) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        done = 0
        while True:
            for batch in train_batches(run.data.train_images, run.targets, batch_size=run.cfg.batch_size,
                                       generator=run.data_generator, device=run.device):
                yield batch
                done += 1
                if done == steps:
                    return

    def forward(run: cifar.CifarRun, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = run.model(x)
        loss = F.cross_entropy(logits, y)
        losses.append(float(loss.item()))
        return loss, logits

    return loop.Task(batches=batches, forward=forward, count_batch=lambda run, x, y: None,
                     evaluate=cifar.TASK.evaluate, scheduler_unit="epoch")


def short_run(*, lr_candidates: Sequence[float] = (0.5, 1.0, 2.0), noise_candidates: Sequence[float] = (0.0,),
              episode_length: int = 20, steps: int = 300, seed: int = 0, lr: float = 1e-3, batch_size: int = 64,
              structured_control_mode: str = "independent", control_mode: str = "adaptive") -> ShortRun:
    """Train the small CNN for ``steps`` steps under AEES and return its step losses and logs.

    It writes no RunResult, so its output (and the run lock on it) lives in a private temporary folder,
    released when it returns: short runs of a notebook and of a test never lock each other out."""
    losses: list[float] = []
    with tempfile.TemporaryDirectory(prefix="aees-short-run-") as tmp:
        cfg = resolve("cifar100", "mini", {
            "control_mode": control_mode, "lr_candidates": list(lr_candidates),
            "noise_candidates": list(noise_candidates), "episode_length": episode_length,
            "structured_control_mode": structured_control_mode, "seed": seed, "lr": lr, "batch_size": batch_size,
            "optimizer": "AdamW", "weight_decay": 1e-4, "lr_scheduler": "none", "epochs": 1,
            "aees_impl": "stock", "checkpoint_every": 0, "device": "cpu", "output": str(Path(tmp) / "short_run.json")})
        run = cifar.start(cfg)
        try:
            cifar.load_data(run)
            run.model = run.forward = small_cnn().to(run.device)
            run.optimizer = build_optimizer(run.model.parameters(), cfg.optimizer, cfg.lr, cfg.weight_decay)
            control = build_control(run.optimizer, cfg)
            run.aees, run.logger, run.stepper = control.aees, control.logger, control.stepper
            loop.fit(run, _task(steps, losses), watch=False)
        finally:
            guard.release(run.output)
    settings = {"lr_candidates": list(lr_candidates), "noise_candidates": list(noise_candidates),
                "episode_length": episode_length, "steps": steps, "seed": seed, "mode": structured_control_mode}
    return ShortRun(losses, run.aees.get_logs(), settings)


def reward_by_hand(step_losses: Sequence[float], *, eps: float = 1e-8, lam: float = 0.0,
                   clip: tuple[float, float] = (-1.0, 1.0)) -> dict[str, Any]:
    """Protocol 5.6 written out: the EMA trace, its start and end, the instability term, the reward."""
    ema = [float(step_losses[0])]
    for loss in step_losses[1:]:
        ema.append(EMA_ALPHA * loss + (1 - EMA_ALPHA) * ema[-1])
    base = math.log(ema[0] + eps) - math.log(ema[-1] + eps)
    mean = sum(step_losses) / len(step_losses)
    instability = sum((v - mean) ** 2 for v in step_losses) / len(step_losses) / (mean * mean + eps)
    raw = base - lam * instability
    return {"ema": ema, "ema_start": ema[0], "ema_end": ema[-1], "reward_base": base,
            "instability": instability, "reward": min(max(raw, clip[0]), clip[1])}


def compare_settings(settings: dict[str, dict[str, Any]], *, steps: int = 300,
                     seeds: Sequence[int] = (0, 1)) -> pd.DataFrame:
    """Short runs per named setting and seed: episodes, arms and joint pairs tried, reward spread, loss."""
    rows = []
    for name, kwargs in settings.items():
        for seed in seeds:
            run = short_run(steps=steps, seed=seed, **kwargs)
            logs = run.logs
            pairs = set(zip(logs["selected_lr_values"], logs["selected_noise_values"]))
            n_pairs = len(run.settings["lr_candidates"]) * len(run.settings["noise_candidates"])
            rewards = pd.Series(logs["episode_rewards"], dtype=float)
            rows.append({"setting": name, "seed": seed, "episodes": len(rewards),
                         "pairs_tried": f"{len(pairs)}/{n_pairs}", "reward_sd": round(float(rewards.std()), 4),
                         "last_50_loss": round(sum(run.step_losses[-50:]) / 50, 3)})
    return pd.DataFrame(rows)
