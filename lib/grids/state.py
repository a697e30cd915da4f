"""The state of a run on disk: complete, and recorded with the grid's configuration?

A run is *finished* when its JSON is complete (valid JSON, a ``config`` block, the metric
keys, one validation accuracy per configured epoch) and its recorded config matches the
grid: the same profile and task, and for every explicit parameter and every value the
profile sets, the resolved value (``lib.config.resolve``) equals the recorded one. Where a
run wrote, ran and found its caches, and how often it checkpointed (``IGNORED_FIELDS``,
``lib.params.RESULT_NEUTRAL_FIELDS``) are not compared.
"""

from __future__ import annotations

import json
import math
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lib import shown_path
from lib.grids.cells import GridError
from lib.params import NOTEBOOK_ONLY, RESULT_NEUTRAL_FIELDS

IGNORED_FIELDS = RESULT_NEUTRAL_FIELDS  # one set, shared with lib.train.checkpoint
RESULT_KEYS = ("best_val_accuracy", "final_val_accuracy", "val_accuracies")


rel = shown_path  # the project's one repo-relative path form


def rel_command(command: str) -> str:
    """A shell command with its absolute paths inside the repository made relative."""
    return shlex.join(rel(a) if a.startswith("/") else a for a in shlex.split(command))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-15)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def expected_config(task: str, profile: str, parameters: Mapping[str, Any],
                    resolve: bool = True) -> dict[str, Any]:
    """Resolved values of the explicit parameters and of every profile-set field (see module doc).

    ``resolve=False``: the explicit parameters as given (without resolving them).
    """
    params = {k: v for k, v in parameters.items() if k not in NOTEBOOK_ONLY}
    if not resolve:
        return {k: v for k, v in params.items() if k not in IGNORED_FIELDS}
    from lib import config

    keys = (set(params) | set(config.PROFILES.get(profile, {}).get(task, {}))) - IGNORED_FIELDS
    cfg = resolved_config(task, profile, parameters)
    return {k: getattr(cfg, k) for k in sorted(keys)}


def resolved_config(task: str, profile: str, parameters: Mapping[str, Any]) -> Any:
    """The run configuration a notebook builds from a run's planned parameters (lib.config: torch-free).
    A bad parameter raises GridError naming the run."""
    from lib import config

    try:
        return config.resolve(task, profile, {k: v for k, v in parameters.items() if k not in NOTEBOOK_ONLY})
    except config.ConfigError as exc:
        raise GridError(f"{parameters.get('run_id', task)}: {exc}") from None


def incomplete_reason(data: Any) -> str:
    """Why a decoded RunResult is not complete, or '' if it is."""
    if not isinstance(data, dict) or not isinstance(data.get("config"), dict):
        return "no config block"
    missing = [k for k in RESULT_KEYS if k not in data]
    if missing:
        return f"missing {', '.join(missing)}"
    vals, epochs = data["val_accuracies"], data["config"].get("epochs")
    if not isinstance(vals, list) or not isinstance(epochs, int) or len(vals) != epochs:
        return f"{len(vals) if isinstance(vals, list) else 'no'} validation accuracies for {epochs} epochs"
    return ""


def config_diff(task: str, profile: str, parameters: Mapping[str, Any], recorded: Mapping[str, Any],
                resolve: bool = True) -> list[str]:
    """Differences 'name recorded != grid' between a recorded config and the grid's."""
    diffs = []
    if recorded.get("profile") != profile:
        diffs.append(f"profile {recorded.get('profile')!r} != {profile!r}")
    if recorded.get("task_name", task) != task:
        diffs.append(f"task_name {recorded.get('task_name')!r} != {task!r}")
    for key, want in expected_config(task, profile, parameters, resolve).items():
        if key not in recorded:
            diffs.append(f"{key} not recorded")
        elif not _same(recorded[key], want):
            diffs.append(f"{key} {recorded[key]!r} != {want!r}")
    return diffs


def check_file(path: Path, task: str | None = None, profile: str | None = None,
               parameters: Mapping[str, Any] | None = None, resolve: bool = True) -> tuple[str, str]:
    """(state, reason): ``finished`` | ``missing`` | ``incomplete`` | ``mismatch``.

    Without ``parameters`` only completeness is checked; ``resolve=False`` compares the
    explicit parameters only (the runner, right after running exactly those).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return "missing", "not run yet"
    except (OSError, UnicodeDecodeError) as exc:
        return "incomplete", f"unreadable: {exc}"
    try:
        data = json.loads(text)
    except ValueError as exc:
        return "incomplete", f"truncated or invalid JSON: {exc}"
    reason = incomplete_reason(data)
    if reason:
        return "incomplete", reason
    if parameters is not None:
        diffs = config_diff(task, profile, parameters, data["config"], resolve)
        if diffs:
            return "mismatch", "recorded config differs from the grid: " + "; ".join(diffs[:4])
    return "finished", ""
