"""Glue between a papermill-parameterised training notebook and ``lib.config``.

A training notebook declares every configuration field in its ``parameters`` cell with the
value ``None`` (= "use the profile default"). Papermill injects the given values in a cell
below it; :func:`resolve_from_namespace` collects them, rejects names the notebook does not
declare (papermill itself only warns about those) and resolves the config.
"""

from __future__ import annotations

from typing import Any

from lib import config
from lib.params import NOTEBOOK_ONLY



def snapshot_names(namespace: dict[str, Any]) -> set[str]:
    """Names defined before the parameters cell (call in the first cell)."""
    return {k for k in namespace if not k.startswith("_")}


def resolve_from_namespace(task: str, namespace: dict[str, Any], before: set[str]) -> Any:
    """The resolved config from the parameters cell and papermill's injected cell."""
    allowed = set(config.field_docs(task)) | set(NOTEBOOK_ONLY)
    defined = {k for k in namespace if not k.startswith("_")} - before
    unknown = sorted(n for n in defined - allowed if not callable(namespace[n])
                     and type(namespace[n]).__name__ != "module")
    if unknown:
        raise config.ConfigError(
            f"unknown parameter(s) {', '.join(unknown)} for train_{task}; allowed: "
            f"{', '.join(sorted(allowed))}")
    params = {k: namespace.get(k) for k in config.field_docs(task)}
    return config.resolve(task, namespace["profile"], params)


def parameters_cell(task: str, profile_default: str = "mini") -> str:
    """Source of the ``parameters`` cell: every field = None, with its meaning as a comment."""
    docs = config.field_docs(task)
    width = max(len(n) for n in docs) + 8
    lines = [
        "# Every value None = the profile's default (thesis defaults; see lib/config.py, lib/profiles.py).",
        f"{'profile = ' + repr(profile_default):<{width}}# thesis (real data, GPU) | mini (offline stand-in, CPU) | mini-fmnist (mini, CIFAR task on real Fashion-MNIST)",
        f"{'run_id = None':<{width}}# run id recorded in the RunResult provenance (grids set it)",
    ]
    for name, doc in docs.items():
        lines.append(f"{name + ' = None':<{width}}# {doc}")
    return "\n".join(lines)
