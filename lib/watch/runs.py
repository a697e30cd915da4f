"""What each run of a grid is doing: its manifest entry, its live record and its process or Slurm task.

States (:class:`View`):

- ``finished``, ``failed`` (the runner recorded the error), ``pending``: the manifest's word;
- ``queued``: Slurm holds the run's task in its queue (``lib.grids.slurm.state``);
- ``running``: a live record (``lib.train.live``) whose process is alive (same host: its pid
  exists), whose Slurm task is running, or, on another host outside Slurm, that keeps advancing;
- ``stalled``: running, but its record has not advanced for :data:`STALL_FACTOR` times its own
  seconds per epoch;
- ``dead``: gone without a RunResult and without a failure on record: the record's process no
  longer exists (killed, node lost, make interrupted or a run stopped on request), the run's Slurm
  task left the queue, or the runner recorded that the kernel died (``DeadKernelError``: killed,
  e.g. by the out-of-memory killer). Its resume command reruns it, from its checkpoint if any.

Reading is cheap: one directory listing per grid for the records, no notebook or log parsing, and
Slurm is asked only for grids submitted there.
"""

from __future__ import annotations

import os
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lib import repo_path
from lib.grids.slurm import state as slurm_state
from lib.train import live
from lib.train.guard import checkpoint_path

STALL_FACTOR = 3.0
_KILLED = re.compile(r"DeadKernelError|Kernel died")


@dataclass
class View:
    name: str
    entry: dict[str, Any]
    state: str  # finished | failed | pending | queued | running | stalled | dead
    record: dict[str, Any] | None = None
    detail: str = ""
    job: str = ""  # Slurm array task "<job>_<task>", when submitted there

    @property
    def seconds_per_epoch(self) -> float | None:
        return (self.record or {}).get("seconds_per_epoch")

    def seconds_left(self) -> float | None:
        r, spe = self.record, self.seconds_per_epoch
        if not r or not spe:
            return None
        return max(0, r["epochs"] - r["epoch"]) * spe


def records(grid_dir: Path) -> dict[str, dict[str, Any]]:
    """Output file name -> live record, for the records in a grid folder (one listing)."""
    out = {}
    try:
        entries = list(os.scandir(grid_dir))
    except FileNotFoundError:
        return out
    for e in entries:
        if e.name.endswith(live.SUFFIX):
            rec = live.read(Path(e.path))
            if rec is not None:
                out[e.name[: -len(live.SUFFIX)]] = rec
    return out


def process_alive(record: dict[str, Any], host: str) -> bool | None:
    """Whether the record's process exists; None when it ran on another host (cannot tell from here)."""
    if record.get("host") != host or not isinstance(record.get("pid"), int):
        return None
    try:
        os.kill(record["pid"], 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    return True


def _gone(entry: dict[str, Any], record: dict[str, Any] | None, why: str) -> str:
    reason = entry.get("reason", "")
    done = f" after epoch {record['epoch']}/{record['epochs']}" if record else ""
    if reason.startswith(("interrupted", "preempted")):
        why = f"{why} ({reason.split(':')[0]})"
    return f"gone{done} without a RunResult: {why}"


def _live_state(record: dict[str, Any], now: float) -> tuple[str, str]:
    spe = record.get("seconds_per_epoch")
    quiet = now - record["time"]
    if spe and quiet > STALL_FACTOR * spe:
        return "stalled", f"no new epoch for {quiet:.0f} s ({STALL_FACTOR:g} × its {spe:.1f} s per epoch)"
    return "running", ""


def view(entry: dict[str, Any], record: dict[str, Any] | None, slurm: slurm_state.RunState | None,
         host: str, now: float) -> View:
    """One run's state (see module doc); ``slurm``: its merged Slurm state when the grid went there."""
    name, status = entry["name"], entry.get("status", "pending")
    v = View(name, entry, status, record, entry.get("error", "") or entry.get("reason", ""),
             slurm.job if slurm else "")
    if status == "finished":
        return v
    if slurm is not None and slurm.job:
        if slurm.status == "queued":
            v.state, v.detail = "queued", slurm.detail
        elif slurm.status == "running":
            v.state, v.detail = _live_state(record, now) if record else ("running", "starting")
        elif status == "failed" and not _KILLED.search(entry.get("error", "")):
            v.state = "failed"
        elif slurm.status == "failed":
            v.state, v.detail = "dead", _gone(entry, record, f"{slurm.detail} (task {slurm.job})")
        return v
    failed = status == "failed"
    killed = failed and bool(_KILLED.search(entry.get("error", "")))
    if record is None:
        if killed:
            v.state, v.detail = "dead", _gone(entry, None, "its kernel died")
        return v
    alive = process_alive(record, host)
    state, detail = _live_state(record, now)
    if alive is False or (alive is None and failed and state == "stalled"):
        if failed and not killed:
            return v
        why = (f"process {record['pid']} on {record['host']} no longer exists" if alive is False
               else "its kernel died")
        v.state, v.detail = "dead", _gone(entry, record, why)
        return v
    v.state, v.detail = state, detail
    if alive is None:
        v.detail = (detail + "; " if detail else "") + f"on host {record['host']}"
    return v


def grid_views(grid_dir: Path, data: dict[str, Any], now: float | None = None) -> tuple[list[View], str]:
    """Every manifest run's view, and a note when Slurm could not be asked."""
    now = time.time() if now is None else now
    runs = data.get("runs", [])
    recs = records(grid_dir)
    slurm: dict[str, slurm_state.RunState] = {}
    note = ""
    if slurm_state.read_jobs(grid_dir):
        try:
            slurm = slurm_state.merged(grid_dir, runs)
        except slurm_state.SlurmError as exc:
            note = f"Slurm not reachable ({exc}): states from the records and the manifest alone"
    host = socket.gethostname()
    views = []
    for entry in runs:
        record = recs.get(Path(entry.get("output", "")).name)
        views.append(view(entry, record, slurm.get(entry["name"]), host, now))
    return views, note


def resume_lines(v: View, grid: str, profile: str) -> list[str]:
    """How to resume a dead run (from its checkpoint when there is one): the command, then an alternative."""
    ckpt = checkpoint_path(repo_path(v.entry["output"])) if v.entry.get("output") else None
    how = "resume (from its checkpoint)" if ckpt is not None and ckpt.exists() else "resume (from epoch 0)"
    alone = v.entry.get("retry") or v.entry.get("command", "")
    if v.job:
        return [f"{how} on Slurm: make runs GRID={grid} PROFILE={profile} LAUNCHER=slurm RETRY=1",
                f"or here: {alone}"]
    return [f"{how}: {alone}", f"or with the rest of the grid: make runs GRID={grid} PROFILE={profile}"]


def eta(views: list[View]) -> tuple[float | None, int, int]:
    """(seconds left for the grid at its current parallelism, runs at work, runs without an estimate).

    Work left = the running runs' epochs left at their own pace + the epochs of the runs still to run
    (pending, queued, dead) at the mean pace of the running runs of their task, divided by the number
    of runs at work now; never less than the longest running run's time left."""
    working = [v for v in views if v.state == "running" and v.seconds_left() is not None]
    if not working:
        return None, 0, 0
    pace: dict[str, list[float]] = {}
    epochs: dict[str, int] = {}
    for v in working:
        pace.setdefault(v.entry.get("task", ""), []).append(v.seconds_per_epoch)
        epochs.setdefault(v.entry.get("cell", ""), v.record["epochs"])
    left = sum(v.seconds_left() for v in working)
    unknown = 0
    for v in views:
        if v.state not in ("pending", "queued", "dead"):
            continue
        n = v.entry.get("parameters", {}).get("epochs") or epochs.get(v.entry.get("cell", ""))
        if v.record and v.state == "dead":
            n = max(0, v.record["epochs"] - v.record["epoch"])
        task_pace = pace.get(v.entry.get("task", ""))
        if n is None or not task_pace:
            unknown += 1
            continue
        left += n * sum(task_pace) / len(task_pace)
    return max(left / len(working), max(v.seconds_left() for v in working)), len(working), unknown
