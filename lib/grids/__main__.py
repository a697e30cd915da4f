"""CLI: ``python -m lib.grids list | plan | exec | status | submit`` (``make runs`` calls plan and
exec; ``make runs LAUNCHER=slurm`` calls submit)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lib import RESULTS_DIR, ROOT, repo_path
from lib.grids import manifest
from lib.grids.cells import GridError
from lib.grids.definitions import GRIDS
from lib.grids.plan import DEFAULT_PY, grid_runs, parse_seeds, plan, rel, select_grids
from lib.grids.slurm import state as slurm_state
from lib.grids.estimate import estimate, report
from lib.grids.slurm.submit import submit
from lib.grids.runner import execute


def _dir(path: str) -> Path:
    """A results directory; relative paths are taken from the repository root."""
    return repo_path(path)


def _notebooks(items: list[str]) -> dict[str, Path]:
    out = {}
    for item in items:
        task, sep, path = item.partition("=")
        if not sep:
            raise GridError(f"--notebook: expected TASK=PATH, got {item!r}")
        out[task] = Path(path)
    return out


def cmd_list(args: argparse.Namespace) -> int:
    total = 0
    for name in select_grids(args.grid):
        grid = GRIDS[name]
        n = len(grid_runs(name, args.profile, parse_seeds(args.seeds), _dir(args.results_dir), parents="upper-bound"))
        total += n
        print(f"{name:<22} {len(grid.cells):>3} cells {len(grid.aliases):>2} aliases "
              f"{n:>4} runs  {grid.title}")
    print(f"{'total':<22} {total:>27} runs (profile {args.profile})")
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    p = plan(args.grid, args.profile, seeds=args.seeds, force=args.force, dry_run=args.dry_run,
             results_dir=_dir(args.results_dir), py=args.py, papermill=args.papermill,
             notebooks=_notebooks(args.notebook), makefile=_dir(args.makefile) if args.makefile else None)
    runs = p.all_runs
    done = sum(p.state[s.json][0] == "finished" and s.json not in p.rerun for s in runs)
    stale = [s for s in runs if s.json in p.rerun]
    print(f"[grids] {' '.join(p.grids)} ({p.profile}): {len(runs)} runs, {done} finished, "
          f"{len(runs) - done} to run" + (f" ({len(stale)} stale or forced)" if stale else ""),
          file=sys.stderr)
    for s in stale[:20]:
        print(f"[grids]   rerun {rel(s.json)}: {p.state[s.json][1] or 'FORCE=1'}", file=sys.stderr)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    for name in select_grids(args.grid):
        grid_dir = _dir(args.results_dir) / args.profile / name
        data = manifest.read(grid_dir)
        if data is None:
            print(f"{name}: no manifest (run `make runs GRID={name} PROFILE={args.profile}`)")
            continue
        if slurm_state.read_jobs(grid_dir):
            _slurm_status(name, args.profile, grid_dir, data)
            continue
        c = data.get("counts", {})
        print(f"{name}: {c.get('finished', 0)} finished, {c.get('failed', 0)} failed, "
              f"{c.get('pending', 0)} pending of {data.get('run_count', 0)}")
        for run in data.get("runs", []):
            if run.get("status") == "failed":
                print(f"  FAILED {run['name']}: {run.get('error', '')}\n    retry: {run.get('retry', '')}")
    return 0


def _slurm_status(name: str, profile: str, grid_dir: Path, data: dict) -> None:
    """The manifest merged with Slurm's view (lib.grids.slurm.state)."""
    runs = data.get("runs", [])
    try:
        states = slurm_state.merged(grid_dir, runs)
    except slurm_state.SlurmError as exc:
        print(f"{name}: Slurm not reachable ({exc}); the manifest alone says:")
        states = {r["name"]: slurm_state.RunState(r.get("status", "pending")) for r in runs}
    order = ("finished", "running", "queued", "failed", "pending")
    counts = {k: sum(s.status == k for s in states.values()) for k in order}
    jobs = sorted({s.job.split("_")[0] for s in states.values() if s.job}, key=int)
    print(f"{name}: " + ", ".join(f"{counts[k]} {k}" for k in order) + f" of {len(runs)}"
          + (f" (Slurm array job{'s' if len(jobs) > 1 else ''} {', '.join(jobs)})" if jobs else ""))
    entries = {r["name"]: r for r in runs}
    for run_name, st in states.items():
        if st.status in ("running", "queued"):
            print(f"  {st.status.upper():<8} {run_name}  job {st.job}  {st.detail}")
    for run_name, st in states.items():
        if st.status == "failed":
            retry = entries[run_name].get("retry") or entries[run_name].get("command", "")
            print(f"  FAILED   {run_name}" + (f"  job {st.job}" if st.job else "") + f": {st.detail}\n"
                  f"    retry here:     {retry}\n"
                  f"    retry on Slurm: make runs GRID={name} PROFILE={profile} LAUNCHER=slurm RETRY=1")


def cmd_estimate(args: argparse.Namespace) -> int:
    calls = []
    for text in args.call or [f"1:{args.grid}"]:
        jobs, _, grids = text.partition(":")
        if not jobs.isdigit() or int(jobs) < 1 or not grids.strip():
            raise GridError(f"--call: expected JOBS:GRIDS (e.g. '2:cifar-noisy sst2'), got {text!r}")
        calls.append((int(jobs), grids))
    print(report(estimate(calls, args.profile, force=args.force, seeds=parse_seeds(args.seeds),
                          results_dir=_dir(args.results_dir)), args.profile), flush=True)
    return 0


def cmd_submit(args: argparse.Namespace) -> int:
    try:
        submit(args.grid, args.profile, seeds=args.seeds, retry=args.retry, force=args.force,
               dry_run=args.dry_run, slurm_args=args.slurm_args, results_dir=_dir(args.results_dir),
               py=args.py, papermill=args.papermill, notebooks=_notebooks(args.notebook),
               env_dir=Path(args.env_dir), say=lambda msg: print(msg, flush=True))
    except slurm_state.SlurmError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["exec"]:
        rest = argv[1:]
        if "--" not in rest or rest.index("--") != 1:
            print("usage: python -m lib.grids exec RESULT.json -- COMMAND ...", file=sys.stderr)
            return 2
        return execute(rest[0], rest[2:])
    parser = argparse.ArgumentParser(prog="python -m lib.grids", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--profile", default="mini", help="thesis | mini | mini-fmnist (default mini)")
    common.add_argument("--grid", default="all", help="grid name(s) or 'all' (default all)")
    common.add_argument("--seeds", default=None, help="seeds, e.g. '0 1 2' (default: the grid's)")
    common.add_argument("--results-dir", default=str(RESULTS_DIR),
                        help="results root (default results/; relative = to the repository root)")
    sub.add_parser("list", parents=[common], help="grids and run counts")
    p = sub.add_parser("plan", parents=[common], help="check runs, write parameter files, make fragments, manifests")
    p.add_argument("--force", action="store_true", help="rerun every run of the selected grids")
    p.add_argument("--dry-run", action="store_true", help="(make -n) write no manifest")
    p.add_argument("--py", default=DEFAULT_PY, help="python of the project environment")
    p.add_argument("--papermill", default=None, help="papermill command (default: PY -m papermill ...)")
    p.add_argument("--makefile", default=None, help="also write the combined make file here")
    p.add_argument("--notebook", action="append", default=[], metavar="TASK=PATH",
                   help="training notebook of a task (tests)")
    sub.add_parser("status", parents=[common], help="manifest summary (merged with Slurm's view when submitted "
                   "there); failed runs with their retry command. make runs-status runs python -m lib.watch, "
                   "which adds how the running runs are doing")
    s = sub.add_parser("submit", parents=[common], help="submit the runs still to do as Slurm job arrays")
    s.add_argument("--force", action="store_true", help="rerun every run of the selected grids")
    s.add_argument("--retry", action="store_true", help="also resubmit the runs whose last execution failed")
    s.add_argument("--dry-run", action="store_true", help="(make -n) write the batch scripts, submit nothing")
    s.add_argument("--slurm-args", default="", help="sbatch options that override the defaults (SLURM_ARGS)")
    s.add_argument("--py", default=DEFAULT_PY, help="python of the project environment")
    s.add_argument("--papermill", default=None, help="papermill command (default: PY -m papermill ...)")
    s.add_argument("--env-dir", default=str(ROOT / ".venv"), help="the environment to activate in the batch script")
    s.add_argument("--notebook", action="append", default=[], metavar="TASK=PATH",
                   help="training notebook of a task (tests)")
    e = sub.add_parser("estimate", parents=[common], help="the time each make call of a plan will take (recorded "
                       "runtimes of the archive, else a per-epoch cost model; lib.grids.estimate)")
    e.add_argument("--call", action="append", metavar="JOBS:GRIDS",
                   help="one make call: runs at a time and its grids, in order (repeat; default 1:GRID)")
    e.add_argument("--force", action="store_true", help="FORCE=1: finished runs are trained again")
    sub.add_parser("exec", help="run one planned run: exec RESULT.json -- COMMAND ... (the make recipe)")
    args = parser.parse_args(argv)
    try:
        return {"list": cmd_list, "plan": cmd_plan, "status": cmd_status, "submit": cmd_submit,
                "estimate": cmd_estimate}[args.cmd](args)
    except GridError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
