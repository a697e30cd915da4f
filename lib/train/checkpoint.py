"""Atomic per-epoch checkpoints and bit-exact resume of a run.

A checkpoint lives beside the run's output (``<output>.ckpt``) and holds everything that
drives the rest of the run: model, optimizer and scheduler state, the AEES state (episode
manager, controllers, per-parameter noise generators; via :mod:`lib.control.internals`),
the controller-log histories, every RNG (python, torch CPU/CUDA, the data-order generator),
the metrics so far and the best epoch's weights. Running the same run again (same output
path, same configuration) resumes from it; a finished run deletes it. A file that cannot be
read as this model's checkpoint (garbage, truncated, another format) is moved aside to
``<name>.corrupt-<UTC time>`` with one line saying so, and the run starts afresh; a checkpoint
that cannot be written (disk full) leaves the previous one in place and the run goes on.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import random
import time
from pathlib import Path
from typing import Any

import torch

from lib.atomic import atomic_path
from lib.config import as_dict
from lib.control.internals import aees_state_dict, load_aees_state_dict
from lib.params import RESULT_NEUTRAL_FIELDS
from lib.train.guard import checkpoint_path
from lib.train.state import RunState
from lib.vocab import CORRUPT_INFIX, beside

FORMAT = 1


STATE_KEYS = ("format", "config", "epoch", "global_step", "episodes_reported", "elapsed", "model",
              "optimizer", "scheduler", "aees", "controller_logs", "rng", "metrics", "subset_metrics",
              "best", "flops", "padded_tokens")


def _identity(cfg: Any) -> dict[str, Any]:
    return {k: v for k, v in as_dict(cfg).items() if k not in RESULT_NEUTRAL_FIELDS}


def _config_diff(cfg: Any, saved: dict[str, Any]) -> list[str]:
    """Fields whose values differ between the run and a checkpoint's identity. A field one side does
    not record (added to the config after the checkpoint was written) counts at its declared default,
    so an older checkpoint still resumes a run that leaves the new field at its default."""
    mine = _identity(cfg)
    default = {f.name: f.default for f in dataclasses.fields(cfg)}
    return sorted(k for k in set(mine) | set(saved)
                  if mine.get(k, default.get(k)) != saved.get(k, default.get(k)))


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


class UnreadableCheckpoint(Exception):
    """The file is not a checkpoint this code wrote for this model (garbage, truncated, foreign)."""


def read(run: RunState, path: Path) -> dict[str, Any]:
    """The checkpoint's content, checked for format and model keys; nothing of ``run`` is touched."""
    try:
        state = torch.load(path, map_location=run.device, weights_only=False)
    except Exception as exc:  # unpickling garbage raises anything (ValueError, EOFError, RuntimeError...)
        raise UnreadableCheckpoint(f"{type(exc).__name__}: {str(exc)[:120]}") from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise UnreadableCheckpoint(f"not a format-{FORMAT} checkpoint (found {found!r})")
    missing = sorted(set(STATE_KEYS) - set(state))
    if missing:
        raise UnreadableCheckpoint(f"missing {', '.join(missing)}")
    if not isinstance(state["model"], dict) or set(state["model"]) != set(run.model.state_dict()):
        raise UnreadableCheckpoint("its model weights are not this model's")
    return state


def _move_aside(path: Path) -> Path:
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = beside(path, f"{CORRUPT_INFIX}{stamp}")
    os.replace(path, aside)
    return aside


def load(run: RunState, path: Path, state: dict[str, Any] | None = None) -> None:
    """Restore a run built with the same configuration (phases 1-4 done) from ``path``."""
    state = read(run, path) if state is None else state
    diff = _config_diff(run.cfg, state["config"])
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


def differs_from(output: Path, cfg: Any) -> list[str]:
    """The fields in which the checkpoint beside ``output`` was written with another configuration than
    ``cfg`` (empty: none there, unreadable, or the same). Reads only the checkpoint's config: the
    tensors are memory-mapped, not loaded (a thesis DistilBERT checkpoint is 766 MiB)."""
    path = checkpoint_path(Path(output))
    if not path.exists():
        return []
    try:
        saved = torch.load(path, map_location="cpu", weights_only=False, mmap=True)["config"]
    except Exception:  # unreadable: the run moves it aside itself (resume_if_any)
        return []
    return _config_diff(cfg, saved) if isinstance(saved, dict) else []


def resume_if_any(run: RunState) -> None:
    """At the start of ``fit``: continue from the run's checkpoint when there is one."""
    path = checkpoint_path(run.output)
    if not (run.cfg.checkpoint_every and path.exists()):
        return
    try:
        state = read(run, path)
    except UnreadableCheckpoint as exc:
        aside = _move_aside(path)
        print(f"checkpoint {path.name} cannot be read ({exc}); moved aside to {aside.name}; "
              "starting this run afresh", flush=True)
        return
    load(run, path, state)
    print(f"resumed from {path.name} after epoch {run.epoch}")


def after_epoch(run: RunState) -> None:
    """At the end of each epoch (``run.epoch`` already counts it): checkpoint when due."""
    every = run.cfg.checkpoint_every
    if every and run.epoch % every == 0 and run.epoch < run.cfg.epochs:
        path = checkpoint_path(run.output)
        try:
            save(run, path)
        except OSError as exc:  # disk full, quota: the previous checkpoint is intact; keep training
            kept = "the previous checkpoint is kept" if path.exists() else "no checkpoint yet"
            print(f"warning: checkpoint after epoch {run.epoch} not written ({exc}); {kept}; "
                  "training goes on", flush=True)

