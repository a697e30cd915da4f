"""The marker of the offline replica (``lib.replica``): ``REPLICA.json`` in every generated resource.

Here, below both, because the loaders of ``lib.data`` read it (a run on the replica records it and is
never a result) while ``lib.replica`` writes it with the resources it builds from ``lib.data``'s
stand-in generators; the imports stay one-way (``lib.replica`` -> ``lib.data``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

MARKER = "REPLICA.json"
NOTE = "offline replica for rehearsals: generated data / random weights, never a result"


def write_marker(folder: Path, info: dict[str, Any]) -> None:
    """``folder/REPLICA.json`` (atomic), with the replica note."""
    tmp = Path(folder) / f".{MARKER}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps({**info, "note": NOTE}, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, Path(folder) / MARKER)


def read_marker(folder: Path) -> dict[str, Any] | None:
    """Contents of ``folder/REPLICA.json``, or None when ``folder`` is not a replica."""
    path = Path(folder) / MARKER
    return json.loads(path.read_text()) if path.is_file() else None


def find_dataset_replica(cache_dir: Path, path: str, name: str | None) -> dict[str, Any] | None:
    """The marker of a replica of ``load_dataset(path, name)`` in the datasets cache ``cache_dir``."""
    for marker in sorted((Path(cache_dir) / path / (name or "default")).glob(f"*/*/{MARKER}")):
        return read_marker(marker.parent)
    return None


__all__ = ["MARKER", "NOTE", "find_dataset_replica", "read_marker", "write_marker"]
