"""One run parameter's value checked and converted against its declared type (``lib.config``).

Every failure is a :class:`ConfigError` that names the parameter and what is allowed.
"""

from __future__ import annotations

import math
import types
import typing
from typing import Any


class ConfigError(ValueError):
    """A run parameter is unknown, of the wrong type, or outside its allowed values."""

    def _render_traceback_(self) -> list[str]:
        # IPython (JupyterLab, papermill's error report) shows these lines instead of a traceback:
        # the message names the parameter, the allowed values and the value given; nothing to debug.
        return [f"{type(self).__name__}: {self}"]


def type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp)).replace("NoneType", "None")


def parse_candidates(text: str, name: str) -> list[float]:
    """``"0.5,1,2"`` -> [0.5, 1.0, 2.0] with pulseopt's rules (``pulseopt.modes``: at least one value, no
    duplicates, LR multipliers positive, noise non-negative), written here so that validating a
    configuration imports no torch (a bad parameter is reported before any heavy import)."""
    positive = name == "lr_candidates"
    words = [w.strip() for w in text.split(",") if w.strip()]
    if not words:
        raise ValueError(f"{name} must contain at least one value.")
    values: list[float] = []
    for word in words:
        try:
            value = float(word)
        except ValueError:
            raise ValueError(f"Invalid value '{word}' in {name}.") from None
        if (value <= 0.0) if positive else (value < 0.0):
            raise ValueError(f"{name} values must be {'positive' if positive else 'non-negative'}.")
        if value in values:
            raise ValueError(f"{name} contains a duplicate value: {value}.")
        values.append(value)
    return values


def coerce(name: str, tp: Any, value: Any) -> Any:
    """Check/convert one value against its declared type; raise ConfigError naming the field."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return coerce(name, args[0], value)
    if origin is list:
        if isinstance(value, str):
            text = value
        elif isinstance(value, (list, tuple)):
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
                raise ConfigError(f"{name}: every element must be a number, got {value!r}")
            text = ",".join(repr(float(v)) for v in value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            text = repr(float(value))
        else:
            raise ConfigError(f"{name}: expected a list of numbers or a comma-separated string, got {value!r}")
        try:
            return parse_candidates(text, name)
        except ValueError as exc:
            raise ConfigError(f"{name}: {exc}") from None
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{name}: expected true/false, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{name}: expected an integer, got {value!r} ({type(value).__name__})")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise ConfigError(f"{name}: must be finite, got {value!r}")
            return float(value)
        raise ConfigError(f"{name}: expected a number, got {value!r} ({type(value).__name__})")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{name}: expected a string, got {value!r} ({type(value).__name__})")
    raise ConfigError(f"{name}: unsupported type {type_name(tp)}")  # pragma: no cover


def require(ok: bool, name: str, rule: str, value: Any) -> None:
    if not ok:
        raise ConfigError(f"{name}: must be {rule}, got {value!r}")


__all__ = ["ConfigError", "coerce", "parse_candidates", "require", "type_name"]
