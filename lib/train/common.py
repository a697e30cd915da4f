"""The run environment and per-step measurements both tasks (and the bench) share: seeding and
device choice (protocol 13), bf16 autocast, the FLOP probe, the clean / corrupted subset
accuracies and the epoch timer.

They stay here, not in :mod:`lib.train.loop`, because the bench (``lib.bench``) and the task
adapters use them without the loop (the subset accuracies: the loop counts them, the task
adapters and tests read their ``SUBSET_KEYS``); the RunResult is built in
:mod:`lib.results.runresult`."""

from __future__ import annotations

import contextlib
import copy
import random
import time
from typing import Any

import torch



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


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """bf16 autocast for ``precision=bf16``; a no-op for fp32 (the thesis setting)."""
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def measure_step_flops(model: torch.nn.Module, train_batch: Any, loss_fn: Any, *, meta: bool = False) -> dict[str, Any]:
    """FLOPs of one training step (forward + backward of ``train_batch``) and of one eval
    example, counted by ``torch.utils.flop_counter`` on a copy of the model (no state or RNG
    of the run is touched). ``loss_fn(model, batch) -> loss``; ``batch[:1]``-style slicing of
    ``train_batch`` gives the eval example (tensor or dict of tensors). ``meta=True`` counts on the
    meta device (the same counts from the shapes, no arithmetic; for models without data-dependent
    control flow, such as the CIFAR ResNet)."""
    from torch.utils.flop_counter import FlopCounterMode

    probe = copy.deepcopy(model)
    if meta:
        probe = probe.to("meta")
        train_batch = ({k: v.to("meta") for k, v in train_batch.items()} if isinstance(train_batch, dict)
                       else tuple(t.to("meta") for t in train_batch))
    one = ({k: v[:1] for k, v in train_batch.items()} if isinstance(train_batch, dict)
           else tuple(t[:1] for t in train_batch))
    devices = [torch.cuda.current_device()] if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):  # dropout in the probe must not move the run's RNG
        with FlopCounterMode(display=False) as train_counter:
            loss_fn(probe, train_batch).backward()
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


SUBSET_KEYS = ("train_clean_accuracy", "train_corrupted_accuracy_vs_noisy_labels",
               "train_corrupted_accuracy_vs_clean_labels")  # epoch_subset_train_accuracies, in count order


def subset_hits(hit: torch.Tensor, pred: torch.Tensor, clean: torch.Tensor,
                corrupted: torch.Tensor) -> torch.Tensor:
    """One batch's hits in ``SUBSET_KEYS`` order (stays on the device): clean examples, corrupted
    examples against their noisy labels, corrupted examples against their clean labels."""
    return torch.stack([(hit & ~corrupted).sum(), (hit & corrupted).sum(),
                        ((pred == clean) & corrupted).sum()])


def record_subset_epoch(metrics: dict[str, list], hits: torch.Tensor, n: int,
                        corrupted: torch.Tensor) -> None:
    """Append one epoch's subset accuracies (``hits`` summed over a pass of ``n`` examples)."""
    n_corr = int(corrupted.sum())
    for key, c, d in zip(SUBSET_KEYS, hits.tolist(), [n - n_corr, n_corr, n_corr], strict=True):
        metrics[key].append(c / d if d else None)


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
