"""make setup never re-points an environment shared with another checkout (a worktree or clone with a
linked .venv) when this checkout's dependency files differ from the ones it was set up from."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from lib import ROOT

MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="GNU make is not installed")


def _fake_env(root: Path, owner: str) -> Path:
    """An environment whose python names ``owner`` as its project's checkout and logs every other call
    (pip, ipykernel) instead of running it, so that the test can never touch a real environment."""
    env = root / "venv"
    (env / "bin").mkdir(parents=True)
    py = env / "bin" / "python"
    py.write_text(f'#!/bin/sh\ncase "$*" in\n  "-I -c"*) [ -n "{owner}" ] && echo "{owner}" || exit 1 ;;\n'
                  f'  *) echo "$*" >> "{env}/calls" ;;\nesac\n')
    py.chmod(0o755)
    return env


def _setup(env: Path) -> subprocess.CompletedProcess:
    return subprocess.run([MAKE, "--no-print-directory", "setup", f"ENV_DIR={env}"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={k: v for k, v in os.environ.items() if k != "MAKEFLAGS"})


def test_setup_stops_when_the_environment_belongs_to_another_checkout(tmp_path):
    env = _fake_env(tmp_path, "/elsewhere/checkout")
    done = _setup(env)
    assert done.returncode != 0
    assert "environment of the checkout /elsewhere/checkout" in done.stderr and "make setup ENV_DIR=" in done.stderr
    assert not (env / "calls").exists() and not (env / ".aees-setup-stamp").exists()  # nothing installed


@pytest.mark.parametrize("owner", ["this checkout", ""])
def test_setup_installs_into_its_own_or_a_new_environment(tmp_path, owner):
    env = _fake_env(tmp_path, str(ROOT.resolve()) if owner else "")
    done = _setup(env)
    assert done.returncode == 0, done.stderr
    calls = (env / "calls").read_text()
    assert "--require-hashes" in calls and "install --quiet --no-deps -e ." in calls and "ipykernel install" in calls
    assert (env / ".aees-setup-stamp").is_file()
