"""Pieces every task's loop shares: seeding, device, the AEES-aware optimizer step, progress lines."""

from __future__ import annotations

import contextlib
import copy
import random
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from lib import ROOT
from lib.control import ControllerLogger


def set_seed(seed: int) -> None:
    """Protocol 13: python ``random``, torch (and CUDA), cuDNN deterministic, no benchmark."""
    random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    if torch.backends.cudnn.is_available():
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True


def resolve_device(choice: str) -> torch.device:
    """``auto`` = CUDA when available, else CPU; ``cuda`` without a GPU is an error."""
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if choice == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device: 'cuda' was requested but no CUDA device is visible; use device=auto or cpu")
    return torch.device(choice)


def resolve_output(path: str | Path) -> Path:
    """An output path; relative paths are relative to the repository root, not the cwd."""
    path = Path(path)
    return path if path.is_absolute() else ROOT / path


def aees_engine(cfg: Any) -> dict[str, Any]:
    """Keyword arguments selecting the AEES implementation (``aees_impl``, ``update_norm``)."""
    if cfg.aees_impl == "stock":
        from pulseopt import AEES
        return {"aees_class": AEES}
    return {"update_norm": cfg.update_norm}


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """bf16 autocast for ``precision=bf16``; a no-op for fp32 (the thesis setting)."""
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def compiled(model: torch.nn.Module) -> Any:
    """``torch.compile`` once per process and model (the compiled module is reused)."""
    return torch.compile(model)


def measure_step_flops(model: torch.nn.Module, train_batch: Any, loss_fn: Any) -> dict[str, Any]:
    """FLOPs of one training step (forward + backward of ``train_batch``) and of one eval
    example, counted by ``torch.utils.flop_counter`` on a copy of the model (no state or RNG
    of the run is touched). ``loss_fn(model, batch) -> loss``; ``batch[:1]``-style slicing of
    ``train_batch`` gives the eval example (tensor or dict of tensors)."""
    from torch.utils.flop_counter import FlopCounterMode

    probe = copy.deepcopy(model)
    with FlopCounterMode(display=False) as train_counter:
        loss_fn(probe, train_batch).backward()
    one = ({k: v[:1] for k, v in train_batch.items()} if isinstance(train_batch, dict)
           else tuple(t[:1] for t in train_batch))
    probe.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as eval_counter:
        loss_fn(probe, one)
    del probe
    return {
        "measured_flops_per_step": float(train_counter.get_total_flops()),
        "measured_eval_flops_per_example": float(eval_counter.get_total_flops()),
        "method": "torch.utils.flop_counter: forward + backward of one full batch (optimizer "
                  "update and elementwise ops not counted); FLOPs = 2 x multiply-accumulates",
    }


class Stepper:
    """One optimizer step with or without AEES, and the episode-closing bookkeeping.

    ``optimizer.zero_grad`` -> forward/backward by the caller -> :meth:`step`.
    With AEES, ``step_start`` runs before the forward pass and ``step_end`` performs
    ``optimizer.step``; controller snapshots are taken after each closed episode (protocol 1.5).
    """

    def __init__(self, optimizer: torch.optim.Optimizer, aees: Any | None,
                 logger: ControllerLogger | None, episode_length: int) -> None:
        self.optimizer = optimizer
        self.aees = aees
        self.logger = logger
        self.episode_length = episode_length
        self.global_step = 0

    def start(self) -> None:
        if self.aees is not None:
            self.aees.step_start(self.global_step)
        self.optimizer.zero_grad(set_to_none=True)

    def finish(self, loss: torch.Tensor) -> None:
        if self.aees is None:
            self.optimizer.step()
        else:
            self.aees.step_end(loss)
            # Episodes start at step 0 and are contiguous: one closes every episode_length steps.
            if (self.global_step + 1) % self.episode_length == 0:
                self.logger.on_episode_closed()
        self.global_step += 1

    def finalize(self) -> None:
        """Close a trailing partial episode (and snapshot it), as ``episode_manager.finalize()``."""
        if self.aees is None:
            return
        self.aees.finalize()
        if self.global_step % self.episode_length != 0:
            self.logger.on_episode_closed()
        closed = len(self.aees.get_logs()["episode_rewards"])
        if closed != self.logger.count:
            raise RuntimeError(f"controller snapshots ({self.logger.count}) out of step with "
                               f"closed episodes ({closed})")


class EpochTimer:
    """Wall-clock of one epoch (train pass + evaluation), synchronised on CUDA."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.t0 = 0.0

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def start(self) -> None:
        self._sync()
        self.t0 = time.perf_counter()

    def stop(self) -> float:
        self._sync()
        return time.perf_counter() - self.t0


def episode_summary(aees: Any | None, since: int) -> tuple[str, int]:
    """Short text on the episodes closed since index ``since`` (for the epoch line)."""
    if aees is None:
        return "", since
    logs = aees.get_logs()
    n = len(logs["episode_rewards"])
    if n == since:
        return "", n
    lrs = logs["selected_lr_values"][since:]
    sig = logs["selected_noise_values"][since:]
    rew = logs["episode_rewards"][since:]
    arms = " ".join(f"x{lr:g}" + (f"/s{s:g}" if s else "") for lr, s in zip(lrs, sig, strict=True))
    return f" | episodes {since + 1}-{n}: {arms} mean r {sum(rew) / len(rew):+.3f}", n
