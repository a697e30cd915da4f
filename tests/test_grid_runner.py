"""lib.grids planning and execution: skipping finished runs, rerunning truncated or stale
ones, failures (no JSON, executed notebook kept, manifest with the retry command), GPU
assignment, and the make rules (mk/runs.mk). A fake papermill stands in for training."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lib import ROOT, config
from lib.grids import manifest, plan
from lib.grids.runner import execute

PY = sys.executable
GRID = "ablation-penalty"  # seed 0: 2 runs, plus 2 aliased runs of cifar-clean / cifar-noisy
SEEDS = "0"  # the tests run one seed of the grid (mini has two)
OWN = ["clean_penalty_0p1_seed0", "noisy_penalty_0p1_seed0"]

FAKE_PAPERMILL = Path(__file__).with_name("fake_papermill.py")  # shared with the other runner tests


@pytest.fixture
def env(tmp_path, monkeypatch):
    fake = FAKE_PAPERMILL
    monkeypatch.setenv("FAKE_PROFILES", json.dumps(config.PROFILES))
    monkeypatch.delenv("FAKE_FAIL", raising=False)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    return {"res": tmp_path / "results", "papermill": f"{PY} {fake}"}


def _plan(env, **kw):
    return plan(GRID, "mini", seeds=SEEDS, results_dir=env["res"], py=PY, papermill=env["papermill"],
                makefile=env["res"] / "mini" / "plan.mk", **kw)


def _make(env, *args, fail=()):
    e = {**os.environ, "FAKE_FAIL": json.dumps(list(fail))}
    return subprocess.run(["make", "--no-print-directory", "-k", "-f", str(env["res"] / "mini" / "plan.mk"),
                           f"PY={PY}", f"PAPERMILL={env['papermill']}", *args],
                          cwd=ROOT, env=e, capture_output=True, text=True, timeout=120)


def _would_run(env) -> set[str]:
    out = _make(env, "-n").stdout
    return {Path(line.split()[4]).stem for line in out.splitlines() if " -m lib.grids exec " in line}


def _grid_dir(env, grid=GRID) -> Path:
    return env["res"] / "mini" / grid


def test_plan_writes_parameter_files_fragment_and_pending_manifest(env):
    p = _plan(env)
    assert [s.name for s in p.runs[GRID]] == OWN
    assert {s.name for s in p.extra} == {"cifar_clean_aees_none_seed0", "cifar100_sym20_adamw_aees_seed0"}
    text = (_grid_dir(env) / "params" / f"{OWN[0]}.yaml").read_text()
    assert "reward_instability_lambda: 0.1" in text and "lr_candidates: [0.5, 1.0, 2.0]" in text
    data = manifest.read(_grid_dir(env))
    assert data["counts"] == {"finished": 0, "failed": 0, "pending": 2}
    assert {a["name"] for a in data["aliases"]} == {"clean_penalty_0p0_seed0", "noisy_penalty_0p0_seed0"}
    assert _would_run(env) == set(OWN) | {s.name for s in p.extra}
    mtime = (_grid_dir(env) / "params" / f"{OWN[0]}.yaml").stat().st_mtime_ns
    _plan(env)  # unchanged content is not rewritten
    assert (_grid_dir(env) / "params" / f"{OWN[0]}.yaml").stat().st_mtime_ns == mtime


def test_finished_runs_are_skipped_truncated_and_mismatching_ones_rerun(env):
    _plan(env)
    r = _make(env, "-j", "2")
    assert r.returncode == 0, r.stderr + r.stdout
    assert manifest.read(_grid_dir(env))["counts"]["finished"] == 2
    assert manifest.read(_grid_dir(env, "cifar-clean"))["runs"][0]["status"] == "finished"
    _plan(env)
    assert _would_run(env) == set()
    assert "Nothing to be done" in _make(env).stdout
    # truncate one JSON, change the recorded config of another
    first = _grid_dir(env) / f"{OWN[0]}.json"
    first.write_text(first.read_text()[:40])
    aliased = _grid_dir(env, "cifar-clean") / "cifar_clean_aees_none_seed0.json"
    data = json.loads(aliased.read_text())
    data["config"]["episode_length"] = 99  # the mini profile says 16
    aliased.write_text(json.dumps(data))
    p = _plan(env, dry_run=True)
    assert p.state[first][0] == "incomplete" and p.state[aliased][0] == "mismatch"
    mini_len = config.PROFILES["mini"]["cifar100"]["episode_length"]
    assert f"episode_length 99 != {mini_len}" in p.state[aliased][1]
    assert _would_run(env) == {OWN[0], "cifar_clean_aees_none_seed0"}
    assert manifest.read(_grid_dir(env))["counts"]["finished"] == 2  # dry run: manifest untouched
    assert first.exists()  # and nothing set aside
    assert _make(env).returncode == 0
    assert (_grid_dir(env) / ".stale" / f"{OWN[0]}.json").exists()
    _plan(env)
    assert _would_run(env) == set()


def test_force_reruns_every_run_of_the_selected_grid(env):
    _plan(env)
    assert _make(env).returncode == 0
    _plan(env, force=True)
    assert _would_run(env) == set(OWN)
    assert manifest.read(_grid_dir(env))["counts"]["pending"] == 2


def test_a_failed_run_leaves_no_json_and_a_retry_command(env):
    _plan(env)
    r = _make(env, fail=[OWN[1]])
    assert r.returncode != 0 and "FAILED" in r.stdout
    gd = _grid_dir(env)
    assert not (gd / f"{OWN[1]}.json").exists()
    assert (gd / f"{OWN[1]}.ipynb").exists() and (gd / f"{OWN[0]}.json").exists()
    entry = manifest.entry(manifest.read(gd), OWN[1])
    assert entry["status"] == "failed" and "boom" in entry["error"]
    assert " -m lib.grids exec " in entry["retry"] and f"{gd / OWN[1]}.json -- " in entry["retry"]
    _plan(env)  # a new plan keeps the failure on record until it is retried
    assert manifest.entry(manifest.read(gd), OWN[1])["status"] == "failed"
    assert _would_run(env) == {OWN[1]}
    retry = subprocess.run(entry["retry"], shell=True, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert retry.returncode == 0, retry.stdout + retry.stderr
    assert manifest.entry(manifest.read(gd), OWN[1])["status"] == "finished"
    assert "retry" not in manifest.entry(manifest.read(gd), OWN[1])


def test_a_run_that_exits_0_without_a_complete_json_fails(tmp_path):
    target = tmp_path / "mini" / "g" / "r_seed0.json"
    rc = execute(target, [PY, "-c", f"open({str(target)!r}, 'w').write('{{\"config\": ')"], say=lambda *_: None)
    assert rc == 1 and not target.exists()
    entry = manifest.entry(manifest.read(target.parent), "r_seed0")
    assert entry["status"] == "failed" and "incomplete" in entry["error"]


GPU_CMD = "import os, time; time.sleep(1.5); open({out!r}, 'w').write(os.environ.get('CUDA_VISIBLE_DEVICES', '-'))"


def _gpu_runs(tmp_path, visible: str, n: int) -> list[str]:
    outs = [tmp_path / f"gpu{i}.txt" for i in range(n)]
    procs = [subprocess.Popen([PY, "-m", "lib.grids", "exec", str(tmp_path / "mini" / "g" / f"r{i}.json"), "--",
                               PY, "-c", GPU_CMD.format(out=str(o))], cwd=ROOT,
                              env={**os.environ, "CUDA_VISIBLE_DEVICES": visible},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i, o in enumerate(outs)]
    for proc in procs:
        proc.wait(timeout=60)
    return [o.read_text() for o in outs]


def test_concurrent_runs_get_their_own_gpu_when_several_are_visible(tmp_path):
    assert sorted(_gpu_runs(tmp_path, "3,5", 2)) == ["3", "5"]
    assert _gpu_runs(tmp_path, "7", 2) == ["7", "7"]  # one GPU: the command runs as is


@pytest.mark.slow
def test_make_runs_rules(env, tmp_path):
    """mk/runs.mk: `make -n runs` plans without a manifest and prints the papermill commands."""
    mk = tmp_path / "Makefile"
    mk.write_text(f"PY := {PY}\nPAPERMILL := {env['papermill']}\n.PHONY: setup\nsetup:\n"
                  f"include {ROOT / 'mk' / 'runs.mk'}\n")
    e = {**os.environ, "FAKE_FAIL": "[]"}
    args = ["make", "--no-print-directory", "-f", str(mk), "runs", f"GRID={GRID}", f"SEEDS={SEEDS}", f"RESULTS={env['res']}"]
    dry = subprocess.run(args + ["-n"], cwd=ROOT, env=e, capture_output=True, text=True, timeout=120)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.count("fake_papermill.py notebooks/train_cifar100.ipynb") == 4
    assert manifest.read(_grid_dir(env)) is None
    real = subprocess.run(args + ["-j", "2"], cwd=ROOT, env=e, capture_output=True, text=True, timeout=120)
    assert real.returncode == 0, real.stderr + real.stdout
    assert manifest.read(_grid_dir(env))["counts"]["finished"] == 2
    again = subprocess.run(args, cwd=ROOT, env=e, capture_output=True, text=True, timeout=120)
    assert "[grids] start" not in again.stdout and "4 finished, 0 to run" in again.stderr


NOTEBOOK = {
    "cells": [
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "execution_count": None, "outputs": [],
         "source": "profile = 'mini'\nrun_id = None\nseed = None\noutput = None"},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": "import json\nif seed == 1:\n    raise ValueError('seed 1 fails')\n"
                   "json.dump({'config': {'profile': profile, 'epochs': 1, 'seed': seed}, 'val_accuracies': [0.1],\n"
                   "           'best_val_accuracy': 0.1, 'final_val_accuracy': 0.1}, open(output, 'w'))"},
    ],
    "metadata": {"kernelspec": {"name": "aees", "display_name": "aees", "language": "python"}},
    "nbformat": 4, "nbformat_minor": 5,
}


@pytest.mark.slow
def test_real_papermill_with_a_parameter_file(tmp_path):
    """One tiny real papermill execution per outcome: success writes the JSON, failure the notebook only."""
    nb = tmp_path / "tiny.ipynb"
    nb.write_text(json.dumps(NOTEBOOK))
    for seed in (0, 1):
        grid_dir = tmp_path / "mini" / "g"
        target = grid_dir / f"r_seed{seed}.json"
        params = grid_dir / "params" / f"r_seed{seed}.yaml"
        params.parent.mkdir(parents=True, exist_ok=True)
        params.write_text(f"profile: mini\nrun_id: mini/g/r_seed{seed}\nseed: {seed}\noutput: {target}\n")
        rc = execute(target, [PY, "-m", "papermill", "--kernel", "aees", "--no-progress-bar", str(nb),
                              str(grid_dir / f"r_seed{seed}.ipynb"), "-f", str(params)], say=lambda *_: None)
        executed = json.loads((grid_dir / f"r_seed{seed}.ipynb").read_text())
        assert (rc == 0) == (seed == 0) and target.exists() == (seed == 0)
        errors = [o for c in executed["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
        assert [e["evalue"] for e in errors] == (["seed 1 fails"] if seed == 1 else [])
    entry = manifest.entry(manifest.read(tmp_path / "mini" / "g"), "r_seed1")
    assert entry["status"] == "failed" and "seed 1 fails" in entry["error"]


def test_a_checkpoint_of_another_configuration_is_set_aside_and_one_of_the_same_kept(env):
    """A run interrupted before the profile changed left a checkpoint the new run would refuse; the runner
    sets it aside to .stale/ (nothing deleted) and keeps a checkpoint of the planned configuration."""
    import dataclasses

    import torch

    from lib.grids import runner
    from lib.grids.state import resolved_config
    from lib.train import checkpoint

    _plan(env)
    gd = _grid_dir(env)
    entry = manifest.entry(manifest.read(gd), OWN[0])
    cfg = resolved_config(entry["task"], "mini", entry["parameters"])
    target = gd / f"{OWN[0]}.json"
    ckpt = checkpoint.checkpoint_path(target)
    said = []

    torch.save({"config": checkpoint._identity(cfg)}, ckpt)
    runner._set_aside_foreign_checkpoint(target, gd, OWN[0], said.append)
    assert ckpt.exists() and not said  # the same configuration: the run resumes from it

    other = dataclasses.replace(cfg, precision="fp32" if cfg.precision == "bf16" else "bf16")
    torch.save({"config": checkpoint._identity(other)}, ckpt)
    runner._set_aside_foreign_checkpoint(target, gd, OWN[0], said.append)
    assert not ckpt.exists() and (gd / ".stale" / ckpt.name).exists()
    assert said == [f"[grids] {ckpt}: checkpoint of another configuration (precision) set aside to "
                    f"{gd / '.stale' / ckpt.name}; the run starts afresh"]
