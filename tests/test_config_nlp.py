"""lib.config for SST-2 / AG News: thesis defaults, profiles, and every rule naming its parameter."""

import math

import pytest

from lib import config
from lib.config import ConfigError

NLP = ("sst2", "agnews")


@pytest.mark.parametrize("task", NLP)
def test_thesis_defaults_and_profile(task):
    cfg = config.resolve(task, "thesis")
    assert (cfg.epochs, cfg.batch_size, cfg.lr, cfg.weight_decay, cfg.max_length) == (5, 16, 5e-5, 0.01, 128)
    assert cfg.method == "AdamW" and cfg.lr_scheduler == "none" and cfg.warmup_epochs == 0
    assert cfg.episode_length == 100  # the flag default; the grids set 200 for AEES runs
    assert cfg.lr_candidates == [1.0] and cfg.noise_candidates == [0.0]
    assert cfg.model_name == "distilbert-base-uncased" and not cfg.data_standin
    assert not cfg.local_files_only and not cfg.pretokenize_only and cfg.seed == 0
    assert cfg.task_name == task and cfg.profile == "thesis" and cfg.explicit == []
    assert config.resolve(task, "thesis", {"epochs": None}).epochs == 5


def test_flag_defaults_are_the_thesis_runner_defaults():
    cfg = config.Sst2Config()
    assert cfg.epochs == 3 and cfg.scheduler_t_max is None and cfg.context_mode == "none"
    assert (cfg.reward_epsilon, cfg.reward_instability_lambda, cfg.reward_clip_min, cfg.reward_clip_max) \
        == (1e-8, 0.0, -1.0, 1.0)
    assert (cfg.context_trend_window, cfg.context_trend_epsilon) == (3, 1e-3)
    ag = config.AgNewsConfig()
    assert (ag.label_noise_rate, ag.label_noise_seed) == (0.0, 42)


@pytest.mark.parametrize("task", NLP)
def test_nlp_configs_have_no_cifar_keys_and_no_token(task):
    names = set(config.field_docs(task))
    # ``optimizer`` is a parameter (the peers' base optimizer) but AdamW runs never record it
    assert not names & {"control_mode", "momentum", "control_regime", "hf_token", "label_noise_type", "model_width"}
    assert config.TASK_CONFIGS[task]().optimizer == "AdamW"
    assert {"method", "max_length", "cache_dir", "tokenized_dataset_dir", "pretokenize_only",
            "local_files_only"} <= names
    assert ("label_noise_rate" in names) == ("label_noise_seed" in names) == (task == "agnews")


@pytest.mark.parametrize("task", NLP)
def test_mini_profile_is_offline_and_keeps_at_least_15_episodes(task):
    cfg = config.resolve(task, "mini")
    assert cfg.data_standin and cfg.local_files_only and cfg.model_name == "standin-distilbert"
    train = cfg.standin_n_train - (math.ceil(0.1 * cfg.standin_n_train) if task == "agnews" else 0)
    steps = math.ceil(train / cfg.batch_size) * cfg.epochs
    assert steps // cfg.episode_length >= 15
    assert cfg.lr == 5e-4  # the stand-in model is randomly initialised (see the profile note)


def test_list_parameters_accept_lists_and_thesis_strings():
    a = config.resolve("sst2", "mini", {"lr_candidates": [0.7, 1, 1.3], "noise_candidates": "0,0.0025,0.005"})
    assert a.lr_candidates == [0.7, 1.0, 1.3] and a.noise_candidates == [0.0, 0.0025, 0.005]
    assert a.explicit == ["lr_candidates", "noise_candidates"]


@pytest.mark.parametrize(
    ("task", "params", "name"),
    [
        ("sst2", {"method": "adaptive"}, "method"),
        ("sst2", {"method": "Baseline"}, "method"),
        ("sst2", {"epochs": 0}, "epochs"),
        ("sst2", {"batch_size": 0}, "batch_size"),
        ("sst2", {"lr": -1e-5}, "lr"),
        ("sst2", {"weight_decay": -0.01}, "weight_decay"),
        ("sst2", {"lr_scheduler": "step"}, "lr_scheduler"),
        ("sst2", {"scheduler_t_max": 0}, "scheduler_t_max"),
        ("sst2", {"warmup_epochs": -1}, "warmup_epochs"),
        ("sst2", {"reward_epsilon": 0.0}, "reward_epsilon"),
        ("sst2", {"reward_clip_min": 2.0}, "reward_clip_min"),
        ("sst2", {"episode_length": 0}, "episode_length"),
        ("sst2", {"lr_candidates": "0,1"}, "lr_candidates"),
        ("sst2", {"noise_candidates": "0,0"}, "noise_candidates"),
        ("sst2", {"context_mode": "trend_phase"}, "context_mode"),
        ("sst2", {"structured_control_mode": "joint"}, "structured_control_mode"),
        ("sst2", {"context_trend_window": 0}, "context_trend_window"),
        ("sst2", {"max_length": 0}, "max_length"),
        ("sst2", {"max_length": 513}, "max_length"),
        ("sst2", {"standin_n_train": 5}, "standin_n_train"),
        ("sst2", {"standin_n_validation": 9}, "standin_n_validation"),
        ("sst2", {"model_name": " "}, "model_name"),
        ("sst2", {"local_files_only": "yes"}, "local_files_only"),
        ("sst2", {"pretokenize_only": 1}, "pretokenize_only"),
        ("sst2", {"device": "tpu"}, "device"),
        ("sst2", {"label_noise_rate": 0.2}, "label_noise_rate"),  # SST-2 has no noise
        ("sst2", {"hf_token": "hf_x"}, "hf_token"),
        ("agnews", {"label_noise_rate": 1.0}, "label_noise_rate"),  # [0, 1) for AG News
        ("agnews", {"label_noise_rate": -0.1}, "label_noise_rate"),
        ("agnews", {"label_noise_seed": 4.2}, "label_noise_seed"),
        ("agnews", {"standin_n_test": 3}, "standin_n_test"),
        ("agnews", {"control_mode": "adaptive"}, "control_mode"),
        ("agnews", {"label_noise_type": "symmetric"}, "label_noise_type"),
        ("agnews", {"momentum": 0.9}, "momentum"),
    ],
)
def test_each_rule_rejects_naming_the_parameter(task, params, name):
    with pytest.raises(ConfigError, match=rf"\b{name}\b"):
        config.resolve(task, "mini", params)


def test_unknown_parameter_errors_say_why():
    with pytest.raises(ConfigError, match="SST-2 has no label noise"):
        config.resolve("sst2", "thesis", {"label_noise_rate": 0.0})
    with pytest.raises(ConfigError, match="environment"):
        config.resolve("agnews", "thesis", {"hf_token": "hf_x"})
    with pytest.raises(ConfigError, match="AdamW, AdaptiveScheduler, RandomScheduler"):
        config.resolve("agnews", "thesis", {"method": "SGD"})


def test_task_rules_stay_with_their_task():
    # AG News noise needs no type (symmetric only) and stops below 1; CIFAR allows 1.0 with a type.
    assert config.resolve("agnews", "mini", {"label_noise_rate": 0.2}).label_noise_rate == 0.2
    assert config.resolve("cifar100", "mini", {"label_noise_type": "symmetric",
                                               "label_noise_rate": 1.0}).label_noise_rate == 1.0
    # NLP stand-in sizes need >= 10 examples; CIFAR's need > 0.
    assert config.resolve("cifar100", "mini", {"standin_n_train": 5}).standin_n_train == 5
    # scheduler_t_max counts optimizer steps for NLP (any positive int), epochs for CIFAR.
    assert config.resolve("sst2", "thesis", {"scheduler_t_max": 21050}).scheduler_t_max == 21050


@pytest.mark.parametrize("task", sorted(config.TASK_CONFIGS))
def test_field_docs_parse_as_papermill_parameters(task):
    # papermill skips a parameter line holding a second '=' (its --help-notebook loses it).
    for name, doc in config.field_docs(task).items():
        assert doc and "=" not in doc, name
