"""lib.config: defaults, profiles, and every validation rule (protocol 1.1) naming its parameter."""

import pytest

from lib import config
from lib.config import ConfigError


def test_thesis_defaults_and_profile():
    cfg = config.resolve("cifar100", "thesis")
    assert (cfg.epochs, cfg.batch_size, cfg.lr, cfg.weight_decay) == (200, 128, 1e-3, 1e-4)
    assert cfg.optimizer == "AdamW" and cfg.momentum == 0.9 and cfg.episode_length == 200
    assert cfg.lr_candidates == [1.0] and cfg.noise_candidates == [0.0]
    assert not cfg.data_standin and cfg.model_width == 64
    assert cfg.profile == "thesis" and cfg.explicit == []


def test_explicit_parameter_wins_over_profile_and_is_recorded():
    cfg = config.resolve("cifar100", "mini", {"epochs": 3, "seed": None, "lr_candidates": "0.5,1,2"})
    assert cfg.epochs == 3 and cfg.data_standin and cfg.seed == 0
    assert cfg.lr_candidates == [0.5, 1.0, 2.0]
    assert cfg.explicit == ["epochs", "lr_candidates"]


def test_mini_keeps_at_least_15_episodes():
    cfg = config.resolve("cifar100", "mini")
    steps = -(-cfg.standin_n_train // cfg.batch_size) * cfg.epochs
    assert steps // cfg.episode_length >= 15


def test_list_parameters_accept_lists_and_thesis_strings():
    a = config.resolve("cifar100", "mini", {"noise_candidates": [0, 0.005]})
    b = config.resolve("cifar100", "mini", {"noise_candidates": "0,0.005"})
    assert a.noise_candidates == b.noise_candidates == [0.0, 0.005]


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"epochs": 0}, "epochs"),
        ({"batch_size": -1}, "batch_size"),
        ({"lr": 0.0}, "lr"),
        ({"weight_decay": -1e-4}, "weight_decay"),
        ({"momentum": -0.1}, "momentum"),
        ({"scheduler_t_max": 0}, "scheduler_t_max"),
        ({"warmup_epochs": -1}, "warmup_epochs"),
        ({"reward_epsilon": 0.0}, "reward_epsilon"),
        ({"reward_instability_lambda": -0.1}, "reward_instability_lambda"),
        ({"reward_clip_min": 2.0}, "reward_clip_min"),
        ({"episode_length": 0}, "episode_length"),
        ({"lr_candidates": "0.5,0.5"}, "lr_candidates"),
        ({"lr_candidates": "0,1"}, "lr_candidates"),
        ({"lr_candidates": ""}, "lr_candidates"),
        ({"noise_candidates": "-0.1"}, "noise_candidates"),
        ({"context_trend_window": 0}, "context_trend_window"),
        ({"context_trend_epsilon": -1.0}, "context_trend_epsilon"),
        ({"label_noise_type": "symmetric", "label_noise_rate": 1.5}, "label_noise_rate"),
        ({"label_noise_rate": 0.2}, "label_noise_rate"),  # type none needs rate 0
        ({"control_mode": "uniform-random"}, "control_mode"),
        ({"optimizer": "Adam"}, "optimizer"),
        ({"lr_scheduler": "step"}, "lr_scheduler"),
        ({"structured_control_mode": "joint"}, "structured_control_mode"),
        ({"context_mode": "trend_phase"}, "context_mode"),
        ({"label_noise_type": "pairflip"}, "label_noise_type"),
        ({"epochs": 2.5}, "epochs"),
        ({"epochs": True}, "epochs"),
        ({"lr": "fast"}, "lr"),
        ({"data_standin": "yes"}, "data_standin"),
        ({"epoch": 5}, "epoch"),
    ],
)
def test_each_rule_rejects_naming_the_parameter(params, name):
    with pytest.raises(ConfigError, match=rf"\b{name}\b"):
        config.resolve("cifar100", "mini", params)


def test_choice_error_lists_allowed_values():
    with pytest.raises(ConfigError, match="baseline, adaptive, random"):
        config.resolve("cifar100", "mini", {"control_mode": "bandit"})


def test_unknown_profile_and_task():
    with pytest.raises(ConfigError, match="profile"):
        config.resolve("cifar100", "huge")
    with pytest.raises(ConfigError, match="task"):
        config.resolve("mnist", "mini")
