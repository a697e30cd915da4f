"""``make runs LAUNCHER=slurm``: the runs still to do, one Slurm job array per grid.

The plan is the one ``make runs`` makes (``lib.grids.plan``: finished runs skipped, stale
ones rerun, the same parameter files, commands and manifests). Of the runs it would run,
a submission leaves out those queued or running under an earlier submission, and those
whose last execution failed unless ``retry`` (``RETRY=1``) or ``force`` (``FORCE=1``). The
rest of each grid becomes one array (its own time limit: grids differ in cost), whose
batch script is written to ``<grid dir>/slurm/<grid>-<UTC time>.sbatch`` and submitted with
``sbatch`` from the repository root; the submission is recorded in ``<grid dir>/slurm/jobs.json``.

Why ``sbatch`` and not submitit: a task here is a shell command (the make recipe running
papermill, whose Jupyter kernel trains), not a pickled Python callable; a plain batch script
is what a user can read and ``sbatch`` by hand; the stop request has to reach the kernel, two
processes below whatever submitit would checkpoint; and it adds no dependency.
"""

from __future__ import annotations

import datetime
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lib import RESULTS_DIR, ROOT
from lib import shown_path as rel  # the one repo-relative path form
from lib.grids import manifest
from lib.grids.cells import RunSpec
from lib.grids.plan import DEFAULT_PY, plan
from lib.grids.slurm import options as slurm_options
from lib.grids.slurm.script import batch_script
from lib.grids.slurm.state import SlurmError, merged, read_jobs, record_submission, slurm_dir


@dataclass
class Submission:
    grid: str
    runs: list[str]  # run names in task order
    script: Path
    job: str | None  # None: dry run
    skipped: dict[str, list[str]]  # queued/running/failed -> run names


def _script_path(grid_dir: Path, grid: str) -> Path:
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path, k = slurm_dir(grid_dir) / f"{grid}-{stamp}.sbatch", 1
    while path.exists():
        k += 1
        path = slurm_dir(grid_dir) / f"{grid}-{stamp}-{k}.sbatch"
    return path


def sbatch(script: Path) -> str:
    """Submit ``script`` from the repository root; the array job id."""
    try:
        r = subprocess.run(["sbatch", "--parsable", rel(script)], cwd=ROOT, capture_output=True, text=True,
                           timeout=120)
    except FileNotFoundError:
        raise SlurmError("`sbatch` is not on PATH: submit from the cluster's login node") from None
    if r.returncode != 0:
        raise SlurmError(f"sbatch {rel(script)} failed (exit {r.returncode}): {r.stderr.strip()}")
    job = r.stdout.strip().split(";")[0]
    if not job.isdigit():
        raise SlurmError(f"sbatch {rel(script)}: unexpected answer {r.stdout.strip()!r}")
    return job


def _choose(grid_dir: Path, specs: list[RunSpec], retry: bool, rerun: set[Path]
            ) -> tuple[list[RunSpec], dict[str, list[str]]]:
    runs = (manifest.read(grid_dir) or {}).get("runs", [])
    states = merged(grid_dir, runs) if read_jobs(grid_dir) else {r["name"]: None for r in runs}
    listed = {r["name"]: r.get("status") for r in runs}
    chosen, skipped = [], {"queued": [], "running": [], "failed": []}
    for spec in specs:
        st = states.get(spec.name)
        status = st.status if st is not None else listed.get(spec.name, "pending")
        if status in ("queued", "running"):
            skipped[status].append(spec.name)
        elif status == "failed" and not retry and spec.json not in rerun:
            skipped["failed"].append(spec.name)
        else:
            chosen.append(spec)
    return chosen, skipped


def submit(grids: str | Iterable[str], profile: str, *, seeds: Any = None, retry: bool = False,
           force: bool = False, dry_run: bool = False, slurm_args: str = "", results_dir: Path = RESULTS_DIR,
           py: str = DEFAULT_PY, papermill: str | None = None, notebooks: Mapping[str, Path] | None = None,
           env_dir: Path = ROOT / ".venv", config: Path | None = None, env: dict[str, str] | None = None,
           say: Any = print) -> list[Submission]:
    """Plan, then submit one array per grid with runs to do (see module doc)."""
    p = plan(grids, profile, seeds=seeds, force=force, dry_run=dry_run, results_dir=results_dir, py=py,
             papermill=papermill, notebooks=notebooks)
    by_dir: dict[Path, list[RunSpec]] = {}
    for spec in p.todo():
        by_dir.setdefault(spec.grid_dir, []).append(spec)
    out = []
    for grid_dir, specs in by_dir.items():
        grid = specs[0].grid
        chosen, skipped = _choose(grid_dir, specs, retry, p.rerun)
        held = ", ".join(f"{len(v)} {k}" for k, v in skipped.items() if v)
        if not chosen:
            say(f"[slurm] {grid}: nothing to submit" + (f" ({held})" if held else "")
                + (": RETRY=1 resubmits the failed runs" if skipped["failed"] else ""))
            continue
        log_dir = slurm_dir(grid_dir) / "logs"
        opts = slurm_options.resolve(grid, profile, chosen, rel(log_dir), slurm_args, config)
        path = _script_path(grid_dir, grid)
        text = batch_script(grid, profile, [(rel(s.json), p.commands[s.json]) for s in chosen], opts,
                            Path(env_dir), rel(path), env)
        manifest.write_if_changed(path, text)
        path.chmod(0o755)
        job = None
        if not dry_run:
            log_dir.mkdir(parents=True, exist_ok=True)
            job = sbatch(path)
            record_submission(grid_dir, job, rel(path), [s.name for s in chosen])
        verb = f"submitted array job {job}" if job else "would submit (make -n)"
        say(f"[slurm] {grid}: {verb}: {len(chosen)} run(s), throttle {opts.throttle}, "
            f"time {opts.options.get('time', 'site default')}; script {rel(path)}"
            + (f"; skipped {held}" if held else "")
            + (" (RETRY=1 resubmits the failed runs)" if skipped["failed"] else ""))
        out.append(Submission(grid, [s.name for s in chosen], path, job, skipped))
    if not by_dir:
        say(f"[slurm] {' '.join(p.grids)} ({profile}): every run is finished, nothing to submit")
    return out
