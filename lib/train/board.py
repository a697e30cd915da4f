"""TensorBoard scalars of a run, beside its output: ``<output folder>/tensorboard/<output stem>/``.

For a grid run that is ``results/<profile>/<grid>/tensorboard/<run>/``, so ``make tensorboard
GRID=<grid>`` shows every run of a grid side by side. Written by the training loop
(:mod:`lib.train.loop`) after each epoch, outside the epoch's timed span:

- per epoch (step = the 1-based epoch): ``accuracy/val``, ``accuracy/train``, ``loss/train``,
  ``lr/base`` (the scheduler's LR, before an AEES multiplier), ``time/epoch_seconds`` and, with
  label noise, the training-subset fits ``noise/<subset>`` (``train_corrupted_accuracy_vs_noisy_labels``
  is the corrupted-label fit);
- per AEES episode, in the sub-run ``<run>/episodes`` (step = the episode number):
  ``aees/lr_multiplier``, ``aees/noise_sigma`` (the arm chosen) and ``aees/reward``.

A run resumed from a checkpoint purges what the interrupted process wrote past the checkpoint
(``purge_step``), so each curve is the one of an uninterrupted run. ``AEES_TENSORBOARD=0`` turns the
scalars off (``1``, the default, on); nothing here enters a RunResult. The event files are not
part of the committed archive (``.gitignore``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["ENV", "Board", "enabled", "log_dir"]

ENV = "AEES_TENSORBOARD"
FOLDER = "tensorboard"


def enabled() -> bool:
    """Whether runs write TensorBoard scalars (``AEES_TENSORBOARD``: ``1``, the default, or ``0``)."""
    value = os.environ.get(ENV, "1").strip()
    if value not in ("0", "1"):
        raise ValueError(f"{ENV} must be 1 (write TensorBoard scalars, the default) or 0 (do not); got {value!r}")
    return value == "1"


def log_dir(output: Path | str) -> Path:
    """The TensorBoard folder of the run writing ``output``."""
    output = Path(output)
    return output.parent / FOLDER / output.stem


class Board:
    """The two writers of one run (epochs, episodes); :meth:`close` at the end of training."""

    def __init__(self, output: Path, epoch: int, episodes: int) -> None:
        from torch.utils.tensorboard import SummaryWriter  # only when enabled: tensorboard is ~0.3 s to import

        root = log_dir(output)
        # purge_step: events at or after it (written by a process that died after the checkpoint) are dropped
        self.epochs = SummaryWriter(str(root), purge_step=epoch + 1 if epoch else None)
        self.episodes = SummaryWriter(str(root / "episodes"), purge_step=episodes + 1 if episodes else None)

    def epoch(self, epoch: int, scalars: dict[str, float]) -> None:
        for tag, value in scalars.items():
            self.epochs.add_scalar(tag, value, epoch)
        self.epochs.flush()

    def episodes_closed(self, first: int, logs: dict[str, Any], since: int) -> None:
        """Episodes ``since`` .. end of ``logs`` (AEES ``get_logs()``), numbered from ``first``."""
        for k, (lr, sigma, reward) in enumerate(zip(logs["selected_lr_values"][since:],
                                                    logs["selected_noise_values"][since:],
                                                    logs["episode_rewards"][since:], strict=True)):
            step = first + k
            self.episodes.add_scalar("aees/lr_multiplier", lr, step)
            self.episodes.add_scalar("aees/noise_sigma", sigma, step)
            self.episodes.add_scalar("aees/reward", reward, step)
        self.episodes.flush()

    def close(self) -> None:
        self.epochs.close()
        self.episodes.close()
