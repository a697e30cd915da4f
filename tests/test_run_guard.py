"""Output paths are checked and the run is locked before any data is touched."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from lib import ROOT, config
from lib.train import cifar as T
from lib.train import guard

TINY = dict(epochs=1, standin_n_train=256, standin_n_test=128, model_width=8, batch_size=64, seed=0)
# A second process claiming the run, without torch (T.start claims the same way: see the papermill test)
START = """
import sys, types
from pathlib import Path
from lib.train import guard
guard.claim(Path(sys.argv[1]), types.SimpleNamespace(profile="mini"))
print("claimed")
"""


def _cfg(output, **params):
    return config.resolve("cifar100", "mini", {**TINY, **params, "output": str(output)})


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(T, "DATA_DIR", tmp_path / "data")
    return tmp_path / "data"


def test_directory_output_is_refused_at_start(tmp_path, data_dir):
    (tmp_path / "out").mkdir()
    with pytest.raises(guard.OutputPathError, match=r"is a directory; give a file path, e\.g\. output=.*out/run\.json"):
        T.start(_cfg(tmp_path / "out"))
    assert not data_dir.exists()  # refused before any data was touched


def test_output_under_a_file_or_an_unwritable_folder_is_refused(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    with pytest.raises(guard.OutputPathError, match="is a file, not a folder"):
        guard.validate_output(tmp_path / "file" / "sub" / "run.json", _cfg(tmp_path / "x.json"))
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(tmp_path) else real_access(p, mode))
    with pytest.raises(guard.OutputPathError, match="no write permission in"):
        guard.validate_output(tmp_path / "new" / "run.json", _cfg(tmp_path / "x.json"))


def test_paths_in_a_grid_folder_must_be_that_grid_run_with_its_parameters():
    grid = ROOT / "results" / "mini" / "cifar-clean"
    run = json.loads((grid / "manifest.json").read_text())["runs"][0]
    target = ROOT / run["output"]
    own = {k: v for k, v in run["parameters"].items() if k not in ("profile", "run_id")}
    guard.validate_output(target, config.resolve(run["task"], "mini", own))  # the run itself: fine
    with pytest.raises(guard.OutputPathError, match=f"belongs to run {run['name']} of grid cifar-clean.*seed"):
        guard.validate_output(target, config.resolve(run["task"], "mini", {**own, "seed": 7}))
    with pytest.raises(guard.OutputPathError, match="is not one of its runs.*results/mini/scratch/mine.json"):
        guard.validate_output(grid / "mine.json", config.resolve("cifar100", "mini", own))
    with pytest.raises(guard.OutputPathError, match="belongs to run .*task_name 'sst2' != 'cifar100'"):
        guard.validate_output(target, config.resolve("sst2", "mini", {}))


def test_second_process_on_the_same_output_is_refused_with_the_holder(tmp_path):
    out = tmp_path / "run.json"
    guard.claim(out, _cfg(out))
    try:
        guard.claim(out, _cfg(out))  # the same process (a notebook re-running its cells): fine
        proc = subprocess.run([sys.executable, "-c", START, str(out)], capture_output=True, text=True,
                              cwd=ROOT, timeout=120)
        assert proc.returncode != 0 and "claimed" not in proc.stdout
        assert f"is being trained by pid {os.getpid()} on host {socket.gethostname()}" in proc.stderr
        assert "RunLockedError" in proc.stderr
    finally:
        guard.release(out)
    assert not guard.lock_path(out).exists()
    proc = subprocess.run([sys.executable, "-c", START, str(out)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 0 and "claimed" in proc.stdout, proc.stderr


def test_make_runner_records_the_refusal(tmp_path):
    """Through ``python -m lib.grids exec`` (what make runs): non-zero, and the manifest says why."""
    grid = tmp_path / "mini" / "g"
    out = grid / "r.json"
    guard.claim(out, _cfg(out))
    try:
        proc = subprocess.run([sys.executable, "-m", "lib.grids", "exec", str(out), "--",
                               sys.executable, "-c", START, str(out)],
                              capture_output=True, text=True, cwd=ROOT, timeout=120)
    finally:
        guard.release(out)
    assert proc.returncode != 0
    entry = json.loads((grid / "manifest.json").read_text())["runs"][0]
    assert entry["status"] == "failed" and f"is being trained by pid {os.getpid()}" in entry["error"]


@pytest.mark.slow
def test_papermill_by_hand_on_a_locked_run_exits_nonzero(tmp_path):
    out = tmp_path / "run.json"
    guard.claim(out, _cfg(out))
    try:
        proc = subprocess.run([sys.executable, "-m", "papermill", "--kernel", "aees", "--no-progress-bar",
                               str(ROOT / "notebooks" / "train_cifar100.ipynb"), str(tmp_path / "run.ipynb"),
                               "-p", "epochs", "1", "-p", "output", str(out)],
                              capture_output=True, text=True, cwd=ROOT, timeout=300)
    finally:
        guard.release(out)
    assert proc.returncode != 0
    assert f"is being trained by pid {os.getpid()} on host {socket.gethostname()}" in proc.stderr
