"""The live record of a running run: ``<output>.progress``, rewritten atomically at every epoch end.

``make runs-status`` (:mod:`lib.watch`) reads these records to show how the running runs are doing,
for ``make -j`` and Slurm alike (the record lies beside the output, on the shared file system), so
it never parses notebooks or logs. A record is one small JSON object:

``format``, ``epoch`` (epochs done), ``epochs`` (the run's total), ``val`` / ``best`` /
``best_epoch`` (validation accuracy of the last epoch, the best so far and its 1-based epoch),
``lr`` (the base LR of the last epoch, before an AEES multiplier), ``arm`` (the last AEES choice
of the epoch, ``{"lr": multiplier, "sigma": noise}``, or null), ``seconds_per_epoch`` (wall clock
per epoch over the last :data:`WINDOW` epochs of this process: evaluation and checkpoint included),
``started`` and ``time`` (Unix seconds: this process's start of training, this write), ``pid`` and
``host`` of the training process, ``slurm_task`` (``<array job>_<task>`` under Slurm, else null) and
``resumed_at`` (the epoch a checkpoint resumed, else 0).

The first record is written when training starts (``epoch`` = 0, or the resumed epoch), so a run
that dies in its first epoch is still seen. A finished run removes its record with its lock
(:func:`remove`, after the RunResult is written); a failed or killed run leaves it, and the watch
tells which from the manifest and the process. Nothing here enters a RunResult or a checkpoint.

No torch import: the watch reads records with :func:`read`.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections import deque
from pathlib import Path
from typing import Any

from lib.atomic import write_text_atomic
from lib.vocab import PROGRESS_SUFFIX, beside

__all__ = ["FORMAT", "SUFFIX", "WINDOW", "Live", "path_of", "read", "remove"]

FORMAT = 1
SUFFIX = PROGRESS_SUFFIX  # lib.vocab
WINDOW = 5  # epochs averaged for seconds per epoch


def path_of(output: Path | str) -> Path:
    """The live record of the run writing ``output``: ``<output>.progress``."""
    output = Path(output)
    return beside(output, SUFFIX)


def read(path: Path) -> dict[str, Any] | None:
    """A record, or None when it is absent or not a record (a reader never fails on one)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    if not all(isinstance(data.get(k), (int, float)) for k in ("epoch", "epochs", "time")):
        return None
    return data


def remove(output: Path | str) -> None:
    path_of(output).unlink(missing_ok=True)


def _slurm_task() -> str | None:
    job, task = os.environ.get("SLURM_ARRAY_JOB_ID"), os.environ.get("SLURM_ARRAY_TASK_ID")
    if job and task:
        return f"{job}_{task}"
    return os.environ.get("SLURM_JOB_ID") or None


class Live:
    """Writes one run's record: :meth:`start` when training starts, :meth:`epoch_end` after each epoch."""

    def __init__(self, output: Path, epochs: int) -> None:
        self.path = path_of(output)
        self.epochs = epochs
        self.times: deque[float] = deque(maxlen=WINDOW + 1)
        self.fields: dict[str, Any] = {}

    def _write(self, epoch: int, now: float) -> None:
        try:
            self._write_record(epoch, now)
        except OSError as exc:  # a full disk must not stop training: the watch then sees a stalled record
            print(f"warning: progress record {self.path.name} not written ({exc}); training goes on", flush=True)

    def _write_record(self, epoch: int, now: float) -> None:
        self.times.append(now)
        spans = len(self.times) - 1
        per_epoch = (self.times[-1] - self.times[0]) / spans if spans else None
        record = {"format": FORMAT, "epoch": epoch, "epochs": self.epochs, **self.fields,
                  "seconds_per_epoch": per_epoch, "time": now}
        write_text_atomic(self.path, json.dumps(record, separators=(",", ":")) + "\n")

    def start(self, epoch: int) -> None:
        """Training starts (``epoch`` > 0: resumed from a checkpoint after that many epochs)."""
        now = time.time()
        self.fields = {"val": None, "best": None, "best_epoch": None, "lr": None, "arm": None,
                       "started": now, "pid": os.getpid(), "host": socket.gethostname(),
                       "slurm_task": _slurm_task(), "resumed_at": epoch}
        self._write(epoch, now)

    def epoch_end(self, epoch: int, val: float, best: float, best_epoch: int | None, lr: float,
                  arm: dict[str, float] | None) -> None:
        self.fields.update(val=val, best=best, best_epoch=best_epoch, lr=lr, arm=arm)
        self._write(epoch, time.time())
