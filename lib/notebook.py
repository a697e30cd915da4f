"""Glue between a papermill-parameterised training notebook and ``lib.config``.

A training notebook declares every configuration field in its ``parameters`` cell, annotated
with its type, with the value ``None`` (= "use the profile default", which the comment lists). Papermill injects the given values in a cell
below it; :func:`resolve_from_namespace` collects them, rejects names the notebook does not
declare (papermill itself only warns about those) and resolves the config.
"""

from __future__ import annotations

import difflib
import platform
import types
import typing
from typing import Any

from lib import config
from lib.data import ready
from lib.params import NOTEBOOK_ONLY



# The Jupyter kernel `make setup` installs (Makefile: ipykernel install --name/--display-name) and the
# language_info that kernel reports: committed notebooks carry exactly these, so that opening one in
# JupyterLab, or executing it with papermill or nbval, leaves its metadata as committed.
KERNEL_NAME = "aees"
KERNEL_DISPLAY_NAME = "AEES (project env)"


def kernel_metadata() -> dict[str, Any]:
    """``kernelspec`` and ``language_info`` of a notebook run by the project kernel (this Python)."""
    return {"kernelspec": {"display_name": KERNEL_DISPLAY_NAME, "language": "python", "name": KERNEL_NAME},
            "language_info": {"codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
                              "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
                              "pygments_lexer": "ipython3", "version": platform.python_version()}}


def snapshot_names(namespace: dict[str, Any]) -> set[str]:
    """Names defined before the parameters cell (call in the first cell)."""
    return {k for k in namespace if not k.startswith("_")}


def allowed_parameters(task: str) -> set[str]:
    return set(config.field_docs(task)) | set(NOTEBOOK_ONLY)


def check_parameters(task: str, params: dict[str, Any]) -> Any:
    """The resolved config of a training notebook's parameters, or the one-line error: an unknown name
    (``config.ConfigError``), a bad value (the same) or missing data (``ready.DataMissing``). Torch-free:
    ``lib.run`` calls it before papermill starts a kernel, the notebook before any data or lock."""
    allowed = sorted(allowed_parameters(task))
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        near = {n: difflib.get_close_matches(n, allowed, n=1) for n in unknown}
        named = ", ".join(n + (f" (did you mean {near[n][0]}?)" if near[n] else "") for n in unknown)
        raise config.ConfigError(f"unknown parameter(s) {named} for train_{task}; allowed: {', '.join(allowed)}")
    cfg = config.resolve(task, params.get("profile") or "mini",
                         {k: params.get(k) for k in config.field_docs(task)})
    ready.require(task, cfg)
    return cfg


def resolve_from_namespace(task: str, namespace: dict[str, Any], before: set[str]) -> Any:
    """The resolved config from the parameters cell and papermill's injected cell (``check_parameters``)."""
    defined = {k for k in namespace if not k.startswith("_")} - before
    names = {n for n in defined if not callable(namespace[n]) and type(namespace[n]).__name__ != "module"}
    return check_parameters(task, {n: namespace[n] for n in names | {"profile"} if n in namespace})


PROFILE_NOTES = {"mini": "the offline stand-in, CPU", "thesis": "the real data sets, GPU",
                 "mini-fmnist": "mini with the CIFAR task on real Fashion-MNIST and a larger AG News, CPU"}


def _annotation(tp: Any) -> str:
    """A field's type as papermill's ``--help-notebook`` shows it (``int``; ``int | None`` -> ``int``)."""
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and args:
        tp = args[0]
    return getattr(tp, "__name__", str(tp)) if typing.get_origin(tp) is None else str(tp)


def _defaults(task: str, name: str, values: dict[str, Any]) -> str:
    shown = {p: repr(getattr(cfg, name)) for p, cfg in values.items()}
    if len(set(shown.values())) == 1:
        return f"default {next(iter(shown.values()))}"
    return "default " + ", ".join(f"{v} ({p})" for p, v in shown.items())


def parameters_cell(task: str, profile_default: str = "mini") -> str:
    """Source of the ``parameters`` cell: every field annotated with its type and set to None (= the profile's
    value, so that one notebook serves every profile and the RunResult records what was given), with its
    meaning and each profile's default (``profile_default`` first) as the comment that ``papermill
    --help-notebook`` prints."""
    docs = config.field_docs(task)
    hints = typing.get_type_hints(config.TASK_CONFIGS[task])
    order = [profile_default] + [p for p in config.PROFILES if p != profile_default]
    values = {p: config.resolve(task, p, {}) for p in order}
    lines = [
        f"# None = the profile's default, listed in each comment ({profile_default} first); see lib/config.py, lib/profiles.py.",
        f"profile: str = {profile_default!r}",
        "run_id: str = None",
    ]
    comments = [" | ".join(f"{p} ({PROFILE_NOTES.get(p, 'see lib/config.py')})" for p in order),
                "run id recorded in the RunResult provenance (grids set it)"]
    for name, doc in docs.items():
        lines.append(f"{name}: {_annotation(hints[name])} = None")
        comments.append(f"{doc}; {_defaults(task, name, values)}".replace("=", "is"))  # papermill: one '=' a line
    width = max(len(line) for line in lines[1:]) + 1
    return "\n".join(lines[:1] + [f"{line:<{width}}# {c}" for line, c in zip(lines[1:], comments)])
