"""A value has one source: the profiles (lib.profiles), which the grid cells read.

A run started by hand with a grid cell's method parameters and the same cell started by make
resolve the same configuration, except for the cell's own horizon (``Cell.thesis_epochs``, part
of the cell like its LR) and for the profile's grid values of episode-managed runs
(``MANAGED_RUN_VALUES``), which the by-hand run names in a ``GridValueWarning``.
"""

from __future__ import annotations

import dataclasses
import warnings

import pytest

from lib import config
from lib.config import GridValueWarning
from lib.grids.cells import MAIN_EPOCHS
from lib.grids.definitions import GRIDS
from lib.profiles import MANAGED_RUN_VALUES, PROFILES


def resolve_quietly(task: str, profile: str, params: dict) -> tuple[dict, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cfg = config.resolve(task, profile, dict(params))
    said = [str(w.message) for w in caught if issubclass(w.category, GridValueWarning)]
    return dataclasses.asdict(cfg), said


def test_the_thesis_horizon_is_the_thesis_profile() -> None:
    assert MAIN_EPOCHS == {t: PROFILES["thesis"][t]["epochs"] for t in ("cifar100", "sst2", "agnews")}


@pytest.mark.parametrize("profile", ["thesis", "mini"])
def test_by_hand_and_by_make_resolve_the_same_or_say_why(profile: str) -> None:
    checked = 0
    for grid in GRIDS.values():
        for cell in grid.cells:
            if cell.parent is not None:  # its epochs come from a parent run at plan time
                continue
            by_make, said_make = resolve_quietly(cell.task, profile, cell.parameters(profile))
            by_hand, said_hand = resolve_quietly(cell.task, profile, dict(cell.params))
            assert said_make == [], f"{grid.name}/{cell.name}: make's run warned: {said_make}"
            differ = {k for k in by_make if by_make[k] != by_hand[k]}
            if cell.thesis_epochs and cell.thesis_epochs != MAIN_EPOCHS[cell.task]:
                differ.discard("epochs")  # the cell's own horizon: part of the cell, like its LR
            for name in differ:
                assert any(name in m and repr(by_make[name]) in m for m in said_hand), \
                    f"{grid.name}/{cell.name}: by hand {name}={by_hand[name]!r}, by make {by_make[name]!r}, unsaid"
            checked += 1
    assert checked > 50


def test_a_thesis_nlp_aees_run_by_hand_names_the_grid_episode_length() -> None:
    aees = {"method": "AdaptiveScheduler", "lr_candidates": "0.5,1,2"}
    cfg, said = resolve_quietly("sst2", "thesis", aees)
    assert cfg["episode_length"] == 100 and MANAGED_RUN_VALUES["thesis"]["episode_length"] == 200
    assert len(said) == 1 and "episode_length" in said[0] and "200" in said[0]
    assert resolve_quietly("sst2", "thesis", {**aees, "episode_length": 200})[1] == []
    assert resolve_quietly("sst2", "thesis", {**aees, "episode_length": 150})[1] == []  # chosen, not forgotten
    assert resolve_quietly("sst2", "thesis", {})[1] == []  # a baseline has no episodes
    assert resolve_quietly("cifar100", "thesis", {"control_mode": "adaptive"})[1] == []  # default is 200
    assert resolve_quietly("sst2", "mini", aees)[1] == []  # mini's grids set nothing beyond the profile
