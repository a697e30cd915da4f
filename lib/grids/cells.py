"""The data model of an experiment grid: cells, aliases, grids, and one run per cell × seed.

A :class:`Cell` holds the *method* parameters of one thesis table row (control mode or
method, optimizer, base LR, scheduler, candidate sets, label noise, ...), the same for
every profile. :meth:`Cell.parameters` adds what depends on the profile:

* ``thesis``: the thesis horizon (``epochs``: the thesis profile's, 200 CIFAR / 5 NLP, or the
  cell's own, e.g. 100 for the small-noise ablation) and, for episode-managed runs (AEES,
  random, fixed), the profile's ``MANAGED_RUN_VALUES`` (``episode_length=200``); baselines keep
  the runner default (NLP: 100, inactive). Every value comes from ``lib.profiles``.
* any other profile (``mini``): nothing else; the profile supplies epochs and episode
  length. A cell whose thesis horizon differs from the task's main horizon (compute
  overhead, small-noise ablation) gets its epochs scaled by the same ratio from the
  profile's epochs (at least 2, so that the timing metric can drop epoch 0).

A cell with a ``parent`` (the peak-checkpoint re-runs) is derived from another grid's finished runs:
``lib.grids.plan`` reads the parent run of each seed and sets ``epochs`` = ``scheduler_t_max`` =
its peak epoch; without a finished parent the plan stops with an error naming it.

An :class:`Alias` names a thesis row that is *the same training run* as a cell (of this
or another grid), e.g. Fixed ×1.0 = the baseline; it is never trained twice.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lib.profiles import MANAGED_RUN_VALUES, main_epochs
from lib.vocab import TASKS, is_managed
from lib import config

THESIS_PROFILE = "thesis"
# The thesis horizon of each task (protocol 11.1 / 11.2): the thesis profile's epochs, its one source.
MAIN_EPOCHS = {task: main_epochs(THESIS_PROFILE, task) for task in TASKS}
MIN_SCALED_EPOCHS = 2
# Parameter order in parameter files and manifests: the thesis run-plan order (11.5).
PREFERRED_ORDER = (
    "control_mode", "method", "optimizer", "epochs", "batch_size", "lr", "momentum", "weight_decay",
    "lr_scheduler", "scheduler_t_max", "warmup_epochs", "episode_length", "lr_candidates",
    "noise_candidates", "structured_control_mode", "context_mode", "context_trend_window",
    "context_trend_epsilon", "reward_epsilon", "reward_instability_lambda", "reward_clip_min",
    "reward_clip_max", "label_noise_type", "label_noise_rate", "label_noise_seed", "max_length",
    "seed", "run_tag",
)


class GridError(ValueError):
    """A grid name, profile, seed list or cell definition is not usable."""


def notebook_for(task: str) -> Path:
    """The training notebook of a task, relative to the repository root."""
    return Path("notebooks") / f"train_{task}.ipynb"


def profile_value(task: str, profile: str, name: str) -> Any:
    """The value a profile gives a config field of a task (profile entry, else the thesis default)."""

    cls = config.TASK_CONFIGS.get(task)
    if cls is None:
        raise GridError(f"task {task!r} has no configuration in lib.config.TASK_CONFIGS "
                        f"(known: {', '.join(config.TASK_CONFIGS)}); its notebook is not in place yet")
    if profile not in config.PROFILES:
        raise GridError(f"profile: must be one of {', '.join(config.PROFILES)}; got {profile!r}")
    given = config.PROFILES[profile].get(task, {})
    if name in given:
        return given[name]
    defaults = {f.name: f for f in dataclasses.fields(cls)}
    if name not in defaults:
        raise GridError(f"task {task!r} has no config field {name!r}")
    f = defaults[name]
    return f.default_factory() if f.default is dataclasses.MISSING else f.default


def order_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` in the thesis run-plan order, the rest sorted (11.5)."""
    first = [k for k in PREFERRED_ORDER if k in params]
    return {k: params[k] for k in first + sorted(set(params) - set(first))}


@dataclass(frozen=True)
class Cell:
    """One thesis table row that needs its own training run."""

    name: str  # run name stem inside the grid (the seed is appended)
    task: str  # cifar100 | sst2 | agnews
    params: Mapping[str, Any]  # method parameters, identical in every profile
    label: str  # the thesis display label = lib.analysis.identify(record)["method"]
    setting: str = "clean"  # identify()["setting"]: clean, asym20, sym20, sym40, noise20
    optimizer: str = "AdamW"
    thesis_epochs: int | None = None  # None: the task's main thesis horizon (MAIN_EPOCHS)
    tables: tuple[str, ...] = ()  # INVENTORY tables/figures that use the row
    expect: Mapping[str, Any] = field(default_factory=dict)  # further identify() columns
    # (grid, cell) this cell is derived from: each seed's run takes its epochs and scheduler_t_max
    # from that cell's finished run of the same seed (the peak re-runs; lib.grids.plan.derived_parameters)
    parent: tuple[str, str] | None = None

    @property
    def managed(self) -> bool:
        """Episode-managed (AEES, random, fixed): has episodes, so an episode length."""
        return is_managed(dict(self.params))

    def parameters(self, profile: str) -> dict[str, Any]:
        """The explicit notebook parameters of this cell under ``profile`` (no seed/output)."""
        params = {k: list(v) if isinstance(v, list) else v for k, v in self.params.items()}
        main = MAIN_EPOCHS[self.task]
        if self.managed:
            params.update(MANAGED_RUN_VALUES.get(profile, {}))
        if profile == THESIS_PROFILE:
            params["epochs"] = self.thesis_epochs or main
        elif self.thesis_epochs and self.thesis_epochs != main:
            base = profile_value(self.task, profile, "epochs")
            params["epochs"] = max(MIN_SCALED_EPOCHS, round(base * self.thesis_epochs / main))
        return order_params(params)


@dataclass(frozen=True)
class Alias:
    """A thesis row that is the same run as ``cell`` of grid ``grid`` (never trained twice)."""

    name: str
    grid: str
    cell: str
    label: str
    setting: str = "clean"
    optimizer: str = "AdamW"
    note: str = ""
    tables: tuple[str, ...] = ()


@dataclass(frozen=True)
class Grid:
    """One experiment grid: cells × seeds (× timing repeats), per profile."""

    name: str
    title: str
    cells: tuple[Cell, ...]
    aliases: tuple[Alias, ...] = ()
    seeds: Mapping[str, tuple[int, ...]] = field(default_factory=dict)  # default seeds per profile
    fixed_seeds: bool = False  # SEEDS does not apply (compute overhead: seed 0 only)
    repeats: Mapping[str, int] = field(default_factory=dict)  # timing repeats per profile (default 1)
    note: str = ""

    def cell(self, name: str) -> Cell:
        for cell in self.cells:
            if cell.name == name:
                return cell
        raise GridError(f"grid {self.name!r} has no cell {name!r}")

    def default_seeds(self, profile: str) -> tuple[int, ...]:
        return self.seeds.get(profile, self.seeds.get("*", ()))

    def n_repeats(self, profile: str) -> int:
        return self.repeats.get(profile, self.repeats.get("*", 1))


@dataclass(frozen=True)
class RunSpec:
    """One planned run: one parameter file -> one papermill execution -> one JSON."""

    grid: str
    name: str  # file stem: <cell>_seed<N>[_run<k>]
    cell: str
    task: str
    profile: str
    seed: int
    repeat: int  # 1-based timing repeat (1 unless the grid repeats runs)
    parameters: dict[str, Any]  # everything the notebook receives (the parameter file)
    label: str
    setting: str
    optimizer: str
    grid_dir: Path  # absolute

    @property
    def json(self) -> Path:
        return self.grid_dir / f"{self.name}.json"

    @property
    def executed_notebook(self) -> Path:
        return self.grid_dir / f"{self.name}.ipynb"

    @property
    def params_file(self) -> Path:
        return self.grid_dir / "params" / f"{self.name}.yaml"

    @property
    def log(self) -> Path:
        return self.grid_dir / f"{self.name}.log"


def run_name(cell: str, seed: int, repeat: int = 1) -> str:
    """``<cell>_seed<N>``, plus ``_run<k>`` for timing repeats 2, 3, ... (thesis naming, 9.5)."""
    return f"{cell}_seed{seed}" + (f"_run{repeat}" if repeat > 1 else "")


def repeat_tag(repeat: int) -> str:
    """``run_tag`` of a timing repeat: makes the repeats' recorded configs distinct."""
    return f"run{repeat}"
