"""Atomic per-epoch checkpoints and bit-exact resume of a run.

A checkpoint lives beside the run's output (``<output>.ckpt``) and holds everything that
drives the rest of the run: model, optimizer and scheduler state, the AEES state (episode
manager, controllers, per-parameter noise generators; via :mod:`lib.control.internals`),
the controller-log histories, every RNG (python, torch CPU/CUDA, the data-order generator),
the metrics so far and the best epoch's weights. Running the same run again (same output
path, same configuration) resumes from it; a finished run deletes it.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import torch

from lib.atomic import atomic_path
from lib.config import as_dict
from lib.control.internals import aees_state_dict, load_aees_state_dict
from lib.params import RESULT_NEUTRAL_FIELDS
from lib.train.state import RunState

FORMAT = 1


def checkpoint_path(output: Path) -> Path:
    return output.with_name(output.name + ".ckpt")


def _identity(cfg: Any) -> dict[str, Any]:
    return {k: v for k, v in as_dict(cfg).items() if k not in RESULT_NEUTRAL_FIELDS}


def save(run: RunState, path: Path) -> None:
    """Write the run's state atomically (temporary file in the same folder, then rename)."""
    state = {
        "format": FORMAT,
        "config": _identity(run.cfg),
        "epoch": run.epoch,
        "global_step": run.stepper.global_step,
        "episodes_reported": run.episodes_reported,
        "elapsed": time.perf_counter() - run.wall_start,
        "model": run.model.state_dict(),
        "optimizer": run.optimizer.state_dict(),
        "scheduler": None if run.scheduler is None else run.scheduler.state_dict(),
        "aees": None if run.aees is None else aees_state_dict(run.aees),
        "controller_logs": None if run.logger is None else run.logger.state_dict(),
        "rng": {"python": random.getstate(), "torch": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
                "data": run.data_generator.get_state()},
        "metrics": run.metrics,
        "subset_metrics": run.subset_metrics,
        "best": run.best,
        "flops": run.flops.state_dict(),
        "padded_tokens": getattr(run, "padded_tokens", None),  # NLP runs
    }
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load(run: RunState, path: Path) -> None:
    """Restore a run built with the same configuration (phases 1-4 done) from ``path``."""
    state = torch.load(path, map_location=run.device, weights_only=False)
    if state.get("format") != FORMAT:
        raise RuntimeError(f"{path}: checkpoint format {state.get('format')!r}, expected {FORMAT}")
    mine = _identity(run.cfg)
    diff = sorted(k for k in set(mine) | set(state["config"]) if mine.get(k) != state["config"].get(k))
    if diff:
        raise RuntimeError(f"{path}: checkpoint of a different configuration ({', '.join(diff)}); "
                           "delete it or use another output path")
    run.model.load_state_dict(state["model"])
    run.optimizer.load_state_dict(state["optimizer"])
    if run.scheduler is not None:
        run.scheduler.load_state_dict(state["scheduler"])
    if run.aees is not None:
        load_aees_state_dict(run.aees, state["aees"], run.device)
        run.logger.load_state_dict(state["controller_logs"])
    rng = state["rng"]
    random.setstate(rng["python"])
    torch.set_rng_state(rng["torch"].cpu())
    if rng["cuda"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in rng["cuda"]])
    run.data_generator.set_state(rng["data"].cpu())
    run.metrics, run.subset_metrics, run.best = state["metrics"], state["subset_metrics"], state["best"]
    run.flops.load_state_dict(state["flops"])
    if state["padded_tokens"] is not None:
        run.padded_tokens = state["padded_tokens"]
    run.epoch = state["epoch"]
    run.stepper.global_step = state["global_step"]
    run.episodes_reported = state["episodes_reported"]
    run.wall_start = time.perf_counter() - state["elapsed"]


def resume_if_any(run: RunState) -> None:
    """At the start of ``fit``: continue from the run's checkpoint when there is one."""
    path = checkpoint_path(run.output)
    if run.cfg.checkpoint_every and path.exists():
        load(run, path)
        print(f"resumed from {path.name} after epoch {run.epoch}")


def after_epoch(run: RunState) -> None:
    """At the end of each epoch (``run.epoch`` already counts it): checkpoint when due."""
    every = run.cfg.checkpoint_every
    if every and run.epoch % every == 0 and run.epoch < run.cfg.epochs:
        save(run, checkpoint_path(run.output))

