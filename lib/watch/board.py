"""CLI: ``python -m lib.watch.board [--profile P] [--grid G] [--port N] [--print]`` (``make tensorboard``).

Starts TensorBoard on the scalars the runs of the selected grids write
(``results/<profile>/<grid>/tensorboard/<run>/``, :mod:`lib.train.board`): one grid as its folder,
several as ``--logdir_spec <grid>:<folder>,...`` so that TensorBoard names each run by its grid.
``--print`` prints the command instead of running it.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from lib import RESULTS_DIR, repo_path, shown_path
from lib.grids.cells import GridError
from lib.grids.plan import select_grids
from lib.train.board import ENV, FOLDER


def command(grids: list[str], profile: str, results_dir: Path, port: int) -> list[str]:
    """The TensorBoard command for the grids that have scalars; GridError when none has."""
    folders = {g: results_dir / profile / g / FOLDER for g in grids}
    found = {g: f for g, f in folders.items() if f.is_dir()}
    if not found:
        where = f"{shown_path(results_dir / profile)}/<grid>/{FOLDER}/ for grid(s) {', '.join(grids)}"
        raise GridError(f"no TensorBoard scalars yet (looked in {where}); runs write them while they train "
                        f"unless {ENV}=0")
    if len(found) == 1:
        logdir = ["--logdir", str(next(iter(found.values())))]
    else:
        logdir = ["--logdir_spec", ",".join(f"{g}:{f}" for g, f in found.items())]
    return [sys.executable, "-m", "tensorboard.main", *logdir, "--port", str(port)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.watch.board", description=__doc__)
    parser.add_argument("--profile", default="mini", help="thesis | mini (default mini)")
    parser.add_argument("--grid", default="all", help="grid name(s) or 'all' (default all)")
    parser.add_argument("--seeds", default=None, help="accepted for make's common arguments (unused)")
    parser.add_argument("--results-dir", default=str(RESULTS_DIR), help="results root (default results/)")
    parser.add_argument("--port", type=int, default=6006, help="TensorBoard's port (default 6006)")
    parser.add_argument("--print", action="store_true", help="print the command, do not run it")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        cmd = command(select_grids(args.grid), args.profile, repo_path(args.results_dir), args.port)
    except GridError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.print:
        print(shlex.join(cmd))
        return 0
    print(f"TensorBoard on http://localhost:{args.port}/ (Ctrl-C stops): {shlex.join(cmd[1:])}", flush=True)
    os.execv(cmd[0], cmd)  # TensorBoard takes over this process, so Ctrl-C reaches it


if __name__ == "__main__":
    sys.exit(main())
