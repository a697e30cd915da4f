"""Load a results archive: one DataFrame row per RunResult, identified by content.

``load_archive(path)`` walks a directory recursively and JSON-decodes every file
that is not obviously something else (logs, notebooks, images, tables, hidden or
temporary files, live records and TensorBoard event files of running runs); thesis archives hold extensionless JSON, so the extension is
never required. A file that cannot be read or decoded, or a RunResult that lacks
what identification needs, is reported by path in ``df.attrs["skipped"]`` and
logged in one line; valid JSON that is not a RunResult (a manifest, say) goes to
``df.attrs["ignored"]``. Neither raises. A rehearsal run (``rehearsal_max_steps``) or a run
on the offline replica (``lib.replica``) is refused the same way: it is never a result.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from lib.analysis.aggregate import run_metrics
from lib.analysis.identify import RecordError, identify
from lib.vocab import CHECKPOINT_SUFFIX, CORRUPT_INFIX, LOCK_SUFFIX, PROGRESS_SUFFIX

log = logging.getLogger("lib.analysis")

# Never RunResults; skipped without being decoded (protocol 12 skips ``.log``).
IGNORED_SUFFIXES = frozenset({
    ".log", ".ipynb", ".png", ".pdf", ".svg", ".csv", ".tex", ".txt", ".md", ".html", ".yaml", ".yml",
    ".pt", ".pth", ".npz", ".npy", ".pkl", ".tmp", ".py", ".sha256", ".mk",
    CHECKPOINT_SUFFIX, LOCK_SUFFIX, PROGRESS_SUFFIX,  # a run's checkpoint, lock and live record (lib.vocab)
})
TENSORBOARD_PREFIX = "events.out.tfevents."  # TensorBoard event files (lib.train.board): never RunResults
LIST_COLUMNS = ("val_accuracies", "epoch_wall_clock_seconds", "epoch_tflops")
_RESULT_MARKERS = ("config", "val_accuracies", "best_val_accuracy", "method_name")


def candidate_files(root: Path) -> list[Path]:
    """Files under ``root`` (or ``root`` itself) that may hold a RunResult, sorted."""
    if root.is_file():
        return [root]
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            path = Path(dirpath, name)
            if not name.startswith((".", TENSORBOARD_PREFIX)) and path.suffix.lower() not in IGNORED_SUFFIXES \
                    and CHECKPOINT_SUFFIX + CORRUPT_INFIX not in name:  # checkpoints moved aside (lib.train.checkpoint)
                files.append(path)
    return sorted(files)


def read_json(path: str | Path) -> Any:
    """Decode one file; raises ``RecordError`` naming the file on any read/decode problem."""
    try:
        return json.loads(Path(path).read_bytes())
    except OSError as exc:
        raise RecordError(f"unreadable: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise RecordError(f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise RecordError(f"invalid or truncated JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise RecordError("JSON nested too deeply") from None


def load_run(path: str | Path) -> dict[str, Any]:
    """The full RunResult dict of one file (for episode/controller logs); errors name the file."""
    try:
        record = read_json(path)
    except RecordError as exc:
        raise RecordError(f"{path}: {exc}") from None
    if not isinstance(record, dict):
        raise RecordError(f"{path}: top-level JSON is a {type(record).__name__}, expected an object")
    return record


def refusal(record: dict[str, Any]) -> str | None:
    """Why a RunResult must not count as a result (rehearsal cap, replica data), or None."""
    config = record.get("config") if isinstance(record.get("config"), dict) else {}
    steps = config.get("rehearsal_max_steps") or (record.get("rehearsal") or {}).get("max_steps_per_epoch")
    if steps:
        return (f"rehearsal run (rehearsal_max_steps={steps}, make rehearse): capped epochs, "
                "not a thesis result")
    if record.get("replica"):
        return "made from the offline replica (lib.replica: generated data, random weights), not a result"
    return None


def row_of(record: dict[str, Any]) -> dict[str, Any]:
    """Identification columns plus metrics of one RunResult dict (a refused record raises)."""
    reason = refusal(record)
    if reason is not None:
        raise RecordError(f"refused: {reason}")
    return {**identify(record), **run_metrics(record)}


def _mark_duplicates(df: pd.DataFrame) -> pd.DataFrame:
    """Flag later copies of the same run (same identity, seed, trajectory and wall clock)."""
    cols = ["profile", "task", "setting", "optimizer", "method", "lr_scheduler", "lr_grid", "noise_grid",
            "lam", "context", "base_lr", "epochs", "seed", "best_val_accuracy", "final_val_accuracy",
            "total_time", "val_accuracies"]
    key = pd.Series([repr(t) for t in df[cols].itertuples(index=False)], index=df.index)
    first = df.groupby(key, sort=False)["path"].transform("first")
    df["duplicate"] = key.duplicated(keep="first")
    df["duplicate_of"] = first.where(df["duplicate"], "")
    return df


def load_archive(path: str | Path | Iterable[str | Path]) -> pd.DataFrame:
    """One row per RunResult under ``path`` (a directory, a file, or several of either).

    Columns: the identification of ``identify.identify`` (task, setting, optimizer,
    method, lr_scheduler, label_noise_type, label_noise_rate, seed, ...), the metrics
    of ``aggregate.run_metrics`` (best_val_accuracy, final_val_accuracy, drop,
    peak_epoch, times, TFLOPs, diagnostics, per-epoch lists), ``path``, ``relpath``,
    ``duplicate`` and ``duplicate_of``. ``df.attrs["skipped"]`` and
    ``df.attrs["ignored"]`` list ``(path, reason)`` pairs.
    """
    roots = [Path(path)] if isinstance(path, (str, os.PathLike)) else [Path(p) for p in path]
    missing = [str(r) for r in roots if not r.exists()]
    if missing:
        raise FileNotFoundError(f"load_archive: no such file or directory: {', '.join(missing)}")
    rows: list[dict[str, Any]] = []
    skipped: list[tuple[str, str]] = []
    ignored: list[tuple[str, str]] = []
    for root in roots:
        base = root if root.is_dir() else root.parent
        for file in candidate_files(root):
            try:
                record = read_json(file)
                if not isinstance(record, dict) or not any(k in record for k in _RESULT_MARKERS):
                    ignored.append((str(file), "not a RunResult (no config/val_accuracies/method_name)"))
                    log.info("ignored %s: not a RunResult", file)
                    continue
                row = row_of(record)
            except (RecordError, TypeError, ValueError, KeyError, AttributeError) as exc:
                skipped.append((str(file), str(exc)))
                log.warning("skipped %s: %s", file, exc)
                continue
            rows.append({**row, "path": str(file), "relpath": str(file.relative_to(base))})
    df = pd.DataFrame(rows)
    if df.empty:
        df = pd.DataFrame(columns=list(row_columns()) + ["path", "relpath", "duplicate", "duplicate_of"])
    else:
        df = _mark_duplicates(df.sort_values("path", kind="stable").reset_index(drop=True))
    df.attrs["skipped"] = skipped
    df.attrs["ignored"] = ignored
    df.attrs["roots"] = [str(r) for r in roots]
    return df


def row_columns() -> tuple[str, ...]:
    """Column names of a row, from a minimal valid record (keeps the empty frame's schema in sync)."""
    probe = {"task_name": "sst2", "seed": 0, "method_name": "AdamW", "val_accuracies": [0.5]}
    return tuple(row_of(probe))


def inputs_sha256(paths: Iterable[str | Path]) -> str:
    """SHA-256 over the bytes of the given files, taken in sorted path order."""
    digest = hashlib.sha256()
    for p in sorted(str(p) for p in paths):
        digest.update(Path(p).read_bytes())
    return digest.hexdigest()
