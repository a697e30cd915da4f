"""Shared fixtures: offline environment, and papermill execution of the training notebooks."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

# Under pytest-xdist (`make test` runs the suite on every core): one torch thread per worker, or the
# workers' thread pools fight over the cores.
WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if WORKER:
    os.environ.setdefault("OMP_NUM_THREADS", "1")

from lib import ROOT  # noqa: E402
from lib.hf_cache import use_project_hf_cache  # noqa: E402

use_project_hf_cache()  # before any test imports datasets / transformers (lib.train.text checks it)

KERNEL = "aees"


def pytest_configure(config):
    """Under pytest-xdist, a temporary folder of its own per worker (beside the worker's basetemp, cleaned
    with it): tools write fixed names under $TMPDIR (`make -n`'s plan files) that two workers would share."""
    if WORKER and config.option.basetemp:
        tmp = Path(config.option.basetemp).parent / f"tmp-{WORKER}"
        tmp.mkdir(parents=True, exist_ok=True)
        os.environ["TMPDIR"] = str(tmp)
        tempfile.tempdir = None  # re-read $TMPDIR


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (`make test`: --dist loadfile, each test file whole on one worker, in its order, its
    module fixtures built once), the files with slow tests first, so that the short ones fill the end. Every
    worker sorts the same way: xdist requires the same collection on each."""
    if not WORKER:
        return
    slow = {item.nodeid.split("::")[0] for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in slow)


def execute_notebook(name: str, out_dir: Path, params: dict, cwd: Path | None = None) -> tuple[dict, Path]:
    """Run notebooks/<name>.ipynb through papermill with the project kernel.

    Returns (RunResult dict, executed notebook path). Runs from ``cwd`` (default: out_dir) to
    check that notebooks do not depend on the working directory.
    """
    import papermill as pm

    out_json = out_dir / f"{name}.json"
    out_nb = out_dir / f"{name}.ipynb"
    pm.execute_notebook(str(ROOT / "notebooks" / f"{name}.ipynb"), str(out_nb),
                        parameters={**params, "output": str(out_json)}, kernel_name=KERNEL,
                        cwd=str(cwd or out_dir), progress_bar=False)
    return json.loads(out_json.read_text()), out_nb


@pytest.fixture(scope="session")
def replica(tmp_path_factory) -> tuple[Path, dict[str, Path]]:
    """Every offline replica part (lib.replica), once per session (~400 MB, 10-80 s): (root, parts), the HF
    cache in root/hf and the data in root/data; under `make test`, once per worker that needs it."""
    from lib.replica.build import build_replica

    root = tmp_path_factory.mktemp("replica")
    return root, build_replica(root / "hf", root / "data")


def linked_copy(src: Path, dst: Path) -> None:
    """``src`` as hard links under ``dst``: new files written there leave ``src`` as it was, in no time."""
    shutil.copytree(src, dst, symlinks=True, copy_function=os.link)


@pytest.fixture
def run_notebook(tmp_path):
    def _run(name: str, params: dict, subdir: str = "run", cwd: Path | None = None):
        d = tmp_path / subdir
        d.mkdir(parents=True, exist_ok=True)
        return execute_notebook(name, d, params, cwd)
    return _run
