"""The state of a run on disk: complete, and recorded with the grid's configuration?

A run is *finished* when its JSON is complete (valid JSON, a ``config`` block, the metric
keys, one validation accuracy per configured epoch) and its recorded config matches the
grid: the same profile and task, and for every explicit parameter and every value the
profile sets, the resolved value (``lib.config.resolve``) equals the recorded one. Where a
run wrote, ran and found its caches, and how often it checkpointed (``IGNORED_FIELDS``,
``lib.params.RESULT_NEUTRAL_FIELDS``) are not compared (the comparison: ``lib.config_match``).
"""

from __future__ import annotations

import functools
import json
import shlex
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from lib import config_match, shown_path
from lib.config_match import IGNORED_FIELDS, ParameterError
from lib.grids.cells import GridError

__all__ = ["GridError", "IGNORED_FIELDS", "RESULT_KEYS", "check_file", "config_diff", "expected_config", "incomplete_reason",
           "rel", "rel_command", "resolved_config"]

RESULT_KEYS = ("best_val_accuracy", "final_val_accuracy", "val_accuracies")


rel = shown_path  # the project's one repo-relative path form


def rel_command(command: str) -> str:
    """A shell command with its absolute paths inside the repository made relative."""
    return shlex.join(rel(a) if a.startswith("/") else a for a in shlex.split(command))


def _grid_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` raising :class:`GridError` (a grid's error) where a run's parameters do not resolve."""
    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ParameterError as exc:
            raise GridError(str(exc)) from None
    return wrapped


expected_config = _grid_errors(config_match.expected_config)
resolved_config = _grid_errors(config_match.resolved_config)
config_diff = _grid_errors(config_match.config_diff)


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
