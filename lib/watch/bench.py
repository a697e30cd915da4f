"""How long ``make runs-status`` takes on the whole thesis plan: ``python -m lib.watch.bench`` (``make bench-watch``).

Plans every thesis grid into a temporary results folder (the peak re-runs with their parents'
length, as ``make runs-list`` counts them), makes it a campaign in progress (every second run
finished; ``--running`` runs with a live record whose process is alive, a child ``sleep``; five
dead), builds the thesis-number lookup once, then times ``--repeats`` separate
``python -m lib.watch --profile thesis`` processes (interpreter start-up included, as a user sees
it) and prints the fastest, the median and the slowest. The folder is removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lib import ROOT
from lib.grids import manifest
from lib.grids.plan import _manifest_entry, grid_runs, plan
from lib.train import live
from lib.watch.thesis import published

DEAD = 5


def _record(epoch: int, epochs: int, pid: int, age: float) -> str:
    now = time.time()
    return json.dumps({"format": live.FORMAT, "epoch": epoch, "epochs": epochs, "val": 0.5, "best": 0.55,
                       "best_epoch": epoch, "lr": 1e-3, "arm": {"lr": 2.0, "sigma": 0.0}, "started": now - 3600,
                       "pid": pid, "host": socket.gethostname(), "slurm_task": None, "resumed_at": 0,
                       "seconds_per_epoch": 40.0, "time": now - age})


def campaign(results: Path, running: int, alive_pid: int, dead_pid: int) -> tuple[int, int, int]:
    """Plan the thesis grids under ``results`` and fake a campaign in progress; (runs, running, dead)."""
    plan("all", "thesis", results_dir=results, check_data=False)  # planned, never run: no data needed
    derived = grid_runs("cifar-peak-rerun", "thesis", results_dir=results, parents="upper-bound")
    manifest.write(results / "thesis" / "cifar-peak-rerun", {
        "grid": "cifar-peak-rerun", "profile": "thesis",
        "runs": [_manifest_entry(s, ("missing", "not run yet"), False, None, "") for s in derived]})
    n = started = dead = 0
    grid_dirs = sorted(d for d in (results / "thesis").iterdir() if d.is_dir())
    for grid_dir in grid_dirs:
        data = manifest.read(grid_dir)
        for i, run in enumerate(data["runs"]):
            n += 1
            epochs = run["parameters"]["epochs"]
            if i % 2 == 0:
                run["status"] = "finished"
            elif i % 7 == 1 and started < running:
                started += 1
                live.path_of(Path(run["output"])).write_text(_record(epochs // 2, epochs, alive_pid, 5.0))
            elif i % 11 == 3 and dead < DEAD:
                dead += 1
                live.path_of(Path(run["output"])).write_text(_record(1, epochs, dead_pid, 600.0))
        manifest.write(grid_dir, data)
    return n, started, dead


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.watch.bench", description=__doc__)
    parser.add_argument("--running", type=int, default=20, help="runs training at once (default 20)")
    parser.add_argument("--repeats", type=int, default=5, help="timed status calls (default 5)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    tmp = Path(tempfile.mkdtemp(prefix="aees-watch-bench-"))
    sleeper = subprocess.Popen(["sleep", "3600"])
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    try:
        results = tmp / "results"
        n, running, dead = campaign(results, args.running, sleeper.pid, gone.pid)
        published(results)
        cmd = [sys.executable, "-m", "lib.watch", "--profile", "thesis", "--results-dir", str(results)]
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True,
                                 env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout
            times.append(time.perf_counter() - start)
        shown = {s: out.count(f"  {s.upper():<8} ") for s in ("running", "dead")}
        print(f"make runs-status PROFILE=thesis on the whole thesis plan: {n} runs, {running} running "
              f"({shown['running']} shown), {dead} dead ({shown['dead']} shown), {args.repeats} calls: "
              f"fastest {min(times):.2f} s, median {statistics.median(times):.2f} s, slowest {max(times):.2f} s")
    finally:
        sleeper.kill()
        sleeper.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
