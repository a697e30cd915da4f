"""A fresh clone stays clean and fast: `make` after setup trains nothing, rebuilds nothing whose inputs are
unchanged (by content), leaves `git status` empty; `make -n` writes nothing. Plus the pieces behind it."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lib import ROOT
from lib.vocab import CHAPTERS
from lib.analysis.incremental import adopt
from lib.analysis.render import open_archive, render_all
from lib.grids import manifest
from lib.grids.plan import plan
from lib.grids.runner import _record, _run_logged
from tests.test_analysis_notebooks import record
from tests.test_make_analysis import ENV_DIR, MAKE

CLONE_MAKE_SECONDS = 30.0


def _status(repo: Path, *extra: str) -> str:
    return subprocess.run(["git", "status", "--porcelain", *extra], cwd=repo, capture_output=True, text=True,
                          check=True).stdout


def _make(clone: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """make in the clone as a user runs it after `make setup`: its .venv (this environment, linked) is set up,
    so the setup stamp counts as current (-o); nothing else is overridden."""
    cmd = [MAKE, "--no-print-directory", "-o", str(clone / ".venv" / ".aees-setup-stamp"), *args]
    env = {k: v for k, v in os.environ.items() if k not in ("CONDA_PREFIX", "CONDA_DEFAULT_ENV", "PYTHONPATH")}
    done = subprocess.run(cmd, cwd=clone, env={**env, "PYTHONPATH": str(clone)}, capture_output=True, text=True,
                          timeout=900)
    if check:
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.mark.slow
@pytest.mark.skipif(MAKE is None, reason="GNU make is not installed")
def test_make_on_a_fresh_clone_is_clean_and_fast(tmp_path):
    """The seconds are CPU seconds of make and everything it starts: on an otherwise idle machine that is the
    wall clock (the work is one process at a time); on a shared one the wall clock also counts the others."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone)], check=True, timeout=300)
    (clone / ".venv").symlink_to(ENV_DIR)
    ignored = _status(clone, "--ignored")
    _make(clone, "-n")
    _make(clone, "-n", "runs", "GRID=sst2", "SEEDS=3")
    assert _status(clone, "--ignored") == ignored, "make -n wrote into the clone"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = _make(clone)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert "[grids] start" not in done.stdout and " chapter " not in done.stdout, done.stdout[-3000:]
    assert "report: figures/report.html current by content" in done.stdout, done.stdout[-3000:]
    assert _status(clone) == "", f"make changed the clone:\n{_status(clone)}"
    assert cpu <= CLONE_MAKE_SECONDS, f"make took {cpu:.0f} CPU seconds ({wall:.0f} s wall) on a fresh clone"
    again = _make(clone, "-q", "figures", "report", check=False)
    assert again.returncode == 0, "a second make would rebuild something"


def _tiny_archive(root: Path) -> Path:
    arch = root / "arch"
    (arch / "clean").mkdir(parents=True)
    for seed in (0, 1):
        for name, kw in (("adamw", {}), ("aees", {"mode": "adaptive", "lr": (0.5, 1, 2)})):
            rec = record(seed, best=0.3 + seed / 100, final=0.25, peak=3, epochs=4, profile="mini", **kw)
            (arch / "clean" / f"{name}_{seed}.json").write_text(json.dumps(rec))
    return arch


@pytest.mark.slow
def test_adopt_stamps_exactly_the_chapters_current_by_content(tmp_path):
    arch, figs, stamps = _tiny_archive(tmp_path), tmp_path / "figs", tmp_path / "stamps"
    render_all(open_archive(arch, figs))
    assert adopt(str(arch), str(figs), stamps) == list(CHAPTERS)
    assert all((stamps / f"{c}.csv").is_file() and (stamps / f"{c}.csv.d").is_file() for c in CHAPTERS)
    assert adopt(str(arch), str(figs), stamps) == []  # stamped chapters are left alone

    for stamp in stamps.iterdir():
        stamp.unlink()
    changed = json.loads((arch / "clean" / "adamw_0.json").read_text())
    changed["val_accuracies"][-1] = 0.2
    (arch / "clean" / "adamw_0.json").write_text(json.dumps(changed))
    adopted = adopt(str(arch), str(figs), stamps)
    assert "cifar_clean" not in adopted and adopted  # the chapter that reads the run is left to make

    for stamp in stamps.iterdir():
        stamp.unlink()
    (figs / "cifar_clean" / "cifar_clean_main_table.tex").unlink()  # a committed file missing: rebuilt
    assert "cifar_clean" not in adopt(str(arch), str(figs), stamps)


def test_a_finished_run_finalises_the_alias_rows_of_every_grid(tmp_path):
    profile = tmp_path / "mini"
    target = profile / "cifar-clean" / "run_seed0.json"
    other = profile / "ablation-penalty"
    manifest.write(other, {"grid": "ablation-penalty", "runs": [], "aliases": [
        {"name": "alias_seed0", "same_as": str(target), "status": "pending"},
        {"name": "unrelated", "same_as": str(profile / "x.json"), "status": "pending"}]})
    _record(target.parent, "run_seed0", {"status": "finished"}, "retry")
    aliases = manifest.read(other)["aliases"]
    assert [a["status"] for a in aliases] == ["finished", "pending"]


def test_committed_manifests_are_final():
    """No alias row of the committed archive says pending while its run is finished (make would rewrite it)."""
    for path in sorted((ROOT / "results" / "mini").glob("*/manifest.json")):
        data = json.loads(path.read_text())
        finished = {r["output"] for p in (ROOT / "results" / "mini").glob("*/manifest.json")
                    for r in json.loads(p.read_text())["runs"] if r["status"] == "finished"}
        stale = [a["name"] for a in data.get("aliases", []) if a["same_as"] in finished and a["status"] != "finished"]
        assert not stale, f"{path.relative_to(ROOT)}: aliases still pending: {stale}"


def test_a_dry_run_plan_writes_nothing_into_the_results(tmp_path):
    results, makefile = tmp_path / "results", tmp_path / "elsewhere" / "plan.mk"
    p = plan("sst2", "mini", seeds="7", dry_run=True, results_dir=results, makefile=makefile)
    assert p.todo() and not results.exists()
    text = makefile.read_text()
    assert "include " not in text and "sst2_adamw_none_seed7.json:" in text  # the fragment inline


def test_the_runner_streams_epoch_lines_and_logs_everything(tmp_path):
    lines = []
    script = ("print('Input Notebook: x'); print('epoch   1/2  loss 1.0  val acc 0.5  lr 1.00e-03  1.0s  "
              "arms lr x1'); print('other')")
    rc = _run_logged([sys.executable, "-c", script], {}, tmp_path / "run.log", "run_seed0", lines.append)
    assert rc == 0
    assert lines == ["[run_seed0] epoch   1/2  loss 1.0  val acc 0.5  lr 1.00e-03  1.0s  arms lr x1"]
    assert (tmp_path / "run.log").read_text().splitlines()[::2] == ["Input Notebook: x", "other"]
