"""The plan of ``make mini-archive``: each make call's runs to train and their estimated time."""

from __future__ import annotations

import json

import pytest

from lib.grids.estimate import SECONDS_PER_EPOCH, START_SECONDS, Call, estimate, report
from lib.grids.plan import grid_runs


def test_call_time_is_the_longest_first_schedule_over_its_slots():
    call = Call(["g"], jobs=2, costs=[(None, c, "model") for c in (2.0, 3.0, 4.0, 3.0)])
    assert call.seconds == 6.0  # 4 | 3, then 3 on the second slot (6), 2 on the first (6)
    assert Call(["g"], jobs=1, costs=call.costs).seconds == 12.0
    assert Call(["g"], jobs=2).seconds == 0.0


def test_cost_model_when_nothing_is_recorded(tmp_path):
    (call,) = estimate([(2, "cifar-clean")], "mini-fmnist", results_dir=tmp_path)
    runs = grid_runs("cifar-clean", "mini-fmnist", results_dir=tmp_path)
    assert call.total == len(runs) == len(call.costs) and {s for _, _, s in call.costs} == {"model"}
    per_run = SECONDS_PER_EPOCH[("cifar100", "fashion-mnist")] * 100 + START_SECONDS  # mini-fmnist: 100 epochs
    assert all(c == pytest.approx(per_run) for _, c, _ in call.costs)
    assert call.seconds == pytest.approx(per_run * -(-len(runs) // 2))
    text = report([call], "mini-fmnist")
    assert f"{len(runs)} of {len(runs)} runs to train" in text and "(-j 2)" in text and "[plan] total ~" in text


def test_text_model_scales_with_the_training_set(tmp_path):
    """mini-fmnist trains AG News on 6,000 stand-in articles, mini on 2,400: 2.5x the epoch cost."""
    costs = {p: estimate([(1, "agnews-clean")], p, results_dir=tmp_path)[0].costs[0][1] for p in ("mini", "mini-fmnist")}
    per_epoch = SECONDS_PER_EPOCH[("agnews", "")]
    assert costs["mini"] == pytest.approx(per_epoch * 10 + START_SECONDS)
    assert costs["mini-fmnist"] == pytest.approx(per_epoch * 2.5 * 10 + START_SECONDS)


def test_recorded_runtimes_win(tmp_path):
    runs = grid_runs("cifar-clean", "mini", results_dir=tmp_path)
    first = runs[0]
    first.json.parent.mkdir(parents=True, exist_ok=True)
    first.json.write_text(json.dumps({"config": {"epochs": 90}, "wall_clock_seconds": 170.0}))
    first.executed_notebook.write_text(json.dumps({"metadata": {"papermill": {"duration": 180.0}}}))
    (call,) = estimate([(1, "cifar-clean")], "mini", force=True, results_dir=tmp_path)
    costs = {spec.json: (c, source) for spec, c, source in call.costs}
    assert costs[first.json] == (180.0, "recorded")  # the papermill duration of its own notebook
    same_cell = [s for s in runs if s.cell == first.cell and s.json != first.json]
    assert same_cell and all(costs[s.json] == (pytest.approx(180.0), "rate") for s in same_cell)  # 2 s/epoch x 90
