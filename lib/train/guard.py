"""Before a run touches any data: its output path is checked, and the run is claimed.

:func:`claim` (called by each task's ``start``) refuses, with a message naming the path and
the fix,

- an output that is a directory, or whose folder cannot be created or written;
- an output inside a grid's folder (``results/<profile>/<grid>/``, the folder of a
  ``manifest.json``) that is not one of that grid's runs, or is one of them with other
  parameters: the analysis reads every JSON there, so a stray run would enter the tables;

and then takes the run's lock: an exclusive ``flock`` on ``<output>.lock``, the one per-run
lock for runs started by make (``lib.grids``) and by hand (papermill, JupyterLab) alike. The
file records the holder's pid and host, so a second process on the same output stops at once
with :class:`RunLockedError` naming them. The kernel frees an ``flock`` when its holder dies
(even by SIGKILL), so a crashed run never leaves a stale lock. A process that already holds
the lock (a notebook re-running its cells) takes it again; :func:`release` (after the
RunResult is written) frees it and removes the file.
"""

from __future__ import annotations

import datetime
import fcntl
import json
import os
import socket
from pathlib import Path
from typing import IO, Any

from lib import ROOT
from lib.vocab import CHECKPOINT_SUFFIX, LOCK_SUFFIX, MANIFEST, beside
from lib.config import as_dict
from lib.config_match import config_diff

__all__ = ["OutputPathError", "RunLockedError", "lock_path", "checkpoint_path", "validate_output", "claim", "release"]

_HELD: dict[Path, IO] = {}  # locks this process holds, by lock path


class OutputPathError(ValueError):
    """The output path cannot receive this run's RunResult."""


class RunLockedError(RuntimeError):
    """Another live process is training the run of this output path."""


def lock_path(output: Path) -> Path:
    return beside(output, LOCK_SUFFIX)


def checkpoint_path(output: Path) -> Path:
    """The run's checkpoint beside its output (lib.train.checkpoint writes it; here so that callers
    that only look for it, like the grid runner, need not import torch)."""
    return beside(output, CHECKPOINT_SUFFIX)


def _show(path: Path) -> str:
    try:
        return path.relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def _check_writable(output: Path) -> None:
    if output.is_dir():
        raise OutputPathError(f"output {_show(output)} is a directory; give a file path, "
                              f"e.g. output={_show(output / 'run.json')}")
    for companion in (checkpoint_path(output), lock_path(output)):
        if companion.is_dir():
            raise OutputPathError(f"{_show(companion)} (the run's checkpoint/lock beside its output) "
                                  "is a directory; remove it or choose another output")
    folder = output.parent
    while not folder.exists():  # the nearest existing ancestor decides whether mkdir can work
        folder = folder.parent
    if not folder.is_dir():
        raise OutputPathError(f"output {_show(output)}: {_show(folder)} is a file, not a folder; "
                              "choose another output path")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputPathError(f"output {_show(output)}: no write permission in {_show(folder)}; "
                              "choose another output path or fix the folder's permissions")


def _grid_manifest(output: Path) -> dict[str, Any] | None:
    """The manifest of the grid whose folder holds ``output``, or None (not a grid folder)."""
    manifest = output.parent / MANIFEST
    if not manifest.is_file():
        return None
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # unreadable: the grid runner reports and rewrites it
    return data if isinstance(data, dict) and "grid" in data else None


def _check_grid(output: Path, cfg: Any) -> None:
    data = _grid_manifest(output)
    if data is None:
        return
    grid, profile = data.get("grid"), data.get("profile")
    outputs = {(ROOT / r["output"]).resolve(): r for r in data.get("runs", []) if r.get("output")}
    run = outputs.get(output.resolve())
    if run is not None and not (run.get("task") and isinstance(run.get("parameters"), dict)):
        return  # a manifest entry without parameters: nothing to compare with
    elsewhere = f"write it elsewhere, e.g. output=results/{cfg.profile}/scratch/{output.name}"
    if run is None:
        alias = next((a for a in data.get("aliases", []) if a.get("name") == output.stem), None)
        what = (f"is the alias {alias['name']} of {alias.get('same_as')}" if alias else
                "is not one of its runs")
        raise OutputPathError(f"output {_show(output)} lies in the folder of grid {grid} "
                              f"(profile {profile}) but {what}; the analysis reads every JSON there: "
                              f"{elsewhere}")

    mine = {**as_dict(cfg), "profile": cfg.profile, "task_name": cfg.task_name}
    diffs = config_diff(run["task"], run["parameters"]["profile"], run["parameters"], mine)
    if diffs:
        raise OutputPathError(
            f"output {_show(output)} belongs to run {run['name']} of grid {grid} (profile {profile}), "
            f"whose parameters differ: {'; '.join(diffs[:4])}. Run it with its own parameters "
            f"(make runs GRID={grid} PROFILE={profile}, or papermill -f {run.get('params_file')}), or "
            f"{elsewhere}")


def validate_output(output: Path, cfg: Any) -> None:
    """Raise :class:`OutputPathError` when ``output`` cannot take this run's result (see module doc)."""
    _check_writable(output)
    _check_grid(output, cfg)


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        return f"pid {info['pid']} on host {info['host']} (since {info['since']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process (its pid is not recorded yet)"


def _lock(path: Path) -> IO:
    """Take the lock file's flock without waiting; the file is the one at ``path`` right now."""
    while True:
        handle = open(path, "a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise RunLockedError(f"{_show(path.with_suffix(''))} is being trained by {_holder(path)}; "
                                 "wait for it to finish (or stop that process), or choose another "
                                 "output") from None
        try:  # a holder that released meanwhile removed the file: lock the new one instead
            same = os.fstat(handle.fileno()).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return handle
        handle.close()


def claim(output: Path, cfg: Any) -> None:
    """Validate ``output`` for ``cfg``, then take the run's lock (see module doc)."""
    validate_output(output, cfg)
    path = lock_path(output)
    if path in _HELD:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = _lock(path)
    since = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": since}) + "\n")
    handle.flush()
    _HELD[path] = handle


def release(output: Path) -> None:
    """Free the run's lock (no-op when this process does not hold it) and remove its file."""
    handle = _HELD.pop(lock_path(output), None)
    if handle is None:
        return
    lock_path(output).unlink(missing_ok=True)  # while still locked: no one can take a dead file
    handle.close()
