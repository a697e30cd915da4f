"""The cifar-peak-rerun grid (planned from its finished parents) and the mini-archive order."""

from __future__ import annotations

import json
import re

import pytest

from lib import ROOT, config
from lib.grids import GRIDS, plan
from lib.grids.plan import MissingParent, cell_runs, grid_runs, peak_epoch

PARENT = ("cifar-noisy", "cifar100_sym40_adamw_cosine")
CELL = "cifar100_sym40_adamw_cosine_peak"


def _finish(spec, val: list[float]) -> None:
    """Write the JSON a finished run of ``spec`` would write (the config the grid expects)."""
    params = {k: v for k, v in spec.parameters.items() if k not in ("profile", "run_id")}
    cfg = {**config.as_dict(config.resolve(spec.task, spec.profile, params)), "profile": spec.profile,
           "task_name": spec.task, "epochs": len(val)}
    spec.json.parent.mkdir(parents=True, exist_ok=True)
    spec.json.write_text(json.dumps({"config": cfg, "val_accuracies": val, "best_val_accuracy": max(val),
                                     "final_val_accuracy": val[-1]}))


def test_peak_epoch_is_the_first_maximum() -> None:
    assert peak_epoch([0.1, 0.5, 0.3, 0.5]) == 2 and peak_epoch([0.2]) == 1


def test_grid_holds_what_the_thesis_re_ran_with_their_parents() -> None:
    """Protocol 11.3: asym20 and sym40 x {AdamW, SGD} x {Baseline, AEES, Cosine, Cosine + AEES}."""
    grid = GRIDS["cifar-peak-rerun"]
    assert {c.parent for c in grid.cells} == {("cifar-noisy", f"cifar100_{s}_{o}_{m}") for s in ("asym20", "sym40")
                                              for o in ("adamw", "sgd")
                                              for m in ("baseline", "aees", "cosine", "cosine_aees")}
    assert {c.label for c in grid.cells} == {"Baseline", "AEES", "Cosine", "Cosine + AEES"}
    for cell in grid.cells:  # only a Cosine parent's schedule is compressed (and expected)
        assert cell.expect.get("lr_scheduler") == ("cosine" if cell.label.startswith("Cosine") else None)
    for cell in grid.cells:
        parent = GRIDS["cifar-noisy"].cell(cell.parent[1])
        assert {**cell.params} == {**parent.params, "run_tag": "peak-rerun"}
        assert (cell.label, cell.setting, cell.optimizer) == (parent.label, parent.setting, parent.optimizer)
    assert grid.default_seeds("thesis") == (0, 1, 2, 3, 4) and grid.default_seeds("mini") == (0,)
    assert grid.default_seeds("mini-fmnist") == (0, 1, 2)


@pytest.mark.parametrize("profile", ["mini", "thesis"])
def test_plan_derives_epochs_and_schedule_span_from_the_parent(tmp_path, profile) -> None:
    parent = cell_runs(*PARENT, profile, [0], tmp_path)[0]
    with pytest.raises(MissingParent, match=re.escape(parent.json.name) + ".*not finished.*make runs GRID=cifar-noisy"):
        cell_runs("cifar-peak-rerun", CELL, profile, [0], tmp_path)
    epochs = parent.parameters.get("epochs") or config.PROFILES[profile]["cifar100"]["epochs"]
    val = [0.1 * (i % 7) for i in range(epochs)]  # first maximum at epoch 7
    _finish(parent, val)
    spec = cell_runs("cifar-peak-rerun", CELL, profile, [0], tmp_path)[0]
    p = spec.parameters
    assert (p["epochs"], p["scheduler_t_max"], p["lr_scheduler"], p["run_tag"]) == (7, 7, "cosine", "peak-rerun")
    assert (p["label_noise_type"], p["label_noise_rate"], p["optimizer"], p["seed"]) == ("symmetric", 0.4, "AdamW", 0)
    cfg = config.resolve("cifar100", profile, {k: v for k, v in p.items() if k not in ("profile", "run_id")})
    assert (cfg.epochs, cfg.scheduler_t_max) == (7, 7)


def test_plan_errors_naming_the_parent_and_grid_all_defers_the_grid(tmp_path, capsys) -> None:
    with pytest.raises(MissingParent, match="cifar100_asym20_adamw_baseline_seed0.json of grid cifar-noisy"):
        plan("cifar-peak-rerun", "mini", results_dir=tmp_path, dry_run=True)
    p = plan("all", "mini", results_dir=tmp_path, dry_run=True)
    assert "cifar-peak-rerun" not in p.grids and "cifar-noisy" in p.grids
    assert "cifar-peak-rerun left out of GRID=all" in capsys.readouterr().err
    assert len(grid_runs("cifar-peak-rerun", "mini", results_dir=tmp_path, parents="upper-bound")) == 16


def test_mini_archive_runs_the_peak_reruns_after_their_parents() -> None:
    """The derived grid is planned from finished parents: its make call comes after the one running cifar-noisy."""
    text = (ROOT / "mk" / "runs.mk").read_text()
    noisy = re.search(r"^MINI_NOISY_GRIDS = (.*)$", text, re.M)[1].split()
    shared = re.search(r"^MINI_SHARED_GRIDS = (.*)$", text, re.M)[1].split()
    derived = re.search(r"^MINI_DERIVED_GRIDS = (.*)$", text, re.M)[1].split()
    assert noisy == ["cifar-noisy"] and derived == ["cifar-peak-rerun"] and "cifar-peak-rerun" not in shared
    lines = text[text.index("mini-archive: setup"):].split("\n\n")[0].splitlines()[1:]
    assert "estimate" in lines[0]  # the plan with each call's estimated time comes first
    recipe = [line for line in lines if "$(MAKE)" in line]
    assert ("MINI_NOISY_GRIDS" in recipe[0] and "MINI_SHARED_GRIDS" in recipe[1] and "MINI_DERIVED_GRIDS" in recipe[2]
            and "compute-overhead" in recipe[3])
    every = set(noisy) | set(shared) | set(derived) | {"compute-overhead"}
    assert every == set(GRIDS)  # mini-archive runs every grid
