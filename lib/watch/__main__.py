"""CLI: ``python -m lib.watch [--profile P] [--grid G] [--every SECONDS]`` (``make runs-status [WATCH=1]``)."""

from __future__ import annotations

import argparse
import sys
import time

from lib import RESULTS_DIR, repo_path
from lib.grids.cells import GridError
from lib.grids.plan import select_grids
from lib.watch.report import report

CLEAR = "\033[H\033[2J"  # cursor home, clear screen: the refreshed report replaces the old one


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.watch", description=__doc__)
    parser.add_argument("--profile", default="mini", help="thesis | mini (default mini)")
    parser.add_argument("--grid", default="all", help="grid name(s) or 'all' (default all)")
    parser.add_argument("--seeds", default=None, help="accepted for make's common arguments; the manifest "
                        "lists the planned runs")
    parser.add_argument("--results-dir", default=str(RESULTS_DIR),
                        help="results root (default results/; relative = to the repository root)")
    parser.add_argument("--every", type=float, default=0.0, metavar="SECONDS",
                        help="refresh in place every SECONDS until Ctrl-C (default 0: print once)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.every < 0:
        parser.error(f"--every must be >= 0 seconds; got {args.every:g}")
    try:
        grids = select_grids(args.grid)
    except GridError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    results = repo_path(args.results_dir)
    if not args.every:
        sys.stdout.write(report(grids, args.profile, results))
        return 0
    try:
        while True:
            text = report(grids, args.profile, results)
            sys.stdout.write(f"{CLEAR}{text}\n[{time.strftime('%H:%M:%S')}] refreshed every {args.every:g} s; "
                             "Ctrl-C stops\n")
            sys.stdout.flush()
            time.sleep(args.every)
    except (KeyboardInterrupt, BrokenPipeError):  # Ctrl-C, or the reader of a pipe (| head) went away
        return 0


if __name__ == "__main__":
    sys.exit(main())
