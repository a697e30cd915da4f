"""mk/analysis.mk is incremental and honest (`make -q` / `make -n`), `make lab` composes its flags,
and the committed figures/ are what the figure targets rebuild on a fresh clone (byte for byte)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from lib import ROOT
from lib.vocab import CHAPTERS
from tests.test_analysis_notebooks import record

ENV_DIR = Path(sys.executable).parent.parent  # the environment running the tests (its setup stamp exists)
MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="GNU make is not installed")


def make(*args: str, cwd: Path = ROOT, check: bool = True) -> subprocess.CompletedProcess:
    """make with this environment, its setup never remade (a clone must not reinstall the shared environment)."""
    stamp = ENV_DIR / ".aees-setup-stamp"
    cmd = [MAKE, "--no-print-directory", f"ENV_DIR={ENV_DIR}", "-o", str(stamp), *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    if check:
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def chapters_run(dry: str) -> list[str]:
    return [line.split(" chapter ")[1].split()[0] for line in dry.splitlines() if " chapter " in line]


def test_make_lists_every_chapter() -> None:
    """mk/analysis.mk reads the chapter list from lib/vocab.py: what make sees is that list."""
    shown = make("-s", "--eval", "show-chapters: ; @echo $(ANALYSIS_CHAPTERS)", "show-chapters").stdout
    assert shown.split() == list(CHAPTERS)


@pytest.mark.slow
def test_figures_are_incremental(tmp_path: Path) -> None:
    """Second build: nothing to do (-q exits 0, -n prints no command); one touched run: its chapter only;
    a new run: every chapter (~1 min on 2 cores)."""
    arch = tmp_path / "arch"
    (arch / "clean").mkdir(parents=True)
    (arch / "nlp").mkdir()
    for seed in (0, 1):
        for name, kw in (("adamw", {}), ("aees", {"mode": "adaptive", "lr": (0.5, 1, 2)})):
            rec = record(seed, best=0.3 + seed / 100, final=0.25, peak=3, epochs=4, profile="mini", **kw)
            (arch / "clean" / f"{name}_{seed}.json").write_text(json.dumps(rec))
        rec = record(seed, best=0.8, final=0.79, peak=2, epochs=3, task="sst2", profile="mini")
        (arch / "nlp" / f"sst2_adamw_{seed}.json").write_text(json.dumps(rec))
    (arch / "clean" / "manifest.json").write_text('{"runs": []}')  # as `make runs` writes, not a RunResult
    figs = tmp_path / "figs"
    args = (f"ARCHIVE={arch}", f"FIGURES={figs}")
    first = make("-n", "figures", *args).stdout
    assert sorted(chapters_run(first)) == sorted(CHAPTERS)
    make("-j", "2", "figures", *args)
    assert (figs / "index.csv").is_file() and (figs / "cifar_clean" / "cifar_clean_main_table.tex").is_file()
    assert make("-q", "figures", *args, check=False).returncode == 0
    assert chapters_run(make("-n", "figures", *args).stdout) == []

    time.sleep(1.1)  # a newer mtime on every file system
    (arch / "nlp" / "sst2_adamw_0.json").touch()
    assert make("-q", "figures", *args, check=False).returncode == 1
    assert sorted(chapters_run(make("-n", "figures", *args).stdout)) == ["claims", "nlp"]  # C1 reads SST-2 too
    before = (figs / "cifar_clean" / "cifar_clean_main_table.tex").stat().st_mtime_ns
    make("figures", *args)
    assert (figs / "cifar_clean" / "cifar_clean_main_table.tex").stat().st_mtime_ns == before  # not rebuilt
    assert make("-q", "figures", *args, check=False).returncode == 0

    time.sleep(1.1)  # the manifest rewritten (as every `make runs` does): nothing to rebuild
    (arch / "clean" / "manifest.json").write_text('{"runs": [], "again": true}')
    assert make("-q", "figures", *args, check=False).returncode == 0

    time.sleep(1.1)  # a new run in the archive: every chapter may read it
    (arch / "clean" / "extra.json").write_text(json.dumps(record(2, best=0.4, final=0.3, peak=2, epochs=4,
                                                                 profile="mini")))
    assert sorted(chapters_run(make("-n", "figures", *args).stdout)) == sorted(CHAPTERS)


def test_lab_flags_root_and_user() -> None:
    """--allow-root only for euid 0; bind address, port and token from make variables."""
    as_root = make("-n", "lab", "LAB_UID=0", "LAB_TOKEN=abc", "LAB_IP=0.0.0.0", "LAB_PORT=9123").stdout
    lab = next(line for line in as_root.splitlines() if "jupyter lab" in line)
    assert "--allow-root" in lab and "--ServerApp.ip='0.0.0.0'" in lab and "--ServerApp.port='9123'" in lab
    assert "--IdentityProvider.token='abc'" in lab
    as_user = make("-n", "lab", "LAB_UID=1000").stdout
    lab = next(line for line in as_user.splitlines() if "jupyter lab" in line)
    assert "--allow-root" not in lab and "--ServerApp.ip='127.0.0.1'" in lab and "token" not in lab


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


@pytest.mark.slow
def test_make_lab_serves_with_token(tmp_path: Path) -> None:
    """`make lab` really starts as this user (root in a container: --allow-root) and wants the token."""
    port, token = _free_port(), "aees-test-token"
    stamp = ENV_DIR / ".aees-setup-stamp"
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg")}
    env.pop("DISPLAY", None)
    proc = subprocess.Popen([MAKE, "--no-print-directory", f"ENV_DIR={ENV_DIR}", "-o", str(stamp), "lab",
                             f"LAB_PORT={port}", f"LAB_TOKEN={token}"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    base = f"http://127.0.0.1:{port}/api/status"
    try:
        deadline, code = time.monotonic() + 120, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                code = _status(f"{base}?token={token}")
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.5)
        assert code == 200, f"JupyterLab did not answer on port {port}: rc {proc.poll()}"
        assert _status(base) == 403  # no token, no entry
    finally:
        os.killpg(proc.pid, 15)
        out, _ = proc.communicate(timeout=30)
    assert ("--allow-root" in out) == (os.geteuid() == 0)


@pytest.mark.slow
def test_fresh_clone_rebuilds_committed_figures_byte_for_byte(tmp_path: Path) -> None:
    """Clone HEAD, run the figure targets there: `git status --porcelain` stays empty."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone)], check=True, timeout=300)
    assert (clone / "figures" / "index.csv").is_file(), "figures/ is not committed"
    done = make("-j", "2", "figures", "ADOPT=0", cwd=clone)
    assert "chapter cifar_clean" in done.stdout  # the clone really rebuilt (no stamps, none adopted)
    status = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True, check=True)
    assert status.stdout == "", f"rebuilt figures differ from the committed ones:\n{status.stdout}"
