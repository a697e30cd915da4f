"""Typed run configuration per task, thesis defaults, named profiles, strict validation.

Every flag of the thesis runners (protocol 1.1 CIFAR, 2.1 SST-2, 3 AG News) is a field here
under its thesis name (dashes -> underscores) with its thesis default. There is no
``hf_token``: a Hub token, if any, comes from the environment and is never recorded.
A *profile* is a named bundle of defaults (``lib.profiles``: ``thesis``, protocol section 11
settings on the real data; ``mini``, the same code paths at CPU scale on the offline stand-ins;
``mini-fmnist``, ``mini`` with the CIFAR task on real Fashion-MNIST images and a larger AG News). Explicit parameters
always win over the profile; the resolved values, the profile and the explicit parameters are
all recorded in the RunResult.

A bad parameter fails here, before any data is touched, with a message that names the
parameter and what is allowed.
"""

from __future__ import annotations

import dataclasses
import typing
import warnings
from dataclasses import dataclass, field
from typing import Any

from lib.config_values import ConfigError, coerce, require
from lib.profiles import MANAGED_RUN_VALUES, PROFILES
from lib.vocab import AGNEWS_NOISE_SEED, CIFAR_TASK_DATASETS, PEER_SPECS, is_managed


# The peers (beyond the thesis; lib.vocab.PEER_SPECS, built by lib.control.peers) are read from their table
# when a run is validated, so that a peer registered there is a valid choice everywhere.
def _peers() -> tuple[str, ...]:
    return tuple(PEER_SPECS)


def _text_optimizer_methods() -> tuple[str, ...]:  # NLP ``method`` values that are a baseline optimizer
    return ("AdamW", *_peers())


def _peer_doc() -> str:
    """What the ``optimizer`` comment says of the peers: which they are, and their default LRs."""
    count = ("one", "two", "three", "four", "five", "six")[len(PEER_SPECS) - 1]
    lrs = "".join(f"; {name}'s lr defaults to {p.default_lr}" for name, p in PEER_SPECS.items()
                  if p.default_lr is not None)
    return f"{' | '.join(PEER_SPECS)} (the last {count}: peers beyond the thesis, lib.control.peers{lrs})"


def _cifar_datasets() -> tuple[str, ...]:  # the CIFAR task's data (lib.vocab.CIFAR_TASK_DATASETS)
    return ("cifar100", *CIFAR_TASK_DATASETS)


def _f(default: Any, doc: str, choices: tuple | Any = None) -> Any:
    """A config field: default, one-line doc, allowed values (a tuple, or a function giving them)."""
    meta = {"doc": doc, "choices": choices}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


# Speed options, shared by every task. aees_impl (tests/test_fast_aees.py) and checkpoint_every
# (tests/test_resume.py) leave the results unchanged and update_norm only the logged update norms;
# precision=bf16, channels_last and compile change the arithmetic, hence the numbers.
def _aees_impl() -> Any:
    return _f("fast", "fast (lib.control.FastAEES, same decisions) | stock (pulseopt.AEES)", ("fast", "stock"))


def _update_norm() -> Any:
    return _f("fused", "logged update norm with aees_impl fast: fused | exact | off", ("fused", "exact", "off"))


def _checkpoint_every() -> Any:
    return _f(1, "save a resumable checkpoint every N epochs beside the output; 0: never")


def _precision() -> Any:
    return _f("fp32", "fp32 | bf16 (autocast; GPU fast path)", ("fp32", "bf16"))


def _rehearsal_max_steps() -> Any:
    return _f(0, "rehearsal only (make rehearse): at most N optimizer steps and N evaluation batches per "
                 "epoch, ≥ 0; 0: off. A capped run is recorded as such and never counts as a result")


MACHINERY = ("project", "thesis")
# What machinery=thesis changes. Recorded in every RunResult's config block as
# ``machinery_details`` (lib.train.thesis_machinery). The thesis profile's accuracy runs keep "project".
_MACHINERY_DOC = ("project (default: FastAEES, device-resident CIFAR batches, per-epoch checkpoints) | "
                  "thesis (what the thesis timed: its runner's step on pulseopt's optimizer wrappers and "
                  "episode manager with per-step host reads, the SGD baseline through pulseopt's SGD wrapper, "
                  "CIFAR through a torch DataLoader with 2 workers and PIL transforms, no checkpoint writes; "
                  "for compute-overhead timing)")


def _machinery() -> Any:
    return _f("project", _MACHINERY_DOC, MACHINERY)


@dataclass
class CifarConfig:
    """CIFAR-100 / ResNet-18 run (protocol 1.1 flags with thesis defaults, plus project fields)."""

    # --- thesis flags (protocol 1.1) ---
    control_mode: str = _f("baseline", "baseline | adaptive (AEES) | random", ("baseline", "adaptive", "random"))
    epochs: int = _f(10, "training epochs, > 0 (thesis runs: 200)")
    batch_size: int = _f(128, "batch size, > 0")
    lr: float = _f(1e-3, "base learning rate, > 0 (thesis: AdamW 1e-3, SGD 0.1)")
    weight_decay: float = _f(1e-4, "weight decay, ≥ 0")
    optimizer: str = _f("AdamW", f"AdamW | SGD | {_peer_doc()}", lambda: ("AdamW", "SGD", *_peers()))
    momentum: float = _f(0.9, "SGD momentum, ≥ 0 (recorded for AdamW too)")
    lr_scheduler: str = _f("none", "epoch-level schedule: none | cosine | linear | warmup_linear",
                           ("none", "cosine", "linear", "warmup_linear"))
    scheduler_t_max: int | None = _f(None, "schedule span in epochs, > 0; None: epochs")
    warmup_epochs: int = _f(0, "warmup epochs for warmup_linear, ≥ 0")
    reward_epsilon: float = _f(1e-8, "reward epsilon, > 0")
    reward_instability_lambda: float = _f(0.0, "instability penalty lambda, ≥ 0")
    reward_clip_min: float = _f(-1.0, "reward clip minimum, ≤ reward_clip_max")
    reward_clip_max: float = _f(1.0, "reward clip maximum")
    episode_length: int = _f(200, "optimizer steps per AEES episode, > 0")
    lr_candidates: list[float] = _f([1.0], "LR multipliers, list or '0.5,1,2'; each > 0, no duplicates")
    noise_candidates: list[float] = _f([0.0], "gradient-noise stds, list or '0,0.005'; each ≥ 0, no duplicates")
    structured_control_mode: str = _f("independent", "independent | conditional", ("independent", "conditional"))
    context_mode: str = _f("none", "none | trend", ("none", "trend"))
    context_trend_window: int = _f(3, "episodes in the trend window, > 0")
    context_trend_epsilon: float = _f(1e-3, "trend dead band, ≥ 0")
    label_noise_type: str = _f("none", "none | symmetric | asymmetric", ("none", "symmetric", "asymmetric"))
    label_noise_rate: float = _f(0.0, "fraction of training labels flipped, in [0, 1]; 0 when type is none")
    seed: int = _f(0, "run seed: model init, data order, augmentation, label noise, controllers")
    run_tag: str | None = _f(None, "free text stored as run_tag")
    output: str = _f("", "RunResult JSON path ('': results/scratch/cifar100_<control_mode>_<optimizer>_seed<seed>.json)")
    # --- project fields (beyond the thesis flags) ---
    dataset: str = _f("cifar100", "cifar100 (thesis: CIFAR-100, or its offline stand-in with data_standin) | " + " | ".join(
        f"{name} ({d.doc})" for name, d in CIFAR_TASK_DATASETS.items()), _cifar_datasets)
    data_standin: bool = _f(False, "use the offline CIFAR-100 stand-in instead of the real data")
    standin_n_train: int = _f(50000, "stand-in training images, > 0")
    standin_n_test: int = _f(10000, "stand-in test images, > 0")
    fmnist_n_train: int = _f(500, "dataset fashion-mnist: class-balanced training images, a multiple of 10 in "
                             "[10, 60000]")
    fmnist_n_test: int = _f(1000, "dataset fashion-mnist: class-balanced held-out test images, a multiple of 10 "
                            "in [10, 10000]")
    model_width: int = _f(64, "ResNet-18 base width (thesis 64), > 0")
    device: str = _f("auto", "auto (cuda when available) | cpu | cuda", ("auto", "cpu", "cuda"))
    # --- speed options (see above; off/fp32 by default like the thesis) ---
    aees_impl: str = _aees_impl()
    update_norm: str = _update_norm()
    checkpoint_every: int = _checkpoint_every()
    precision: str = _precision()
    channels_last: bool = _f(False, "channels-last memory format (GPU fast path)")
    compile: bool = _f(False, "torch.compile the model (GPU fast path)")
    rehearsal_max_steps: int = _rehearsal_max_steps()
    machinery: str = _machinery()

    task_name = "cifar100"


@dataclass
class _TextFlags:
    """The thesis flags shared by SST-2 and AG News (protocol 2.1; AG News adds the noise flags)."""

    method: str = _f("AdamW", "AdamW (baseline) | AdaptiveScheduler (AEES) | RandomScheduler | "
                     f"{' / '.join(PEER_SPECS)} (baselines with a peer optimizer, beyond the thesis)",
                     lambda: ("AdamW", "AdaptiveScheduler", "RandomScheduler", *_peers()))
    optimizer: str = _f("AdamW", f"base optimizer that method drives: AdamW | {' | '.join(PEER_SPECS)}; a "
                        "baseline method names it itself (beyond the thesis, lib.control.peers)", _text_optimizer_methods)
    epochs: int = _f(3, "training epochs, > 0 (thesis runs: 5)")
    batch_size: int = _f(16, "batch size, > 0")
    lr: float = _f(5e-5, "base learning rate of AdamW, > 0")
    weight_decay: float = _f(0.01, "AdamW weight decay, ≥ 0")
    lr_scheduler: str = _f("none", "step-level schedule: none | cosine | linear | warmup_linear "
                           "(thesis 'WL': warmup_linear with 0 warmup, a linear decay)",
                           ("none", "cosine", "linear", "warmup_linear"))
    scheduler_t_max: int | None = _f(None, "schedule span in optimizer steps, > 0; None: all steps")
    warmup_epochs: int = _f(0, "warmup for warmup_linear in epochs (-> steps), ≥ 0 (thesis: 0)")
    reward_epsilon: float = _f(1e-8, "reward epsilon, > 0")
    reward_instability_lambda: float = _f(0.0, "instability penalty lambda, ≥ 0")
    reward_clip_min: float = _f(-1.0, "reward clip minimum, ≤ reward_clip_max")
    reward_clip_max: float = _f(1.0, "reward clip maximum")
    episode_length: int = _f(100, "optimizer steps per AEES episode, > 0 (thesis AEES runs: 200)")
    lr_candidates: list[float] = _f([1.0], "LR multipliers, list or '0.7,1,1.3'; each > 0, no duplicates")
    noise_candidates: list[float] = _f([0.0], "gradient-noise stds, list or '0,0.0025,0.005'; each ≥ 0, no duplicates")
    structured_control_mode: str = _f("independent", "independent | conditional", ("independent", "conditional"))
    context_mode: str = _f("none", "none | trend (thesis SST-2 AEES runs: trend)", ("none", "trend"))
    context_trend_window: int = _f(3, "episodes in the trend window, > 0")
    context_trend_epsilon: float = _f(1e-3, "trend dead band, ≥ 0")
    max_length: int = _f(128, "tokenizer truncation length, in [1, 512] (DistilBERT positions)")
    seed: int = _f(0, "run seed: classification head init, data order, controllers, gradient noise")
    cache_dir: str = _f("", "HF data set / model cache ('': .hf_cache; relative paths: under the repo root)")
    local_files_only: bool = _f(False, "no network: tokenizer, model and data sets from local caches only")
    run_tag: str | None = _f(None, "free text stored as run_tag")
    output: str = _f("", "RunResult JSON path ('': results/scratch/<task>_<method>_seed<seed>.json)")
    tokenized_dataset_dir: str = _f("", "tokenized-data cache ('': data/<task>_tokenized, stand-in: "
                                    "data/<task>-standin_tokenized; relative paths: under the repo root)")
    pretokenize_only: bool = _f(False, "prepare the tokenized caches and stop (no training, no RunResult)")
    aees_impl: str = _aees_impl()
    update_norm: str = _update_norm()
    checkpoint_every: int = _checkpoint_every()
    precision: str = _precision()
    rehearsal_max_steps: int = _rehearsal_max_steps()
    machinery: str = _machinery()


_STANDIN_MODEL_DOC = ("HF model id or local folder (thesis: distilbert-base-uncased); 'standin-distilbert' "
                      "is the offline stand-in (tiny pre-trained DistilBERT in data/standin-distilbert)")


@dataclass
class Sst2Config(_TextFlags):
    """GLUE SST-2 / DistilBERT run (protocol 2.1 flags with thesis defaults, plus project fields).

    SST-2 has no label noise (protocol 4.4): the RunResult records rate 0.0, seed 42, type none.
    """

    # --- project fields (beyond the thesis flags) ---
    data_standin: bool = _f(False, "use the offline SST-2 stand-in instead of GLUE SST-2")
    standin_n_train: int = _f(67349, "stand-in training sentences, ≥ 10")
    standin_n_validation: int = _f(872, "stand-in validation sentences, ≥ 10")
    model_name: str = _f("distilbert-base-uncased", _STANDIN_MODEL_DOC)
    group_by_length: bool = _f(False, "batch similar lengths together (less padding; not in the thesis)")
    device: str = _f("auto", "auto (cuda when available) | cpu | cuda", ("auto", "cpu", "cuda"))

    task_name = "sst2"


@dataclass
class AgNewsConfig(_TextFlags):
    """AG News / DistilBERT run (protocol 3 flags with thesis defaults, plus project fields)."""

    label_noise_rate: float = _f(0.0, "symmetric label noise on the 90 % train part, in [0, 1) (thesis: 0 or 0.2)")
    label_noise_seed: int = _f(AGNEWS_NOISE_SEED, "label-noise seed, independent of the run seed (thesis: 42)")
    # --- project fields (beyond the thesis flags) ---
    data_standin: bool = _f(False, "use the offline AG News stand-in instead of AG News")
    standin_n_train: int = _f(120000, "stand-in articles before the 90/10 train/validation split, ≥ 10")
    standin_n_test: int = _f(7600, "stand-in test articles (tokenized, never evaluated, as the thesis), ≥ 10")
    model_name: str = _f("distilbert-base-uncased", _STANDIN_MODEL_DOC)
    group_by_length: bool = _f(False, "batch similar lengths together (less padding; not in the thesis)")
    device: str = _f("auto", "auto (cuda when available) | cpu | cuda", ("auto", "cpu", "cuda"))

    task_name = "agnews"


# Parameters a task does not have, with the reason (appended to the "unknown parameter" error).
_NOT_PARAMETERS = {
    "hf_token": "a Hub token comes from the environment (HF_TOKEN) and is never recorded",
    "control_mode": "the NLP tasks choose the controller with 'method'",
}
_TASK_NOT_PARAMETERS = {
    "sst2": {"label_noise_rate": "SST-2 has no label noise (protocol 4.4)",
             "label_noise_seed": "SST-2 has no label noise (protocol 4.4)", **_NOT_PARAMETERS},
    "agnews": dict(_NOT_PARAMETERS),
}

TASK_CONFIGS: dict[str, type] = {"cifar100": CifarConfig, "sst2": Sst2Config, "agnews": AgNewsConfig}


def field_docs(task: str) -> dict[str, str]:
    """Name -> one-line meaning / allowed values, for parameters cells and --help."""
    return {f.name: f.metadata["doc"] for f in dataclasses.fields(TASK_CONFIGS[task])}


def validate(cfg: Any) -> None:
    """The validation rules of the task's thesis runner (protocol 1.1 / 2.1 / 3) and the project fields."""
    for f in dataclasses.fields(cfg):
        choices = f.metadata.get("choices")
        choices = choices() if callable(choices) else choices
        value = getattr(cfg, f.name)
        if choices is not None and value not in choices:
            raise ConfigError(f"{f.name}: must be one of {', '.join(choices)}; got {value!r}")
    for name in ["epochs", "batch_size", "episode_length", "context_trend_window"]:
        require(getattr(cfg, name) > 0, name, "> 0", getattr(cfg, name))
    require(cfg.checkpoint_every >= 0, "checkpoint_every", ">= 0 (0 = never)", cfg.checkpoint_every)
    require(cfg.rehearsal_max_steps >= 0, "rehearsal_max_steps", ">= 0 (0 = off)", cfg.rehearsal_max_steps)
    require(cfg.lr > 0, "lr", "> 0", cfg.lr)
    for name in ["weight_decay", "reward_instability_lambda", "context_trend_epsilon"]:
        require(getattr(cfg, name) >= 0, name, ">= 0", getattr(cfg, name))
    require(cfg.warmup_epochs >= 0, "warmup_epochs", ">= 0", cfg.warmup_epochs)
    require(cfg.reward_epsilon > 0, "reward_epsilon", "> 0", cfg.reward_epsilon)
    require(cfg.reward_clip_min <= cfg.reward_clip_max, "reward_clip_min",
             f"<= reward_clip_max ({cfg.reward_clip_max})", cfg.reward_clip_min)
    peer = PEER_SPECS.get(cfg.optimizer)
    if peer is not None and peer.own_schedule and cfg.lr_scheduler != "none":
        raise ConfigError(f"lr_scheduler: must be none with optimizer {cfg.optimizer} (it replaces the "
                          f"schedule; its warmup is built in), got {cfg.lr_scheduler!r}")
    if isinstance(cfg, CifarConfig):
        _validate_cifar(cfg)
    else:
        _validate_text(cfg)


def _validate_cifar(cfg: CifarConfig) -> None:
    for name in ["model_width", "standin_n_train", "standin_n_test"]:
        require(getattr(cfg, name) > 0, name, "> 0", getattr(cfg, name))
    require(cfg.momentum >= 0, "momentum", ">= 0", cfg.momentum)
    if cfg.scheduler_t_max is not None:
        require(cfg.scheduler_t_max > 0, "scheduler_t_max", "> 0 (or None for epochs)", cfg.scheduler_t_max)
    require(0.0 <= cfg.label_noise_rate <= 1.0, "label_noise_rate", "in [0, 1]", cfg.label_noise_rate)
    if cfg.dataset != "cifar100" and cfg.data_standin:
        raise ConfigError(f"data_standin: must be false with dataset {cfg.dataset!r} (the offline stand-in is "
                          f"CIFAR-100's; {cfg.dataset} is read from its own files)")
    if cfg.dataset == "fashion-mnist":
        for name, top in (("fmnist_n_train", 60_000), ("fmnist_n_test", 10_000)):
            value = getattr(cfg, name)
            require(10 <= value <= top and value % 10 == 0, name,
                     f"a multiple of 10 in [10, {top}] (10 classes, balanced)", value)
    if cfg.label_noise_type == "none":
        require(cfg.label_noise_rate == 0.0, "label_noise_rate",
                 "exactly 0.0 when label_noise_type is 'none'", cfg.label_noise_rate)


def _validate_text(cfg: Sst2Config | AgNewsConfig) -> None:
    if cfg.scheduler_t_max is not None:
        require(cfg.scheduler_t_max > 0, "scheduler_t_max", "> 0 (or None for all steps)", cfg.scheduler_t_max)
    require(1 <= cfg.max_length <= 512, "max_length", "in [1, 512]", cfg.max_length)
    sizes = ["standin_n_train", "standin_n_validation" if isinstance(cfg, Sst2Config) else "standin_n_test"]
    for name in sizes:
        require(getattr(cfg, name) >= 10, name, ">= 10", getattr(cfg, name))
    require(cfg.model_name.strip() != "", "model_name", "a model id or folder", cfg.model_name)
    if isinstance(cfg, AgNewsConfig):
        require(0.0 <= cfg.label_noise_rate < 1.0, "label_noise_rate", "in [0, 1)", cfg.label_noise_rate)


def resolve(task: str, profile: str, params: dict[str, Any] | None = None) -> Any:
    """Profile defaults, then explicit ``params`` (None values mean "not given"), validated.

    Returns a task config with two extra attributes: ``profile`` and ``explicit`` (the names
    of the explicitly given parameters).
    """
    if task not in TASK_CONFIGS:
        raise ConfigError(f"task: must be one of {', '.join(TASK_CONFIGS)}; got {task!r}")
    if profile not in PROFILES:
        raise ConfigError(f"profile: must be one of {', '.join(PROFILES)}; got {profile!r}")
    cls = TASK_CONFIGS[task]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    given = {k: v for k, v in (params or {}).items() if v is not None}
    unknown = sorted(set(given) - set(fields))
    if unknown:
        reasons = _TASK_NOT_PARAMETERS.get(task, {})
        why = "".join(f" ({name}: {reasons[name]})" for name in unknown if name in reasons)
        raise ConfigError(f"unknown parameter(s) {', '.join(unknown)} for task {task}{why}; "
                          f"allowed: {', '.join(fields)}")
    values = {**PROFILES[profile].get(task, {}), **given}
    if task != "cifar100" and values.get("method", "AdamW") in _text_optimizer_methods():
        method = values.get("method", "AdamW")
        if "optimizer" in given and given["optimizer"] != method:
            raise ConfigError(f"optimizer: method {method!r} is a baseline of its own optimizer, got optimizer "
                              f"{given['optimizer']!r}; leave optimizer out, or use method AdaptiveScheduler / "
                              "RandomScheduler to drive it")
        values["optimizer"] = method
    peer = PEER_SPECS.get(values.get("optimizer"))
    if peer is not None and peer.default_lr is not None and "lr" not in given:
        values["lr"] = peer.default_lr
    if values.get("machinery") == "thesis":
        _thesis_machinery(values, given, set(fields))
    kwargs = {name: coerce(name, hints[name], value) for name, value in values.items()}
    cfg = cls(**kwargs)
    validate(cfg)
    cfg.profile = profile
    cfg.explicit = sorted(given)
    _warn_unused_grid_values(cfg, profile, values, given)
    return cfg


class GridValueWarning(UserWarning):
    """A run resolves a value other than the one its profile's grids give the same kind of run."""


def _warn_unused_grid_values(cfg: Any, profile: str, values: dict[str, Any], given: dict[str, Any]) -> None:
    """Say which of the profile's grid values (``lib.profiles.MANAGED_RUN_VALUES``) an episode-managed
    run started without them does not use: the same cell started by make would resolve them."""
    if not is_managed(values):
        return
    for name, want in MANAGED_RUN_VALUES.get(profile, {}).items():
        if name not in given and hasattr(cfg, name) and getattr(cfg, name) != want:
            warnings.warn(GridValueWarning(
                f"{name}: this run resolves {getattr(cfg, name)!r} (the {cfg.task_name} default), not the "
                f"{want!r} that every episode-managed run of the {profile!r} grids sets (lib.profiles."
                f"MANAGED_RUN_VALUES); pass {name}={want!r} to run as the grid does"), stacklevel=3)


# machinery=thesis implies these values; an explicit other value is an error (the thesis timed
# stock pulseopt (the runner's wrappers), fp32, no checkpoint writes, no project-only batching).
_THESIS_MACHINERY_VALUES = {"aees_impl": "stock", "checkpoint_every": 0, "precision": "fp32",
                            "channels_last": False, "compile": False, "group_by_length": False}


def _thesis_machinery(values: dict[str, Any], given: dict[str, Any], fields: set[str]) -> None:
    for name, want in _THESIS_MACHINERY_VALUES.items():
        if name not in fields:
            continue
        if name in given and given[name] != want:
            raise ConfigError(f"{name}: must be {want!r} with machinery 'thesis' (the thesis machinery runs "
                              f"{', '.join(f'{k}={v!r}' for k, v in _THESIS_MACHINERY_VALUES.items())}), "
                              f"got {given[name]!r}")
        values[name] = want
    if values.get("optimizer") in PEER_SPECS:
        raise ConfigError(f"machinery: 'thesis' times the thesis optimizers (AdamW, SGD), got optimizer "
                          f"{values['optimizer']!r}")


def as_dict(cfg: Any) -> dict[str, Any]:
    """The config fields as a plain dict (thesis names)."""
    return dataclasses.asdict(cfg)
