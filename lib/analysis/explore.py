"""Helpers of ``notebooks/explore_aees.ipynb``: short AEES runs on the CIFAR-100 stand-in, by hand.

A small CNN (the mechanics of AEES do not depend on the network) trains for a few
hundred steps on the ``mini`` profile's stand-in images, wrapped by the stock
``pulseopt.AEES``; every step loss is kept, so an episode's reward can be recomputed
by hand (protocol 5.6: EMA of the episode's step losses, α = 0.1, started at its
first loss; reward = log(EMA_start + ε) − log(EMA_end + ε) − λ·instability, clipped).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import pandas as pd
import torch
import torch.nn.functional as F
from pulseopt import AEES
from torch import nn

from lib import DATA_DIR
from lib.config import PROFILES
from lib.data.cifar import ensure_cifar100

EMA_ALPHA = 0.1


@cache
def standin_data() -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised stand-in training images and labels (the ``mini`` profile's stand-in data set)."""
    mini = PROFILES["mini"]["cifar100"]
    data = ensure_cifar100(DATA_DIR / "cifar100-standin", standin=True, seed=0,
                           n_train=mini["standin_n_train"], n_test=mini["standin_n_test"])
    x = data.train_images.float() / 255.0
    x = (x - x.mean(dim=(0, 2, 3), keepdim=True)) / x.std(dim=(0, 2, 3), keepdim=True)
    return x, torch.tensor(data.train_targets)


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


def short_run(*, lr_candidates: Sequence[float] = (0.5, 1.0, 2.0), noise_candidates: Sequence[float] = (0.0,),
              episode_length: int = 20, steps: int = 300, seed: int = 0, lr: float = 1e-3, batch_size: int = 64,
              structured_control_mode: str = "independent", control_mode: str = "adaptive") -> ShortRun:
    """Train the small CNN for ``steps`` steps under AEES and return its step losses and logs."""
    x, y = standin_data()
    torch.manual_seed(seed)
    model = small_cnn()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    aees = AEES(opt, lr_candidates=list(lr_candidates), noise_candidates=list(noise_candidates),
                episode_length=episode_length, control_mode=control_mode,
                structured_control_mode=structured_control_mode, seed=seed)
    gen = torch.Generator().manual_seed(seed)
    losses = []
    for step in range(steps):
        idx = torch.randint(0, len(y), (batch_size,), generator=gen)
        aees.step_start(step)
        opt.zero_grad()
        loss = F.cross_entropy(model(x[idx]), y[idx])
        loss.backward()
        aees.step_end(loss)
        losses.append(float(loss.item()))
    aees.finalize()
    settings = {"lr_candidates": list(lr_candidates), "noise_candidates": list(noise_candidates),
                "episode_length": episode_length, "steps": steps, "seed": seed, "mode": structured_control_mode}
    return ShortRun(losses, aees.get_logs(), settings)


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
