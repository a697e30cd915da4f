"""JupyterLab as `make setup` and `make lab` leave it: notebooks that stay unmodified when opened, Lab at the
repository root opened on notebooks/, no news consent pop-up."""

from __future__ import annotations

import html
import json
import os
import re
import secrets
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

from lib import ROOT
from lib.notebook import KERNEL_DISPLAY_NAME, KERNEL_NAME, kernel_metadata
from tests.test_lab_browser import stop_group

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_setup_installs_the_kernel_the_notebooks_name():
    makefile = (ROOT / "Makefile").read_text()
    assert f"KERNEL := {KERNEL_NAME}" in makefile
    assert f'--display-name "{KERNEL_DISPLAY_NAME}"' in makefile


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_metadata_is_what_the_kernel_reports(path):
    """JupyterLab rewrites kernelspec/language_info from the running kernel: equal values keep an
    untouched notebook unmodified (no dirty mark, no git diff after a save)."""
    meta = nbformat.read(path, as_version=4).metadata
    expected = kernel_metadata()
    assert meta["kernelspec"] == expected["kernelspec"]
    assert meta["language_info"] == expected["language_info"]


def test_kernel_reports_the_committed_language_info():
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name=KERNEL_NAME)
    try:
        info = kc.kernel_info(reply=True, timeout=60)["content"]["language_info"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert info == kernel_metadata()["language_info"]


def _make_lab_command() -> list[str]:
    env_dir = Path(sys.executable).parent.parent
    out = subprocess.run(["make", "-n", "--no-print-directory", f"ENV_DIR={env_dir}", "-o",
                          str(env_dir / ".aees-setup-stamp"), "lab", "LAB_PORT=0"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    line = next(line for line in out.splitlines() if " -m jupyter lab " in line)
    return shlex.split(line)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_make_lab_opens_at_the_root_on_notebooks_without_news(tmp_path):
    cmd = _make_lab_command()
    assert "--ServerApp.root_dir=." in cmd and "--LabApp.default_url=/lab/tree/notebooks" in cmd
    token, port = secrets.token_hex(16), _free_port()
    cmd = [sys.executable if c.endswith("/python") else c for c in cmd if not c.startswith("--ServerApp.port")]
    cmd += [f"--ServerApp.port={port}", "--port-retries=0", f"--IdentityProvider.token={token}", "--no-browser"]
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "ws")}
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                page = urllib.request.urlopen(f"{base}/?token={token}", timeout=10)
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not start:\n" + (tmp_path / "lab.log").read_text()[-3000:])
                time.sleep(0.5)
        assert page.geturl().split("?")[0].endswith("/lab/tree/notebooks")  # the default URL: notebooks/ in view
        text = page.read().decode()
        config = json.loads(html.unescape(re.search(
            r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', text, re.S).group(1)))
        assert config["news"] == {"disabled": True}  # no feed: Lab asks no consent
        assert config["treePath"] == "notebooks"
        for folder in ("figures", "results", "docs", "notebooks"):  # the root is the repository
            with urllib.request.urlopen(f"{base}/api/contents/{folder}?content=0&token={token}", timeout=10) as r:
                assert json.loads(r.read())["type"] == "directory"
    finally:
        stop_group(proc)
        log.close()
