"""Strict value parsing shared by the runtime-metric builders (protocol §9.1).

Bools are never numbers here, ints are never floats-in-disguise, and a list is
numeric only if every element is.
"""

from __future__ import annotations

import statistics
from typing import Any, Mapping


def as_float(value: object) -> float | None:
    """``float(value)`` for an int/float that is not a bool, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def as_int(value: object) -> int | None:
    """``value`` for an int that is not a bool, else None (floats are rejected)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return int(value)


def float_list(value: object) -> list[float] | None:
    """List of floats, or None if ``value`` is not a list/tuple or any element is not numeric."""
    if not isinstance(value, (list, tuple)):
        return None
    out = [as_float(item) for item in value]
    return None if any(item is None for item in out) else out  # type: ignore[return-value]


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator / denominator``; None if either is None or the denominator is 0."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return float(numerator) / float(denominator)


def mean(values: list[float] | None) -> float | None:
    """``statistics.fmean``; None for None or empty."""
    return statistics.fmean(values) if values else None


def pstdev(values: list[float] | None) -> float | None:
    """Population std; 0.0 for one element; None for None or empty."""
    if not values:
        return None
    return 0.0 if len(values) == 1 else statistics.pstdev(values)


def mapping(value: object) -> Mapping[str, Any] | None:
    """``value`` if it is a mapping, else None."""
    return value if isinstance(value, Mapping) else None
