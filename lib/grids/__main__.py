"""CLI: ``python -m lib.grids list | plan | exec | status`` (``make runs`` calls plan and exec)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lib import RESULTS_DIR, repo_path
from lib.grids import manifest
from lib.grids.cells import GridError
from lib.grids.definitions import GRIDS
from lib.grids.plan import DEFAULT_PY, grid_runs, parse_seeds, plan, rel, select_grids


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
        n = len(grid_runs(name, args.profile, parse_seeds(args.seeds), _dir(args.results_dir)))
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
        data = manifest.read(_dir(args.results_dir) / args.profile / name)
        if data is None:
            print(f"{name}: no manifest (run `make runs GRID={name} PROFILE={args.profile}`)")
            continue
        c = data.get("counts", {})
        print(f"{name}: {c.get('finished', 0)} finished, {c.get('failed', 0)} failed, "
              f"{c.get('pending', 0)} pending of {data.get('run_count', 0)}")
        for run in data.get("runs", []):
            if run.get("status") == "failed":
                print(f"  FAILED {run['name']}: {run.get('error', '')}\n    retry: {run.get('retry', '')}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["exec"]:
        from lib.grids.runner import execute
        rest = argv[1:]
        if "--" not in rest or rest.index("--") != 1:
            print("usage: python -m lib.grids exec RESULT.json -- COMMAND ...", file=sys.stderr)
            return 2
        return execute(rest[0], rest[2:])
    parser = argparse.ArgumentParser(prog="python -m lib.grids", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--profile", default="mini", help="thesis | mini (default mini)")
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
    sub.add_parser("status", parents=[common], help="manifest summary; failed runs with their retry command")
    sub.add_parser("exec", help="run one planned run: exec RESULT.json -- COMMAND ... (the make recipe)")
    args = parser.parse_args(argv)
    try:
        return {"list": cmd_list, "plan": cmd_plan, "status": cmd_status}[args.cmd](args)
    except GridError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
