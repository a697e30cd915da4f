"""Shared fixtures: offline environment, and papermill execution of the training notebooks."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

from lib import ROOT  # noqa: E402
from lib.hf_cache import use_project_hf_cache  # noqa: E402

use_project_hf_cache()  # before any test imports datasets / transformers (lib.train.text checks it)

KERNEL = "aees"


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


@pytest.fixture
def run_notebook(tmp_path):
    def _run(name: str, params: dict, subdir: str = "run", cwd: Path | None = None):
        d = tmp_path / subdir
        d.mkdir(parents=True, exist_ok=True)
        return execute_notebook(name, d, params, cwd)
    return _run
