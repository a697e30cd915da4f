"""The LR in effect at each optimizer step under a torch scheduler (shared by the scheduler tests)."""

from collections.abc import Callable
from typing import Any

import torch


def lr_trace(optimizer: type[torch.optim.Optimizer], scheduler: Callable[[torch.optim.Optimizer], Any],
             steps: int) -> list[float]:
    """Base LR 1; ``scheduler(opt)`` may return None (no schedule). The scheduler steps after
    every optimizer step, and the LR is read before it."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = optimizer([p], lr=1.0)
    sched = scheduler(opt)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        if sched is not None:
            sched.step()
    return out
