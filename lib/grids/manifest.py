"""``results/<profile>/<grid>/manifest.json``: every planned run, its parameters and status.

Statuses: ``finished`` (complete JSON whose recorded config matches the grid), ``failed``
(the last execution failed: ``error`` and the exact ``retry`` command), ``pending``
(not run yet, or its JSON is incomplete or stale: ``reason``). Aliases list the thesis
rows that are the same run as another row, with that run's output and status.

Writes are atomic (temporary file + ``os.replace``), only when the content changes, and
serialised between processes by ``flock`` on ``.manifest.lock`` beside the manifest, so
parallel runs (``make -j``) can each record their outcome.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from lib.atomic import write_text_atomic
from lib.vocab import MANIFEST, MANIFEST_LOCK

LOCK = MANIFEST_LOCK
STATUSES = ("finished", "failed", "pending")


def write_if_changed(path: Path, text: str) -> bool:
    """Atomically write ``text`` unless the file already holds it; True when written."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    write_text_atomic(path, text)
    return True


@contextlib.contextmanager
def locked(grid_dir: Path) -> Iterator[None]:
    """Exclusive lock on the grid's manifest (blocks until free)."""
    grid_dir.mkdir(parents=True, exist_ok=True)
    with open(grid_dir / LOCK, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read(grid_dir: Path) -> dict[str, Any] | None:
    """The manifest of a grid directory, or None if absent or unreadable."""
    try:
        data = json.loads((grid_dir / MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _finalise(data: dict[str, Any]) -> str:
    runs = sorted(data.get("runs", []), key=lambda r: r["name"])
    data["runs"] = runs
    data["run_count"] = len(runs)
    data["counts"] = {s: sum(r.get("status") == s for r in runs) for s in STATUSES}
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(grid_dir: Path, data: dict[str, Any]) -> bool:
    """Write a whole manifest (counts and order recomputed); True when the file changed."""
    return write_if_changed(grid_dir / MANIFEST, _finalise(dict(data)))


def update(grid_dir: Path, fn: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Read-modify-write under the lock: ``fn`` mutates the manifest dict in place."""
    with locked(grid_dir):
        data = read(grid_dir) or {"grid": grid_dir.name, "profile": grid_dir.parent.name, "runs": []}
        fn(data)
        write(grid_dir, data)
        return data


def entry(data: dict[str, Any], name: str) -> dict[str, Any] | None:
    for run in data.get("runs", []):
        if run.get("name") == name:
            return run
    return None


def set_run(data: dict[str, Any], run: dict[str, Any]) -> None:
    """Insert or replace the entry of ``run["name"]``."""
    runs = [r for r in data.get("runs", []) if r.get("name") != run["name"]]
    data["runs"] = runs + [run]
