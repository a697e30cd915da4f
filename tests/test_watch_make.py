"""A real ``make -j 2`` grid (papermill, the training notebook, the grid runner) watched while it runs:
epochs advance, each run has a finish estimate and the grid its time left, and a run killed with
its runner (as a lost node or a killed make would) is reported dead with the command that resumes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lib import ROOT
from lib.grids import GRIDS, manifest, plan
from lib.grids.cells import Cell, Grid
from lib.train import live
from lib.watch.report import report

PY = sys.executable
TINY = {"episode_length": 3, "standin_n_train": 256, "standin_n_test": 128, "model_width": 8, "batch_size": 64}
GRID = Grid("watch-tiny", "tiny CIFAR grid of the watch test", (
    Cell("tiny_aees", "cifar100", {"control_mode": "adaptive", "lr_candidates": [0.5, 1.0, 2.0], "optimizer": "AdamW",
                                   "lr": 1e-3, "epochs": 60, **TINY}, "AEES"),
    Cell("tiny_adamw", "cifar100", {"control_mode": "baseline", "optimizer": "AdamW", "lr": 1e-3, "epochs": 10,
                                    **TINY}, "AdamW")), seeds={"*": (0,)})
KILLED, SURVIVOR = "tiny_aees_seed0", "tiny_adamw_seed0"


def _epochs(grid_dir: Path) -> dict[str, int]:
    recs = {name: live.read(live.path_of(grid_dir / f"{name}.json")) for name in (KILLED, SURVIVOR)}
    return {name: r["epoch"] for name, r in recs.items() if r is not None}


def _wait(what, timeout: float, make: subprocess.Popen):
    deadline = time.time() + timeout
    while True:
        got = what()
        if got:
            return got
        assert make.poll() is None, f"make ended early: {make.communicate()[0]}"
        assert time.time() < deadline, "timed out"
        time.sleep(0.2)


def _ancestors_up_to_the_runner(pid: int) -> list[int]:
    """The kernel's chain: kernel <- papermill <- the grid runner (python -m lib.grids exec)."""
    chain = [pid]
    while b"lib.grids" not in Path(f"/proc/{chain[-1]}/cmdline").read_bytes():
        chain.append(int(Path(f"/proc/{chain[-1]}/stat").read_text().rsplit(")", 1)[1].split()[1]))
        assert len(chain) < 6, chain
    return chain


@pytest.mark.slow
def test_make_j2_grid_watched_mid_run_and_a_killed_run_is_dead(tmp_path, monkeypatch):
    monkeypatch.setitem(GRIDS, GRID.name, GRID)
    res = tmp_path / "results"
    plan(GRID.name, "mini", results_dir=res, py=PY, makefile=res / "plan.mk")
    grid_dir = res / "mini" / GRID.name
    env = {**os.environ, "AEES_DATA_DIR": str(tmp_path / "data"), "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    make = subprocess.Popen(["make", "--no-print-directory", "-k", "-j", "2", "-f", str(res / "plan.mk"), f"PY={PY}"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = _wait(lambda: (e := _epochs(grid_dir)) and len(e) == 2 and min(e.values()) >= 1 and e, 120, make)
        text = report([GRID.name], "mini", res)
        assert "0 finished, 2 running" in text and "left at 2 at a time" in text, text
        for name in (KILLED, SURVIVOR):
            line = next(ln for ln in text.splitlines() if name in ln)
            assert line.lstrip().startswith("RUNNING") and "s/epoch  finish ~" in line, line
        later = _wait(lambda: (e := _epochs(grid_dir)) and e[KILLED] > first[KILLED] and e, 60, make)
        assert later[KILLED] > first[KILLED]
        kernel = live.read(live.path_of(grid_dir / f"{KILLED}.json"))["pid"]
        for pid in reversed(_ancestors_up_to_the_runner(kernel)):  # the runner first: it records nothing
            os.kill(pid, signal.SIGKILL)
        out = make.communicate(timeout=180)[0]
    finally:
        if make.poll() is None:
            make.kill()
    assert make.returncode != 0  # the killed recipe failed; -k let the other run finish
    data = manifest.read(grid_dir)
    assert manifest.entry(data, SURVIVOR)["status"] == "finished", out
    assert manifest.entry(data, KILLED)["status"] == "pending"  # its runner died before recording anything
    text = report([GRID.name], "mini", res)
    assert text.startswith(f"{GRID.name}: 1 finished, 0 running, 0 stalled, 1 dead"), text
    lines = text.splitlines()
    dead = next(i for i, ln in enumerate(lines) if KILLED in ln)
    assert lines[dead].lstrip().startswith(f"DEAD     {KILLED}: gone after epoch ")
    assert f"without a RunResult: process {kernel} on " in lines[dead] and "no longer exists" in lines[dead]
    assert lines[dead + 1].strip() == f"resume (from its checkpoint): {manifest.entry(data, KILLED)['command']}"
    assert lines[dead + 2].strip() == f"or with the rest of the grid: make runs GRID={GRID.name} PROFILE=mini"
    assert (grid_dir / "tensorboard" / SURVIVOR).is_dir() and not live.path_of(grid_dir / f"{SURVIVOR}.json").exists()
