"""What Slurm says about a grid's runs, merged with the manifest.

Every submission is recorded in ``<grid dir>/slurm/jobs.json`` (array job id, script, the
run of each task index). A run's Slurm state comes from its latest submission:

- ``squeue`` (array tasks one per line): ``running`` or ``queued`` (with Slurm's reason);
- a task no longer in the queue whose run has no finished JSON ended without a result:
  ``failed``, with ``sacct``'s state (TIMEOUT, OUT_OF_MEMORY, CANCELLED, ...) when the
  cluster keeps accounting, else what the task log says (``<grid>/slurm/logs/<job>_<task>.out``:
  the batch script's end line with the exit code, or slurmstepd's cancellation line).

The manifest stays the record of finished and failed runs (the runner writes it on the
compute node); Slurm adds queued, running, and tasks that died without recording anything.
"""

from __future__ import annotations

import datetime
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lib.grids import manifest
from lib.grids.slurm.script import MARK

JOBS = "jobs.json"
ACTIVE = {"RUNNING": "running", "COMPLETING": "running", "CONFIGURING": "running", "STAGE_OUT": "running",
          "PENDING": "queued", "REQUEUED": "queued", "REQUEUE_HOLD": "queued", "REQUEUE_FED": "queued",
          "RESIZING": "running", "SUSPENDED": "queued", "STOPPED": "queued", "SIGNALING": "running"}
TIMEOUT_S = 60
_END = re.compile(re.escape(MARK) + r" \S+ end task \S+: exit (\d+)")
_STEPD = re.compile(r"slurmstepd\S*: error: \*\*\* (.*?) \*\*\*")


class SlurmError(RuntimeError):
    """A Slurm command failed, or Slurm cannot be reached from here."""


def slurm_dir(grid_dir: Path) -> Path:
    return grid_dir / "slurm"


def read_jobs(grid_dir: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads((slurm_dir(grid_dir) / JOBS).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    return list(data.get("submissions", []))


def record_submission(grid_dir: Path, job: str, script: str, runs: list[str]) -> None:
    entry = {"job": job, "script": script, "runs": runs,
             "submitted": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    with manifest.locked(grid_dir):
        subs = read_jobs(grid_dir) + [entry]
        text = json.dumps({"submissions": subs}, indent=2) + "\n"
        manifest.write_if_changed(slurm_dir(grid_dir) / JOBS, text)


def latest_tasks(grid_dir: Path) -> dict[str, tuple[str, int]]:
    """run name -> (array job id, task index) of its latest submission."""
    out: dict[str, tuple[str, int]] = {}
    for sub in read_jobs(grid_dir):
        for i, name in enumerate(sub["runs"]):
            out[name] = (str(sub["job"]), i)
    return out


def _run(args: list[str]) -> subprocess.CompletedProcess:
    if shutil.which(args[0]) is None:
        raise SlurmError(f"`{args[0]}` is not on PATH: run this on the cluster's login node")
    return subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT_S)


def squeue(jobs: set[str]) -> dict[tuple[str, int], tuple[str, str]]:
    """(array job, task) -> (state, reason) of the tasks still in the queue."""
    if not jobs:
        return {}
    out = {}
    for job in sorted(jobs):  # one call per job: squeue refuses a list holding a purged id
        r = _run(["squeue", "--noheader", "--array", "--jobs", job, "--format", "%F|%K|%T|%r"])
        if r.returncode != 0:
            if "Invalid job id" in r.stderr:
                continue  # left the queue long ago
            raise SlurmError(f"squeue failed (exit {r.returncode}): {r.stderr.strip()}")
        for line in r.stdout.splitlines():
            parts = line.strip().split("|")
            if len(parts) == 4 and parts[1].isdigit():
                out[(parts[0], int(parts[1]))] = (parts[2], parts[3])
    return out


def sacct(jobs: set[str]) -> dict[tuple[str, int], str] | None:
    """(array job, task) -> final state, or None when the cluster keeps no accounting."""
    if not jobs or shutil.which("sacct") is None:
        return None
    r = _run(["sacct", "--noheader", "--parsable2", "--allocations", "--jobs", ",".join(sorted(jobs)),
              "--format", "JobID,State,ExitCode"])
    if r.returncode != 0 or "disabled" in r.stderr.lower():
        return None
    out = {}
    for line in r.stdout.splitlines():
        job_id, _, rest = line.partition("|")
        state, _, code = rest.partition("|")
        job, sep, task = job_id.partition("_")
        if sep and task.isdigit():
            out[(job, int(task))] = f"{state.split()[0] if state else '?'} (exit {code})"
    return out


def log_path(grid_dir: Path, job: str, task: int) -> Path:
    return slurm_dir(grid_dir) / "logs" / f"{job}_{task}.out"


def from_log(path: Path) -> str:
    """How a task ended, from its log (no accounting)."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"ended without a log ({path.name})"
    stepd = _STEPD.findall(text)
    ends = _END.findall(text)
    if stepd:
        return stepd[-1]
    if ends:
        return f"task exited {ends[-1]}"
    return "ended without writing its end line (killed?)"


@dataclass
class RunState:
    status: str  # finished | failed | running | queued | pending
    job: str = ""  # "<array job>_<task>" of the latest submission
    detail: str = ""


def merged(grid_dir: Path, runs: list[dict[str, Any]]) -> dict[str, RunState]:
    """Every manifest run's state with Slurm's view merged in (see module doc)."""
    tasks = latest_tasks(grid_dir)
    jobs = {job for job, _ in tasks.values()}
    queue = squeue(jobs)
    accounting: dict | None | bool = False  # fetched on first need
    out = {}
    for run in runs:
        name, status = run["name"], run.get("status", "pending")
        if name not in tasks:
            out[name] = RunState(status, detail=run.get("error", "") or run.get("reason", ""))
            continue
        job, task = tasks[name]
        tag = f"{job}_{task}"
        if status == "finished":
            out[name] = RunState("finished", tag)
        elif (job, task) in queue:
            state, reason = queue[(job, task)]
            out[name] = RunState(ACTIVE.get(state, "queued"), tag, f"{state} ({reason})")
        elif status == "failed":
            out[name] = RunState("failed", tag, run.get("error", ""))
        else:
            if accounting is False:
                accounting = sacct(jobs)
            how = (accounting or {}).get((job, task)) or from_log(log_path(grid_dir, job, task))
            out[name] = RunState("failed", tag, f"Slurm task ended without a result: {how}")
    return out
