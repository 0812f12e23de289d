"""Typed readers of one field of a CR body, each failing with a one-line :class:`SpecError`.

The API server has already checked the schema; these readers make the parser safe on bodies
that did not pass through it (tests, old objects) and give every error its field path.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from falcon_operator.core.errors import SpecError

Raw = Mapping[str, Any]


def section(raw: Raw, key: str, path: str, *, required: bool = False) -> Raw:
    """The object at ``raw[key]`` (empty when absent and not required)."""
    value = raw.get(key)
    if value is None:
        if required:
            raise SpecError(f"{path}.{key} is required")
        return {}
    if not isinstance(value, Mapping):
        raise SpecError(f"{path}.{key} must be an object, got {type(value).__name__}")
    return value


def string(raw: Raw, key: str, path: str, *, default: str | None = None) -> str | None:
    value = raw.get(key, default)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise SpecError(f"{path}.{key} must be a non-empty string, got {value!r}")
    return value


def required_string(raw: Raw, key: str, path: str) -> str:
    value = string(raw, key, path)
    if value is None:
        raise SpecError(f"{path}.{key} is required")
    return value


def boolean(raw: Raw, key: str, path: str, *, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise SpecError(f"{path}.{key} must be true or false, got {value!r}")
    return value


def check_number(value: Any, path: str, *, low: float, high: float) -> float:
    """``value`` as a finite float in [low, high]; ``path`` names it in the error."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SpecError(f"{path} must be a number, got {value!r}")
    if not low <= value <= high:
        raise SpecError(f"{path} must be in [{low:g}, {high:g}], got {value!r}")
    return float(value)


def number(
    raw: Raw, key: str, path: str, *, default: float | None, low: float, high: float
) -> float | None:
    """A finite number in [low, high] (``None`` when absent without a default)."""
    value = raw.get(key, default)
    if value is None:
        return None
    return check_number(value, f"{path}.{key}", low=low, high=high)


def integer(raw: Raw, key: str, path: str, *, default: int, low: int, high: int) -> int:
    value = raw.get(key, default)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"{path}.{key} must be an integer, got {value!r}")
    if not low <= value <= high:
        raise SpecError(f"{path}.{key} must be in [{low}, {high}], got {value!r}")
    return value


def number_list(
    raw: Raw, key: str, path: str, *, default: tuple[float, ...], low: float, high: float
) -> tuple[float, ...]:
    """Distinct numbers in [low, high], sorted."""
    value = raw.get(key, list(default))
    if not isinstance(value, list) or not value:
        raise SpecError(f"{path}.{key} must be a non-empty list, got {value!r}")
    out = [check_number(v, f"{path}.{key}[{i}]", low=low, high=high) for i, v in enumerate(value)]
    if len(set(out)) != len(out):
        raise SpecError(f"{path}.{key} has repeated values: {value!r}")
    return tuple(sorted(out))


def integer_list(
    raw: Raw, key: str, path: str, *, default: tuple[int, ...], low: int, high: int
) -> tuple[int, ...]:
    values = number_list(raw, key, path, default=tuple(map(float, default)), low=low, high=high)
    if any(not v.is_integer() for v in values):
        raise SpecError(f"{path}.{key} must hold integers, got {raw.get(key)!r}")
    return tuple(int(v) for v in values)


def string_map(raw: Raw, key: str, path: str) -> dict[str, str] | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise SpecError(f"{path}.{key} must map strings to strings, got {value!r}")
    return dict(value)


#: a label key (and a node-selector key): an optional DNS-subdomain prefix and '/', then a name
#: of at most 63 characters; the CRD's CEL rules use the same patterns (a unit test compares)
LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
#: a label value: empty, or at most 63 characters
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


def label_map(raw: Raw, key: str, path: str) -> dict[str, str] | None:
    """A map of label keys to label values (labels, node selectors), each checked as the API
    server checks labels; the error names the first bad key or value."""
    value = string_map(raw, key, path)
    for k, v in (value or {}).items():
        prefix = k.rpartition("/")[0]
        if not LABEL_KEY.match(k) or len(prefix) > 253:
            raise SpecError(f"{path}.{key}: {k!r} is not a valid label key")
        if not LABEL_VALUE.match(v):
            raise SpecError(f"{path}.{key}[{k!r}]: {v!r} is not a valid label value")
    return value


def number_map(raw: Raw, key: str, path: str, *, low: float, high: float) -> dict[str, float]:
    value = section(raw, key, path)
    return {
        str(k): float(number(value, k, f"{path}.{key}", default=None, low=low, high=high) or 0.0)
        for k in value
    }
