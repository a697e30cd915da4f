"""Progress within an epoch: silent in tests, throttled plain lines in logs."""

from __future__ import annotations

import os
import subprocess
import sys

import nbformat
import pytest

from lib import ROOT
from lib.train import progress


def test_silent_under_pytest(monkeypatch, capfd):
    monkeypatch.setattr(progress, "DELAY_SECONDS", 0.0)
    assert progress.mode() == "off"
    assert list(progress.steps(range(50), 50, "epoch 1/1")) == list(range(50))
    assert capfd.readouterr() == ("", "")


def test_lines_are_plain_throttled_and_updated_every_n_steps(monkeypatch, capsys):
    monkeypatch.setenv("AEES_PROGRESS", "lines")
    monkeypatch.setattr(progress, "DELAY_SECONDS", 0.0)
    monkeypatch.setattr(progress, "LINE_SECONDS", 0.0)
    assert list(progress.steps(range(1000), 1000, "epoch 3/40")) == list(range(1000))
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "\r" not in out and all(ln.startswith("epoch 3/40") for ln in lines)
    # one line per update at most: the bar is updated every 1000 // UPDATES = 10 steps
    assert 2 <= len(lines) <= 102 and any("500/1000" in ln for ln in lines)
    assert not any("505/1000" in ln for ln in lines)

    monkeypatch.setattr(progress, "LINE_SECONDS", 30.0)  # the default throttle: a fast epoch prints ~nothing
    list(progress.steps(range(1000), 1000, "epoch 4/40"))
    assert len(capsys.readouterr().out.splitlines()) <= 1


def test_short_epochs_show_nothing(monkeypatch, capsys):
    monkeypatch.setenv("AEES_PROGRESS", "lines")
    monkeypatch.setattr(progress, "LINE_SECONDS", 0.0)
    list(progress.steps(range(200), 200, "epoch 1/1"))  # done well within DELAY_SECONDS
    assert capsys.readouterr().out == ""


def test_unknown_mode_is_an_error(monkeypatch):
    monkeypatch.setenv("AEES_PROGRESS", "fancy")
    with pytest.raises(ValueError, match="AEES_PROGRESS must be one of auto, widget, lines, off"):
        progress.mode()


@pytest.mark.slow
def test_papermill_kernel_gets_plain_lines(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from lib.train import progress\nprint('mode', progress.mode())")]
    src, dst = tmp_path / "probe.ipynb", tmp_path / "probe.out.ipynb"
    nbformat.write(nb, src)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_CURRENT_TEST", "AEES_PROGRESS")}
    subprocess.run([sys.executable, "-m", "papermill", "--kernel", "aees", "--no-progress-bar", str(src),
                    str(dst)], check=True, env=env, cwd=ROOT, capture_output=True, timeout=300)
    text = nbformat.read(dst, as_version=4).cells[0].outputs[0]["text"]
    assert text.strip() == "mode lines"


@pytest.mark.slow
def test_jupyter_kernel_gets_a_widget():
    from jupyter_client.manager import start_new_kernel

    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_CURRENT_TEST", "AEES_PROGRESS")}
    env["PYTHONPATH"] = str(ROOT)
    km, kc = start_new_kernel(kernel_name="aees", cwd=str(ROOT), env=env)
    try:
        kc.execute("from lib.train import progress\nprogress.DELAY_SECONDS = 0\nprint(progress.mode())\n"
                   "n = len(list(progress.steps(iter(range(10)), 10, 'epoch 1/1')))")
        seen = []
        while True:
            msg = kc.get_iopub_msg(timeout=120)
            if msg["msg_type"] in ("stream", "display_data", "error"):
                seen.append(msg)
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle" and seen:
                break
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert seen[0]["content"].get("text") == "widget\n", seen[0]["content"]
    assert any("application/vnd.jupyter.widget-view+json" in m["content"].get("data", {}) for m in seen)
    assert not any(m["msg_type"] == "error" for m in seen)
