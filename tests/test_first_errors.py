"""A mistake is one line, first, fast: through the README's run command (``python -m lib.run``, papermill
with a pre-flight) and through make. Also: papermill --help-notebook shows types and defaults."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lib import ROOT
from lib.profiles import PROFILES
from lib.run import papermill_value, preflight, read_arguments

PY = sys.executable
ENV_DIR = Path(PY).parent.parent
# make with this environment, its setup taken as current (-o): a test never reinstalls the environment
MAKE = ["make", "--no-print-directory", f"ENV_DIR={ENV_DIR}", "-o", str(ENV_DIR / ".aees-setup-stamp")]
NB = "notebooks/train_cifar100.ipynb"
FIRST_LINE_SECONDS = 3.0

# (papermill arguments, what the first line must say: the parameter, what is allowed, the value given)
BAD_PARAMETERS = [
    (["-p", "epoch", "3"], r"^error: train_cifar100\.ipynb: unknown parameter\(s\) epoch \(did you mean epochs\?\)"
                           r".*allowed: .*epochs"),
    (["-p", "label_noise_type", "gauss"], r"^error: .*label_noise_type: must be one of none, symmetric, "
                                          r"asymmetric; got 'gauss'$"),
    (["-p", "epochs", "0"], r"^error: .*epochs: must be > 0, got 0$"),
    (["-p", "profile", "thesys"], rf"^error: .*profile: must be one of {', '.join(PROFILES)}; got 'thesys'$"),
    (["-p", "lr_candidates", "1,1"], r"^error: .*lr_candidates: .*duplicate value: 1\.0"),
    (["-p", "control_mode", "adaptiv"], r"^error: .*control_mode: must be one of baseline, adaptive, random; "
                                        r"got 'adaptiv'$"),
    (["-y", "epochs: -1"], r"^error: .*epochs: must be > 0, got -1$"),
]
BAD_MAKE = [
    (["runs", "GRID=cifr"], r"^error: GRID: unknown grid\(s\) cifr; known: all, cifar-clean"),
    (["runs", "PROFILE=thesys"], rf"^error: PROFILE: must be one of {', '.join(PROFILES)}; got 'thesys'$"),
    (["runs", "SEEDS=x"], r"^error: SEEDS: expected integers separated by spaces, got 'x'$"),
    (["runs", "LAUNCHER=foo"], r"LAUNCHER=foo: use LAUNCHER=make .* or LAUNCHER=slurm"),
]


def _first_line(cmd: list[str], env: dict | None = None) -> tuple[str, int, float]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})
    seconds = time.perf_counter() - start
    lines = (proc.stderr + proc.stdout).strip().splitlines()
    return (lines[0] if lines else ""), proc.returncode, seconds


@pytest.mark.parametrize("args,expected", BAD_PARAMETERS, ids=lambda a: " ".join(a) if isinstance(a, list) else "")
def test_readme_run_command_reports_a_bad_parameter_in_one_first_line(args, expected, tmp_path):
    out = tmp_path / "run.ipynb"
    line, rc, seconds = _first_line([PY, "-m", "lib.run", NB, str(out), "--log-output", *args])
    assert re.search(expected, line), line
    assert rc == 2 and seconds < FIRST_LINE_SECONDS, (rc, seconds)
    assert not out.exists()  # papermill never started


@pytest.mark.parametrize("args,expected", BAD_MAKE, ids=lambda a: " ".join(a) if isinstance(a, list) else "")
def test_make_reports_a_bad_variable_in_one_first_line(args, expected):
    line, rc, seconds = _first_line([*MAKE, *args])
    assert re.search(expected, line), line
    assert rc != 0 and seconds < FIRST_LINE_SECONDS, (rc, seconds)


def test_thesis_without_cifar_names_the_command_and_leaves_nothing(tmp_path):
    data, out = tmp_path / "data", tmp_path / "runs" / "thesis.ipynb"
    env = {"AEES_DATA_DIR": str(data)}
    output = tmp_path / "runs" / "thesis.json"
    line, rc, seconds = _first_line([PY, "-m", "lib.run", NB, str(out), "-p", "profile", "thesis",
                                     "-p", "output", str(output)], env)
    assert re.search(r"^error: .*profile=thesis needs CIFAR-100 in .*cifar-100-python \(missing train, test, meta\); "
                     r"fetch it once with network: `make prepare-thesis`", line), line
    assert rc == 2 and seconds < FIRST_LINE_SECONDS
    assert not data.exists() and not (tmp_path / "runs").exists()  # no data folder, no lock, no output


def test_make_runs_thesis_without_cifar_stops_before_any_run(tmp_path):
    line, rc, _ = _first_line([*MAKE, "runs", "PROFILE=thesis", "GRID=cifar-clean",
                               f"RESULTS={tmp_path / 'results'}"], {"AEES_DATA_DIR": str(tmp_path / "data")})
    assert line.startswith("error: cifar-clean: data: profile=thesis needs CIFAR-100") and "make prepare-thesis" in line
    assert rc != 0 and not (tmp_path / "results").exists() and not (tmp_path / "data").exists()


def test_the_preflight_imports_neither_torch_nor_papermill():
    code = ("import sys; from lib.run import preflight; "
            f"p = preflight([{NB!r}, 'o.ipynb', '-p', 'epochs', '0']); "
            "assert p and 'epochs' in p, p; "
            "bad = [m for m in ('torch', 'papermill', 'pandas') if m in sys.modules]; assert not bad, bad")
    subprocess.run([PY, "-c", code], cwd=ROOT, check=True)


def test_training_notebooks_validate_before_importing_torch_or_locking():
    """In the notebook (JupyterLab, papermill, make): the configure cell resolves the parameters (and looks
    for the data) before it imports the torch-side training module and before T.start takes the lock."""
    import nbformat

    for task in ("cifar100", "sst2", "agnews"):
        nb = nbformat.read(ROOT / "notebooks" / f"train_{task}.ipynb", as_version=4)
        source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        assert source.index("resolve_from_namespace(") < source.index("from lib.train import") < source.index(
            "T.start(cfg)")


def test_read_arguments_follows_papermill_precedence(tmp_path):
    params_file = tmp_path / "p.yaml"
    params_file.write_text("epochs: 5\nseed: 1\n")
    nb, params, help_nb = read_arguments([NB, "out.ipynb", "-f", str(params_file), "-y", "seed: 2",
                                          "-p", "lr", "1e-3", "-r", "run_tag", "007", "--kernel", "aees"])
    assert nb == NB and not help_nb
    assert params == {"epochs": 5, "seed": 2, "lr": 0.001, "run_tag": "007"}
    assert [papermill_value(v) for v in ("True", "None", "3", "0.5", "x")] == [True, None, 3, 0.5, "x"]
    assert preflight(["notebooks/analysis_nlp.ipynb", "o.ipynb", "-p", "nonsense", "1"]) is None  # not a run


def test_help_notebook_shows_types_and_the_mini_default():
    out = subprocess.run([PY, "-m", "papermill", "--help-notebook", NB], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    assert "Unknown type" not in out
    assert re.search(r"epochs: int \(default None\)\s+training epochs.*default 90 \(mini\), 200 \(thesis\)", out)
    assert re.search(r"lr_candidates: list\[float\] \(default None\)", out)
    assert re.search(r"precision: str \(default None\)\s+.*default 'bf16' \(mini\), 'fp32' \(thesis\)", out)
    assert re.search(r"seed: int \(default None\)\s+.*default 0$", out, re.M)


def test_make_help_lists_every_target_once():
    makefiles = [ROOT / "Makefile", *sorted((ROOT / "mk").glob("*.mk"))]
    phony = {t for f in makefiles for line in f.read_text().splitlines() if line.startswith(".PHONY:")
             for t in line.split(":", 1)[1].split()} - {"analysis-archive-changed"}
    out = subprocess.run([*MAKE, "help"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.splitlines()
    listed = [line.split()[1] for line in out]
    assert sorted(listed) == sorted(phony)
    assert all(len(line) <= 130 for line in out)
