"""LR schedulers of the thesis: epoch-level for CIFAR (protocol 6.1), step-level for NLP (6.2).

The schedulers mutate the *base* LR; AEES multiplies it only for the duration of each step,
so schedules and AEES compose multiplicatively (6.3). They are never handed to AEES, which
would step them after every optimizer step.
"""

from __future__ import annotations

import math

import torch
from torch.optim.lr_scheduler import CosineAnnealingLR, LambdaLR, LRScheduler

SCHEDULERS = ("none", "cosine", "linear", "warmup_linear")


def _clamp01(x: float) -> float:
    return min(max(x, 0.0), 1.0)


def epoch_factor(name: str, epoch: int, span: int, warmup_epochs: int = 0) -> float:
    """Closed-form LR factor while training 0-based ``epoch`` (protocol 6.1 table).

    ``cosine`` is the closed form of CosineAnnealingLR; the scheduler itself uses torch's
    recursive form, equal up to float rounding.
    """
    if name == "none":
        return 1.0
    if name == "cosine":
        return (1.0 + math.cos(math.pi * epoch / span)) / 2.0
    if name == "linear":
        return max(0.0, 1.0 - _clamp01((epoch + 1) / span))
    if name == "warmup_linear":
        w = min(max(warmup_epochs, 0), span - 1)
        s = epoch + 1
        if w > 0 and s <= w:
            return s / w
        return 1.0 - _clamp01((s - w) / max(span - w, 1))
    raise ValueError(f"lr_scheduler: must be one of {', '.join(SCHEDULERS)}; got {name!r}")


def step_factor(name: str, step: int, span: int, warmup_steps: int = 0) -> float:
    """LR factor at 0-based optimizer step ``step`` (protocol 6.2 table)."""
    if name == "none":
        return 1.0
    if name == "cosine":
        return (1.0 + math.cos(math.pi * step / span)) / 2.0
    if name == "linear":
        return max(0.0, 1.0 - _clamp01(step / span))
    if name == "warmup_linear":
        w = min(max(warmup_steps, 0), span - 1)
        if w > 0 and step < w:
            return (step + 1) / w
        return 1.0 - _clamp01((step - w) / max(span - w, 1))
    raise ValueError(f"lr_scheduler: must be one of {', '.join(SCHEDULERS)}; got {name!r}")


def build_epoch_scheduler(optimizer: torch.optim.Optimizer, name: str, span: int,
                          warmup_epochs: int = 0) -> LRScheduler | None:
    """CIFAR scheduler, stepped once per epoch after evaluation; None for ``none``."""
    if name == "none":
        return None
    if name == "cosine":
        return CosineAnnealingLR(optimizer, T_max=span, eta_min=0.0)
    return LambdaLR(optimizer, lambda e: epoch_factor(name, e, span, warmup_epochs))


def nlp_warmup_steps(warmup_epochs: int, total_steps: int, epochs: int, span: int) -> int:
    """Warmup steps of the NLP warmup_linear schedule: clamp(int(warmup_epochs*total/epochs), 0, S-1)."""
    return min(max(int(warmup_epochs * total_steps / epochs), 0), span - 1)


def build_step_scheduler(optimizer: torch.optim.Optimizer, name: str, span: int,
                         warmup_steps: int = 0) -> LRScheduler | None:
    """NLP scheduler, stepped after every optimizer step; None for ``none``."""
    if name == "none":
        return None
    if name == "cosine":
        return CosineAnnealingLR(optimizer, T_max=span)
    return LambdaLR(optimizer, lambda k: step_factor(name, k, span, warmup_steps))
