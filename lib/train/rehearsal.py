"""What a run records about being a rehearsal or using the replica, and the rehearsal step cap.

``rehearsal_max_steps`` (an engine option; ``make rehearse``) caps every epoch to N optimizer
steps and every evaluation to N batches, so a full-size ``thesis`` run is exercised on a CPU in
seconds. A capped run and a run on the offline replica (``lib.replica``) are never results: the
RunResult says so (``rehearsal``, ``replica``, "(offline replica)" in ``dataset_name``) and
``lib.analysis.load_archive`` refuses them. Every RunResult also records ``peak_memory``.
"""

from __future__ import annotations

import itertools
import resource
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

import torch

from lib.replica import MARKER, read_marker

T = TypeVar("T")
REHEARSAL_NOTE = ("rehearsal run: at most max_steps_per_epoch optimizer steps and evaluation batches "
                  "per epoch; its numbers (accuracies, subset accuracies, times) are not results")


def capped(batches: Iterable[T], cfg: Any) -> Iterable[T]:
    """``batches``, cut to ``cfg.rehearsal_max_steps`` items when that is set (> 0)."""
    n = getattr(cfg, "rehearsal_max_steps", 0)
    return itertools.islice(batches, n) if n else batches


def peak_memory(device: torch.device) -> dict[str, Any]:
    """Peak resident memory of this process and, on CUDA, peak allocated device memory (MiB)."""
    out: dict[str, Any] = {"host_max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if device.type == "cuda":
        out["cuda_max_allocated_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
        out["cuda_max_reserved_mb"] = torch.cuda.max_memory_reserved(device) / 2**20
    return out


def _model_replica(run: Any) -> dict[str, Any] | None:
    source = run.paths["model"]
    folder = Path(source)
    if not folder.is_dir():
        from huggingface_hub import try_to_load_from_cache  # local lookup only, no network

        hit = try_to_load_from_cache(str(source), MARKER, cache_dir=str(run.paths["cache_dir"]))
        folder = Path(hit).parent if isinstance(hit, str) else None
    return None if folder is None else read_marker(folder)


def replica_of(run: Any) -> dict[str, Any] | None:
    """The replica markers of the run's data and model (None when nothing came from a replica)."""
    if hasattr(run, "paths"):  # SST-2 / AG News
        parts = {"data": run.data.cache_info["source"].get("replica"), "model": _model_replica(run)}
    else:
        parts = {"data": getattr(run.data, "replica", None)}
    parts = {k: v for k, v in parts.items() if v is not None}
    return parts or None


def mark_result(run: Any, result: dict[str, Any]) -> None:
    """Add ``peak_memory`` and, where they apply, ``rehearsal`` and ``replica`` (in place)."""
    result["peak_memory"] = peak_memory(run.device)
    if run.cfg.rehearsal_max_steps:
        result["rehearsal"] = {"max_steps_per_epoch": run.cfg.rehearsal_max_steps, "note": REHEARSAL_NOTE}
    replica = replica_of(run)
    if replica is not None:
        result["replica"] = replica
        result["dataset_name"] += " (offline replica)"


__all__ = ["capped", "peak_memory", "replica_of", "mark_result", "REHEARSAL_NOTE"]
