"""Does a recorded run configuration match the parameters the run was planned with?

Shared by the grid state (``lib.grids.state``: is a finished run the grid's run?) and the output
guard (``lib.train.guard``: may this run write into a grid's folder?), below both. The compared
values: the profile, the task, every explicit parameter and every value the profile sets, each
resolved by ``lib.config.resolve``; where a run writes, runs and finds its caches and how often
it checkpoints (``lib.params.RESULT_NEUTRAL_FIELDS``) are not compared. ``lib.config`` is imported
only when a value must be resolved.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from lib.params import NOTEBOOK_ONLY, RESULT_NEUTRAL_FIELDS
from lib import config
from lib.profiles import PROFILES

IGNORED_FIELDS = RESULT_NEUTRAL_FIELDS  # one set, shared with lib.train.checkpoint


class ParameterError(ValueError):
    """A planned run's parameters do not resolve to a configuration; the message names the run."""


def same(a: Any, b: Any) -> bool:
    """Equal as recorded values: bools by identity, numbers to 1e-9 relative, sequences element-wise."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-15)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def resolved_config(task: str, profile: str, parameters: Mapping[str, Any]) -> Any:
    """The run configuration a notebook builds from a run's planned parameters (lib.config, torch-free).
    A bad parameter raises :class:`ParameterError` naming the run."""

    try:
        return config.resolve(task, profile, {k: v for k, v in parameters.items() if k not in NOTEBOOK_ONLY})
    except config.ConfigError as exc:
        raise ParameterError(f"{parameters.get('run_id', task)}: {exc}") from None


def expected_config(task: str, profile: str, parameters: Mapping[str, Any],
                    resolve: bool = True) -> dict[str, Any]:
    """Resolved values of the explicit parameters and of every profile-set field (see module doc).

    ``resolve=False``: the explicit parameters as given (without resolving them).
    """
    params = {k: v for k, v in parameters.items() if k not in NOTEBOOK_ONLY}
    if not resolve:
        return {k: v for k, v in params.items() if k not in IGNORED_FIELDS}

    keys = (set(params) | set(PROFILES.get(profile, {}).get(task, {}))) - IGNORED_FIELDS
    cfg = resolved_config(task, profile, parameters)
    return {k: getattr(cfg, k) for k in sorted(keys)}


def config_diff(task: str, profile: str, parameters: Mapping[str, Any], recorded: Mapping[str, Any],
                resolve: bool = True) -> list[str]:
    """Differences 'name recorded != planned' between a recorded config and the planned parameters'."""
    diffs = []
    if recorded.get("profile") != profile:
        diffs.append(f"profile {recorded.get('profile')!r} != {profile!r}")
    if recorded.get("task_name", task) != task:
        diffs.append(f"task_name {recorded.get('task_name')!r} != {task!r}")
    for key, want in expected_config(task, profile, parameters, resolve).items():
        if key not in recorded:
            diffs.append(f"{key} not recorded")
        elif not same(recorded[key], want):
            diffs.append(f"{key} {recorded[key]!r} != {want!r}")
    return diffs


__all__ = ["IGNORED_FIELDS", "ParameterError", "config_diff", "expected_config", "resolved_config", "same"]
