"""Stop a run cleanly on request (Slurm time limit, preemption): checkpoint, then stop.

A run is asked to stop in either of two ways:

- the file ``<output>.stop`` exists (the Slurm batch script creates it when Slurm sends it
  the warning signal, ``--signal=B:USR1@<seconds>``; a user may create it by hand too);
- this process receives ``SIGUSR1`` (e.g. ``scancel --full --signal=USR1``); the handler is
  installed at the first :func:`check` and only in the main thread, where Python allows it.

:func:`check`, called once at the end of every epoch (after the regular checkpoint), then
writes the run's checkpoint and raises :class:`Preempted`. The next execution of the same
command resumes from that checkpoint (``lib.train.checkpoint``), so the RunResult is the one
of an uninterrupted run. A request that arrives after the last epoch is ignored: the run
finishes. ``lib.grids.runner`` turns the stop into exit code :data:`EXIT_PREEMPTED` and
removes the request file, and the batch script then requeues the task.

No torch import at module level: the runner imports the constants.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

from lib.vocab import STOP_SUFFIX, beside

EXIT_PREEMPTED = 75  # EX_TEMPFAIL: stopped on request, resumable from its checkpoint
_requested = {"signal": False, "installed": False}


class Preempted(RuntimeError):
    """The run stopped on request after writing its checkpoint; rerun it to resume."""


def stop_path(output: Path | str) -> Path:
    """The request file of a run: ``<output>.stop``."""
    output = Path(output)
    return beside(output, STOP_SUFFIX)


def _on_signal(signum: int, frame: Any) -> None:
    _requested["signal"] = True


def install() -> None:
    """Install the SIGUSR1 handler once (main thread only; the request file works everywhere)."""
    if _requested["installed"] or threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGUSR1, _on_signal)
    _requested["installed"] = True


def requested(output: Path | str) -> bool:
    return _requested["signal"] or stop_path(output).exists()


def check(run: Any) -> None:
    """End-of-epoch hook: on a stop request, write the checkpoint and raise :class:`Preempted`."""
    from lib.train import checkpoint  # torch: this module is imported by the torch-free grid runner

    install()
    if not requested(run.output) or run.epoch >= run.cfg.epochs:
        return
    _requested["signal"] = False
    path = checkpoint.checkpoint_path(run.output)
    if not run.cfg.checkpoint_every:
        raise Preempted(f"stopped on request after epoch {run.epoch}/{run.cfg.epochs} WITHOUT a checkpoint "
                        "(checkpoint_every=0): a rerun starts from epoch 0; set checkpoint_every>=1 to resume")
    checkpoint.save(run, path)
    raise Preempted(f"stopped on request after epoch {run.epoch}/{run.cfg.epochs}; checkpoint {path.name} "
                    "written: rerun the same command to resume")
