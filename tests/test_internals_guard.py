"""Fail loudly when the pulseopt internals that lib.control relies on change.

lib/control/internals.py (and through it lib/control/fast.py) reads and writes private
attributes of pulseopt 0.3.0, and FastAEES re-implements stock ``AEES.step_end``. Every
attribute used is listed here with its expected type, on freshly built objects; the source
of the reimplemented modules is pinned by hash. If this test fails after a pulseopt
upgrade, port lib/control/internals.py and lib/control/fast.py, then update this file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import random
from pathlib import Path

import pulseopt
import pytest
import torch
from pulseopt.controller import (
    BucketedContextualController,
    DiscountedUCBController,
    RandomController,
)
from pulseopt.episode import StructuredEpisodeManager, _ActiveStructuredEpisode
from pulseopt.reward import NormalizedLossImprovementReward, RewardDetails
from pulseopt.tracking import EMATracker
from pulseopt.types import CandidateConfig, StructuredSelection

from lib.control import internals
from lib.control.fast import FastAEES

PORT = "pulseopt internals changed; port lib/control/internals.py and lib/control/fast.py"

AEES_ATTRS = {
    "_episode_manager": StructuredEpisodeManager,
    "_noise_generators": dict,
    "_seed": int,
    "_optimizer": torch.optim.Optimizer,
    "_lr_scheduler": type(None),
    "_current_candidate": type(None),
    "_step_started": bool,
    "_param_snapshots": list,
}
MANAGER_ATTRS = {
    "_lr_controller": DiscountedUCBController,
    "_noise_controller": DiscountedUCBController,
    "_reward_fn": NormalizedLossImprovementReward,
    "_lr_candidates": list,
    "_noise_candidates": list,
    "_episode_length": int,
    "_structured_control_mode": str,
    "_context_mode": str,
    "_context_trend_window": int,
    "_context_trend_epsilon": float,
    "_ema_alpha": float,
    "_loss_delta_ema": EMATracker,
    "_active_episode": type(None),
    "_last_loss": type(None),
    "_next_episode_index": int,
    "_episode_end_loss_history": list,
    "_logs": dict,
}
LOG_KEYS = {
    "selected_lr_indices", "selected_noise_indices", "selected_lr_values",
    "selected_noise_values", "selected_combined_names", "episode_rewards",
    "episode_start_steps", "episode_end_steps", "episode_start_losses", "episode_end_losses",
    "episode_ema_loss_starts", "episode_ema_loss_ends", "reward_base", "reward_instability",
    "reward_penalty", "reward_final_unclipped", "reward_final_clipped", "mean_update_norms",
}
UCB_ATTRS = {
    "_discounted_counts": list, "_discounted_reward_sums": list, "_warmup_counts": list,
    "_total_updates": int, "_rng": random.Random, "n_arms": int, "exploration_coef": float,
    "discount": float, "warmup_rounds": int, "eps": float,
}
RANDOM_ATTRS = {"_rng": random.Random, "n_arms": int}
BUCKETED_ATTRS = {
    "_active_bucket_id": type(None), "_global_prior": DiscountedUCBController,
    "_bucket_controllers": dict, "_bucket_visit_counts": dict, "_bucket_reward_sums": dict,
    "_bucket_chosen_arms": dict, "bucket_names": list, "n_arms": int,
}
DATACLASS_FIELDS = {
    _ActiveStructuredEpisode: [
        "episode_index", "selection", "candidate_config", "start_step", "steps_completed",
        "start_loss", "end_loss", "last_step", "update_norm_sum", "update_norm_count",
        "step_losses",
    ],
    StructuredSelection: [
        "lr_index", "noise_index", "lr_value", "noise_value", "combined_name", "context_bucket"
    ],
    CandidateConfig: ["name", "lr_multiplier", "noise_std"],
    RewardDetails: [
        "reward_base", "reward_instability", "reward_penalty", "reward_final_unclipped",
        "reward_final_clipped",
    ],
}
AEES_KEYWORDS = [
    "lr_candidates", "noise_candidates", "episode_length", "lr_scheduler", "control_mode",
    "structured_control_mode", "context_mode", "context_trend_window", "context_trend_epsilon",
    "reward_instability_lambda", "reward_epsilon", "reward_clip_min", "reward_clip_max",
    "ema_alpha", "seed",
]
# sha256 of the modules whose behaviour FastAEES reproduces or whose state internals restores
SOURCE_SHA256 = {
    "scheduler.py": "8308f7fb8afe2eefb4ab559087b6cafe0e698fa8c0d160bb6e4d31b67ece5726",
    "episode.py": "9a2dcb97aeafdf635ea9b679c644b8af75b2e390224d9e335f36378f46f93383",
    "controller.py": "10c07d9c5943b4ee3227a5ab086a51f039d62cda066611ba9c59c4997720b84b",
    "reward.py": "408c73f6fa2fb0097993f3966ede95b5d177b286cd32955bc5eb720ec46b77c3",
    "tracking.py": "8c9b7f387dd4980d8be24338415059abd363b13fbd5bfdf58dfe6afebc280bec",
}


def _check(obj: object, expected: dict[str, type], where: str) -> None:
    for name, kind in expected.items():
        assert hasattr(obj, name), f"{PORT}: {where}.{name} is missing."
        value = getattr(obj, name)
        assert isinstance(value, kind), (
            f"{PORT}: {where}.{name} is {type(value).__name__}, expected {kind.__name__}."
        )


def _aees(**kw) -> pulseopt.AEES:
    param = torch.nn.Parameter(torch.zeros(3))
    return pulseopt.AEES(torch.optim.AdamW([param], lr=0.1), seed=0, **kw)


def test_pulseopt_version_is_pinned() -> None:
    assert pulseopt.__version__ == internals.PULSEOPT_VERSION == "0.3.0", (
        f"pulseopt {pulseopt.__version__} installed; lib.control.internals is pinned to 0.3.0."
    )


def test_source_of_reimplemented_modules_is_unchanged() -> None:
    root = Path(pulseopt.__file__).parent
    for name, digest in SOURCE_SHA256.items():
        actual = hashlib.sha256((root / name).read_bytes()).hexdigest()
        assert actual == digest, f"{PORT}: pulseopt/{name} differs from the audited 0.3.0 source."


def test_aees_and_manager_private_attributes() -> None:
    aees = _aees(lr_candidates=[0.5, 1.0], noise_candidates=[0.0, 0.01])
    _check(aees, AEES_ATTRS, "AEES")
    assert callable(aees._get_noise_generator), f"{PORT}: AEES._get_noise_generator is missing."
    params = list(inspect.signature(aees._get_noise_generator).parameters)
    assert params == ["group_index", "param_index", "device"], f"{PORT}: {params}"
    gen = aees._get_noise_generator(1, 2, torch.device("cpu"))
    assert list(aees._noise_generators) == ["cpu:1:2"], f"{PORT}: noise generator key format."
    assert torch.equal(gen.get_state(), torch.Generator().manual_seed(0 + 1009 + 2).get_state())
    manager = aees._episode_manager
    assert manager is aees.episode_manager
    _check(manager, MANAGER_ATTRS, "StructuredEpisodeManager")
    assert set(manager._logs) == LOG_KEYS, f"{PORT}: episode log keys {sorted(manager._logs)}."
    assert manager._loss_delta_ema._value is None, f"{PORT}: EMATracker._value."
    assert manager._reward_fn._last_details is None, f"{PORT}: reward _last_details."
    manager.on_step_start(0)
    assert isinstance(manager._active_episode, _ActiveStructuredEpisode), f"{PORT}: episode type."
    params = list(inspect.signature(pulseopt.AEES.__init__).parameters)[2:]
    assert params == AEES_KEYWORDS, f"{PORT}: AEES keywords are now {params}."


def test_controller_private_attributes() -> None:
    lr, noise = internals.controllers_of(
        _aees(lr_candidates=[0.5, 1.0], noise_candidates=[0.0, 0.01], context_mode="trend")
    )
    for ctrl, where in ((lr, "lr"), (noise, "noise")):
        assert isinstance(ctrl, BucketedContextualController), f"{PORT}: {where} controller type."
        _check(ctrl, BUCKETED_ATTRS, f"BucketedContextualController({where})")
        _check(internals.global_prior_of(ctrl), UCB_ATTRS, "Bucketed..._global_prior")
        assert set(ctrl._bucket_chosen_arms["stable"]) == set(), f"{PORT}: chosen-arm sets."
        ctrl.set_context("stable")
        _check(internals.bucket_controllers_of(ctrl)["stable"], UCB_ATTRS, "bucket controller")
    _, conditional = internals.controllers_of(
        _aees(lr_candidates=[0.5, 1.0], noise_candidates=[0.0, 0.01],
              structured_control_mode="conditional", control_mode="random")
    )
    assert isinstance(conditional, list) and len(conditional) == 2, f"{PORT}: conditional layout."
    for ctrl in conditional:
        assert isinstance(ctrl, RandomController), f"{PORT}: random controller type."
        _check(ctrl, RANDOM_ATTRS, "RandomController")
    lr, noise = internals.controllers_of(_aees(lr_candidates=[0.5, 1.0]))
    assert noise is None and isinstance(lr, DiscountedUCBController), f"{PORT}: fixed axis."


def test_dataclass_fields() -> None:
    for cls, fields in DATACLASS_FIELDS.items():
        actual = [f.name for f in dataclasses.fields(cls)]
        assert actual == fields, f"{PORT}: {cls.__name__} fields are now {actual}."


def test_fast_aees_attributes_do_not_shadow_stock_ones() -> None:
    param = torch.nn.Parameter(torch.zeros(3))
    fast = FastAEES(torch.optim.AdamW([param], lr=0.1), seed=0)
    stock_names = set(vars(_aees()))
    own = set(vars(fast)) - stock_names
    assert own and all(n.startswith("_f_") or n == "update_norm" for n in own), sorted(own)
    assert stock_names <= set(vars(fast)), "FastAEES must keep stock's state for internals."


def test_import_fails_clearly_on_another_version(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib
    import sys

    monkeypatch.setattr(pulseopt, "__version__", "0.4.0")
    monkeypatch.delitem(sys.modules, "lib.control.internals")
    with pytest.raises(ImportError, match="pinned|pulseopt==0.3.0"):
        importlib.import_module("lib.control.internals")
