"""Configuration spaces: typed discrete knobs, constraints, a stable encoding, lazy enumeration.

A configuration is a ``dict`` from knob name to value. Every configuration of a space also has an
*index* (mixed-radix over the knobs' domains, the last knob varying fastest), which lets a space of
millions of candidates be walked in chunks without materialising it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from falcon_operator.core.errors import SpaceError

Value = str | int | float
Config = dict[str, Value]
Constraint = Callable[[Mapping[str, Value]], bool]
KnobKind = Literal["categorical", "ordinal"]


@dataclass(frozen=True)
class Knob:
    """One discrete knob. Ordinal knobs have numeric, increasing values; categorical ones do not."""

    name: str
    values: tuple[Value, ...]
    kind: KnobKind = "ordinal"

    def __post_init__(self) -> None:
        if not self.values:
            raise SpaceError(f"knob {self.name!r} has no values")
        if len(set(self.values)) != len(self.values):
            raise SpaceError(f"knob {self.name!r} has repeated values: {list(self.values)}")
        if self.kind == "ordinal":
            if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in self.values):
                raise SpaceError(f"ordinal knob {self.name!r} needs numeric values")
            if list(self.values) != sorted(self.values):  # type: ignore[type-var]
                raise SpaceError(f"ordinal knob {self.name!r} needs increasing values")

    @property
    def size(self) -> int:
        return len(self.values)

    def position(self, value: Value) -> int:
        """Index of ``value`` in the domain (numeric values match within 1e-9)."""
        for i, v in enumerate(self.values):
            if v == value or (
                self.kind == "ordinal"
                and isinstance(value, int | float)
                and abs(float(v) - float(value)) < 1e-9
            ):
                return i
        raise SpaceError(f"{value!r} is not a value of knob {self.name!r} {list(self.values)}")

    def encoded_width(self) -> int:
        return self.size if self.kind == "categorical" else 1


@dataclass(frozen=True)
class Space:
    """A product of knobs, optionally restricted by constraints (predicates that must hold)."""

    knobs: tuple[Knob, ...]
    constraints: tuple[Constraint, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        names = [k.name for k in self.knobs]
        if not names:
            raise SpaceError("a space needs at least one knob")
        if len(set(names)) != len(names):
            raise SpaceError(f"repeated knob names: {names}")

    # -- shape -----------------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.knobs)

    @property
    def radices(self) -> tuple[int, ...]:
        return tuple(k.size for k in self.knobs)

    @property
    def size(self) -> int:
        """Number of index positions (before constraints)."""
        return int(np.prod([k.size for k in self.knobs], dtype=np.int64))

    def knob(self, name: str) -> Knob:
        for k in self.knobs:
            if k.name == name:
                return k
        raise SpaceError(f"unknown knob {name!r}; the space has {list(self.names)}")

    # -- index <-> configuration ------------------------------------------------------------
    def codes(self, indices: NDArray[np.int64]) -> NDArray[np.int64]:
        """Per-knob value positions for each index, shape (len(indices), n_knobs)."""
        idx = np.asarray(indices, dtype=np.int64)
        out = np.empty((idx.size, len(self.knobs)), dtype=np.int64)
        rest = idx.copy()
        for j in range(len(self.knobs) - 1, -1, -1):
            r = self.knobs[j].size
            out[:, j] = rest % r
            rest //= r
        return out

    def index_of(self, config: Mapping[str, Value]) -> int:
        self.validate(config)
        i = 0
        for k in self.knobs:
            i = i * k.size + k.position(config[k.name])
        return i

    def config_at(self, index: int) -> Config:
        if not 0 <= index < self.size:
            raise SpaceError(f"index {index} outside the space (size {self.size})")
        codes = self.codes(np.array([index]))[0]
        return {k.name: k.values[c] for k, c in zip(self.knobs, codes, strict=True)}

    def validate(self, config: Mapping[str, Value]) -> None:
        missing = [n for n in self.names if n not in config]
        extra = [n for n in config if n not in self.names]
        if missing or extra:
            raise SpaceError(f"configuration {dict(config)} misses {missing} / has unknown {extra}")
        for k in self.knobs:
            k.position(config[k.name])

    def key(self, config: Mapping[str, Value]) -> tuple[Value, ...]:
        """A hashable key in knob order with canonical values."""
        return tuple(k.values[k.position(config[k.name])] for k in self.knobs)

    # -- constraints ---------------------------------------------------------------------------
    def feasible(self, config: Mapping[str, Value]) -> bool:
        return all(c(config) for c in self.constraints)

    def feasible_mask(self, indices: NDArray[np.int64]) -> NDArray[np.bool_]:
        if not self.constraints:
            return np.ones(len(indices), dtype=bool)
        return np.array([self.feasible(self.config_at(int(i))) for i in indices], dtype=bool)

    # -- enumeration ---------------------------------------------------------------------------
    def iter_chunks(self, chunk: int = 16384) -> Iterator[NDArray[np.int64]]:
        """Yield arrays of feasible indices, ``chunk`` positions at a time (lazy)."""
        for start in range(0, self.size, chunk):
            idx = np.arange(start, min(start + chunk, self.size), dtype=np.int64)
            yield idx[self.feasible_mask(idx)]

    def all_indices(self) -> NDArray[np.int64]:
        parts = list(self.iter_chunks())
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)

    def configs(self) -> Iterator[Config]:
        for values in itertools.product(*(k.values for k in self.knobs)):
            cfg = dict(zip(self.names, values, strict=True))
            if self.feasible(cfg):
                yield cfg

    # -- encoding ------------------------------------------------------------------------------
    @property
    def encoded_width(self) -> int:
        return sum(k.encoded_width() for k in self.knobs)

    def encode(self, indices: NDArray[np.int64]) -> NDArray[np.float64]:
        """Model features in [0, 1]: one-hot for categoricals, min-max scaled position for ordinals.

        Ordinal knobs are scaled by *position* (rank), so a geometric ladder such as batch sizes
        4, 8, …, 128 is evenly spaced. The encoding depends only on the space, never on data.
        """
        codes = self.codes(indices)
        cols: list[NDArray[np.float64]] = []
        for j, k in enumerate(self.knobs):
            if k.kind == "categorical":
                cols.append(np.eye(k.size)[codes[:, j]])
            else:
                cols.append((codes[:, j] / max(k.size - 1, 1)).astype(float)[:, None])
        return np.hstack(cols)

    def values_of(self, indices: NDArray[np.int64], name: str) -> NDArray[np.object_]:
        """The value of knob ``name`` for every index (object array)."""
        j = self.names.index(name)
        knob = self.knobs[j]
        return np.array(knob.values, dtype=object)[self.codes(indices)[:, j]]

    def describe(self) -> dict[str, object]:
        return {
            "knobs": [
                {"name": k.name, "kind": k.kind, "values": list(k.values)} for k in self.knobs
            ],
            "size": self.size,
        }

    @staticmethod
    def from_description(desc: Mapping[str, object]) -> Space:
        knobs = desc.get("knobs")
        if not isinstance(knobs, list):
            raise SpaceError("space description needs a 'knobs' list")
        return Space(
            tuple(Knob(str(k["name"]), tuple(k["values"]), k.get("kind", "ordinal")) for k in knobs)
        )


def space_from_columns(columns: Mapping[str, Sequence[Value]]) -> Space:
    """Build a space from table columns: numeric columns become ordinal knobs, others categorical.

    Categorical values keep their first-seen order (stable across tables in the same layout).
    """
    knobs = []
    for name, column in columns.items():
        uniq = list(dict.fromkeys(column))
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in uniq):
            knobs.append(Knob(name, tuple(sorted(uniq)), "ordinal"))  # type: ignore[type-var]
        else:
            knobs.append(Knob(name, tuple(str(v) for v in uniq), "categorical"))
    return Space(tuple(knobs))
