"""The run state every task's run carries; :mod:`lib.train.loop`, :mod:`lib.train.checkpoint`
and the RunResult builders read it. ``CifarRun`` and ``TextRun`` add their task's own state."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from lib.control import ControllerLogger
from lib.results import FlopAccumulator


def epoch_metrics() -> dict[str, list]:
    """The per-epoch series every task records (protocol 7.2)."""
    return {"train_losses": [], "train_accuracies": [], "val_accuracies": [],
            "epoch_wall_clock_seconds": [], "epoch_tflops": [], "epoch_lrs": []}


@dataclass(kw_only=True)
class RunState:
    """What every task's run carries and the loop, checkpoints and RunResult read."""

    corrupted: torch.Tensor | None = None  # bool mask on the device (noisy runs)
    clean_labels: torch.Tensor | None = None  # noisy runs: the original train labels on the device
    model: torch.nn.Module | None = None
    optimizer: torch.optim.Optimizer | None = None
    aees: Any = None
    scheduler: Any = None
    logger: ControllerLogger | None = None
    stepper: Any = None  # lib.control.wiring.Stepper
    data_generator: torch.Generator | None = None  # data order (and augmentation), seeded from the run seed
    flops: FlopAccumulator = field(default_factory=FlopAccumulator)
    metrics: dict[str, list] = field(default_factory=epoch_metrics)
    subset_metrics: dict[str, list] = field(default_factory=dict)
    best: dict[str, Any] = field(default_factory=lambda: {"val": 0.0, "epoch": None})
    epoch: int = 0
    episodes_reported: int = 0
    wall_start: float | None = None
    measured_flops: dict[str, Any] | None = None
    output: Path | None = None
