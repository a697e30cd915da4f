"""JupyterLab in a real browser: explore_aees.ipynb runs top to bottom with the project kernel.

Starts JupyterLab on 127.0.0.1 (a free port, a random token, ``--allow-root`` as root) on a
copy of the notebook, drives Debian's headless Chromium through chromedriver and Selenium
(no browser download) to run every cell, then checks that every code cell ran without an
error output and that every figure rendered as an image in the page. A screenshot is kept
in the test's temporary directory. Skipped, with the reason, where Selenium, Chromium or
chromedriver is missing (``.ci/run`` installs ``chromium chromium-driver`` with apt-get).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
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

NOTEBOOK = "explore_aees.ipynb"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage")
START_TIMEOUT = 120
RUN_TIMEOUT = 600  # explore_aees.ipynb itself: see the README (a few minutes on two busy cores)


def stop_group(proc: subprocess.Popen) -> None:
    """Stop a server started in its own process group (JupyterLab and its kernels): TERM, then KILL."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture
def chromium_paths() -> tuple[str, str]:
    """(browser, chromedriver); skips with the reason when either, or Selenium, is missing."""
    pytest.importorskip("selenium", reason="selenium is not installed (pinned in pyproject.toml)")
    binary = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    driver = shutil.which("chromedriver")
    if binary is None or driver is None:
        missing = " and ".join(n for n, p in (("chromium", binary), ("chromedriver", driver)) if p is None)
        pytest.skip(f"no {missing} on PATH: apt-get install -y --no-install-recommends chromium chromium-driver")
    return binary, driver


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


@pytest.fixture
def lab(tmp_path):
    """JupyterLab on a copy of the notebook; yields (base url, token, notebook folder)."""
    work = tmp_path / "notebooks"
    work.mkdir()
    nb = nbformat.read(ROOT / "notebooks" / NOTEBOOK, as_version=4)
    for cell in nb.cells:  # the committed notebook is executed: start from a blank one
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(nb, work / NOTEBOOK)
    settings = tmp_path / "lab-settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # every cell stays in the page (no virtual scrolling), so every output can be checked
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    news = tmp_path / "lab-settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    token, port = secrets.token_hex(16), _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "jupyter-runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "lab-settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "lab-workspaces")}
    env.pop("PYTEST_CURRENT_TEST", None)
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           "--port-retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}",
           "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(tmp_path / "jupyterlab.log", "w")
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                _get(f"{base}/api/status?token={token}")
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not start:\n" + (tmp_path / "jupyterlab.log").read_text()[-3000:])
                time.sleep(0.5)
        yield base, token, work
    finally:
        stop_group(proc)
        log.close()


def _chromium(binary: str, driver: str, profile: Path, *, size: str = "1400,1000", logging: bool = False):
    """Headless Chromium; ``logging`` keeps the DevTools performance log (every network request)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (*CHROMIUM_FLAGS, f"--window-size={size}", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    if logging:
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


def _click_menu(browser, menu: str, item: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 60)
    wait.until(ec.element_to_be_clickable(
        (By.XPATH, f"//div[contains(@class,'lm-MenuBar-itemLabel') and text()='{menu}']"))).click()
    wait.until(ec.element_to_be_clickable(
        (By.XPATH, f"//div[contains(@class,'lm-Menu-itemLabel') and text()='{item}']"))).click()


PAGE_STATE = """
const cells = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')];
const imgs = [...document.querySelectorAll('.jp-Notebook .jp-OutputArea-output img')];
return {
  prompts: cells.map(c => (c.querySelector('.jp-InputPrompt') || {}).textContent || ''),
  errors: [...document.querySelectorAll('.jp-Notebook .jp-OutputArea-output')]
          .filter(o => o.getAttribute('data-mime-type') === 'application/vnd.jupyter.stderr'
                       && /Traceback|Error:/.test(o.textContent)).map(o => o.textContent.slice(0, 500)),
  images: imgs.length,
  rendered: imgs.filter(i => i.complete && i.naturalWidth > 50 && i.naturalHeight > 50).length,
  kernel: (document.querySelector('.jp-Toolbar-kernelName') || {}).textContent || '',
};
"""


@pytest.mark.slow
def test_explore_notebook_runs_in_jupyterlab_in_chromium(chromium_paths, lab, tmp_path):
    binary, driver = chromium_paths
    base, token, work = lab
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser = _chromium(binary, driver, tmp_path / "chromium-profile")
    shot = tmp_path / "explore_aees.png"
    try:
        browser.get(f"{base}/lab/tree/{NOTEBOOK}?token={token}")
        WebDriverWait(browser, START_TIMEOUT).until(
            ec.presence_of_element_located((By.CSS_SELECTOR, ".jp-Notebook .jp-CodeCell")))
        WebDriverWait(browser, START_TIMEOUT).until(  # the project kernel, started and idle
            lambda b: any(k["name"] == "aees" and k["execution_state"] == "idle"
                          for k in _get(f"{base}/api/kernels?token={token}")))
        _click_menu(browser, "Run", "Run All Cells")
        started = time.monotonic()

        def finished(b):
            state = b.execute_script(PAGE_STATE)
            return state if state["prompts"] and all(p.strip("[]: ").isdigit() for p in state["prompts"]) else None

        state = WebDriverWait(browser, RUN_TIMEOUT, poll_frequency=2).until(finished)
        seconds = time.monotonic() - started
        for attempt in range(3):  # a click on a busy machine can land before the menu item is live
            _click_menu(browser, "File", "Save Notebook")
            try:
                WebDriverWait(browser, 60).until(lambda b: all(
                    c["cell_type"] != "code" or c["execution_count"] is not None
                    for c in _get(f"{base}/api/contents/{NOTEBOOK}?token={token}")["content"]["cells"]))
                break
            except TimeoutException:
                if attempt == 2:
                    raise
        WebDriverWait(browser, 30).until(lambda b: b.execute_script(PAGE_STATE)["rendered"]
                                         == b.execute_script(PAGE_STATE)["images"])
        state = browser.execute_script(PAGE_STATE)
        browser.execute_script("const i = document.querySelector('.jp-Notebook .jp-OutputArea-output img');"
                               "if (i) i.scrollIntoView({block: 'center'});")  # the screenshot shows a figure
        browser.save_screenshot(str(shot))
    except Exception:
        browser.save_screenshot(str(shot))
        raise
    finally:
        browser.quit()
    print(f"explore_aees.ipynb ran in JupyterLab in {seconds:.0f} s; screenshot {shot}")

    saved = _get(f"{base}/api/contents/{NOTEBOOK}?token={token}")["content"]
    code = [c for c in saved["cells"] if c["cell_type"] == "code"]
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1))  # all ran, in order, here
    errors = [o for c in code for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors, [f"{o['ename']}: {o['evalue']}" for o in errors]
    assert not state["errors"], state["errors"]
    assert len(state["prompts"]) == len(code) and saved["metadata"]["kernelspec"]["name"] == "aees"
    pngs = sum("image/png" in o.get("data", {}) for c in code for o in c["outputs"])
    plotting = sum("plt.subplots(" in "".join(c["source"]) for c in code)  # cells that draw a figure
    assert plotting >= 1 and pngs >= plotting, (pngs, plotting)
    assert state["images"] == pngs and state["rendered"] == pngs, (pngs, state)  # each one shown
    assert shot.stat().st_size > 10_000
