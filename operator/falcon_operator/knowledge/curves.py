"""KOP resource curves (KOP-RCs): an operator's normalised throughput over a pair of knobs.

A :class:`Curve` holds the measured cells ``(knob1, knob2, value)`` of one curve table, answers
``value(v1, v2)`` by interpolating along the ordinal ``knob1`` within a ``knob2`` level, and is
classified into one of the paper's four typical shapes by :func:`classify_shape`. The loaders read
the two layouts of the Falcon data: ``operators/<pair>/<op>-<k1>-<k2>-time.csv`` and
``models/model-operator/<model>/NN-<op>/NN-<pair>-<shape>.csv``.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from falcon_operator.core.catalog import shipped_catalog
from falcon_operator.core.errors import DataError, KnowledgeError
from falcon_operator.core.knobs import BATCH, CPUS, GPU, GPU_MEMORY, POWER

KNOB_PAIRS: dict[str, tuple[str, str]] = {
    "batchsize-GPU": (BATCH, GPU),
    "GPU-POWER": (BATCH, GPU),
    "batchsize-power": (BATCH, GPU),
    "CPU-batchsize": (CPUS, BATCH),
    "CPU-GPU": (CPUS, GPU),
    "cores-instance__": (CPUS, GPU),
    "cpu-power": (CPUS, GPU),
    "network-RAM": (CPUS, GPU),
    "CPUcores-GPU": (CPUS, GPU),
    "CPUcores-power": (CPUS, POWER),
    "CPUcores-GPUmem": (CPUS, GPU_MEMORY),
}
#: the Falcon dataset's integer gputype -> GPU name, from the catalog's ``paper_code`` column
GPU_CODES: dict[int, str] = shipped_catalog().paper_codes()
_GPU_ORDER = {name: code for code, name in GPU_CODES.items()}
_LEVEL_TOL = 1e-6
_TIME_FILE = re.compile(r"^(?P<op>[^-]+)-(?:[^-]+-)*time\.csv$")
_MODEL_FILE = re.compile(r"^(?:\d+-)?(?P<pair>.+)-(?P<shape>slope|convex|concave|plane)\.csv$")

Level = str | float
Point = tuple[float, Level, float]


class Shape(StrEnum):
    """The typical KOP resource-curve shapes of the paper."""

    SLOPE = "slope"
    CONVEX = "convex"
    CONCAVE = "concave"
    PLANE = "plane"


def canonical_operator(name: str) -> str:
    """Operator name without TVM's ``nn.`` namespace (``nn.conv2d`` -> ``conv2d``)."""
    name = name.strip()
    return name[3:] if name.startswith("nn.") else name


def _as_level(v: object) -> Level:
    if isinstance(v, str):
        return v
    if isinstance(v, bool) or not isinstance(v, int | float | np.number):
        raise KnowledgeError(f"knob2 level {v!r} is neither a string nor a number")
    return float(v)


@dataclass(frozen=True)
class Curve:
    """A resource-curve table: ``points`` are ``(knob1, knob2, value)`` cells, values in [0, 1]."""

    operator: str
    pair: str
    knob1: str
    knob2: str
    points: tuple[Point, ...]
    labelled_shape: Shape | None = None
    _levels: tuple[Level, ...] = field(init=False, repr=False, compare=False)
    _xs: tuple[NDArray[np.float64], ...] = field(init=False, repr=False, compare=False)
    _ys: tuple[NDArray[np.float64], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.points:
            raise KnowledgeError(f"curve {self.operator}/{self.pair} has no points")
        pts = tuple((float(a), _as_level(b), float(v)) for a, b, v in self.points)
        if not all(math.isfinite(a) and math.isfinite(v) for a, _, v in pts):
            raise KnowledgeError(f"curve {self.operator}/{self.pair} has non-finite cells")
        if len({isinstance(b, str) for _, b, _ in pts}) > 1:
            raise KnowledgeError(f"curve {self.operator}/{self.pair} mixes text and number levels")
        if len({(a, b) for a, b, _ in pts}) != len(pts):
            raise KnowledgeError(f"curve {self.operator}/{self.pair} repeats a (knob1, knob2) cell")
        levels = sorted({b for _, b, _ in pts}, key=lambda b: (_GPU_ORDER.get(str(b), 99), b))
        xs, ys = [], []
        for lv in levels:
            cells = sorted((a, v) for a, b, v in pts if b == lv)
            xs.append(np.array([a for a, _ in cells]))
            ys.append(np.array([v for _, v in cells]))
        object.__setattr__(self, "points", pts)
        object.__setattr__(
            self, "labelled_shape", Shape(self.labelled_shape) if self.labelled_shape else None
        )
        object.__setattr__(self, "_levels", tuple(levels))
        object.__setattr__(self, "_xs", tuple(xs))
        object.__setattr__(self, "_ys", tuple(ys))

    @property
    def knob1_levels(self) -> tuple[float, ...]:
        """Distinct knob1 values, increasing."""
        return tuple(sorted({a for a, _, _ in self.points}))

    @property
    def knob2_levels(self) -> tuple[Level, ...]:
        """Distinct knob2 values in natural order (numbers increasing; GPUs M60, K80, T4, V100)."""
        return self._levels

    def grid(self) -> tuple[tuple[int, int], ...]:
        """The cells as (knob1 rank, knob2 rank), sorted: the curve's grid, independent of knobs."""
        r1 = {a: i for i, a in enumerate(self.knob1_levels)}
        r2 = {b: j for j, b in enumerate(self._levels)}
        return tuple(sorted((r1[a], r2[b]) for a, b, _ in self.points))

    def cell_values(self) -> NDArray[np.float64]:
        """Values in :meth:`grid` order."""
        r1 = {a: i for i, a in enumerate(self.knob1_levels)}
        r2 = {b: j for j, b in enumerate(self._levels)}
        return np.array([v for _, _, v in sorted(self.points, key=lambda p: (r1[p[0]], r2[p[1]]))])

    def _level_index(self, v2: object) -> int:
        for i, lv in enumerate(self._levels):
            if isinstance(lv, str):
                if isinstance(v2, str) and v2 == lv:
                    return i
            elif not math.isnan(f := _to_float_or_nan(v2)) and abs(f - lv) <= _LEVEL_TOL:
                return i
        return -1

    def value(self, v1: float, v2: Level) -> float:
        """Interpolated value at ``(v1, v2)``; an unknown ``v2`` level averages all levels."""
        i = self._level_index(v2)
        if i >= 0:
            return float(np.interp(float(v1), self._xs[i], self._ys[i]))
        return float(
            np.mean([np.interp(float(v1), x, y) for x, y in zip(self._xs, self._ys, strict=True)])
        )

    def values(self, v1: ArrayLike, v2: ArrayLike) -> NDArray[np.float64]:
        """Vectorised :meth:`value` over equal-shaped arrays of knob1 and knob2 values."""
        x = np.asarray(v1, dtype=np.float64)
        lv = np.asarray(v2)
        if x.shape != lv.shape:
            raise KnowledgeError(f"values(): shapes differ {x.shape} vs {lv.shape}")
        x, lv = x.ravel(), lv.ravel()
        which = np.full(x.size, -1, dtype=np.intp)
        if isinstance(self._levels[0], str):
            text = lv.astype(str) if lv.dtype.kind in "OUS" else np.full(x.size, "")
            for i, level in enumerate(self._levels):
                which[text == level] = i
        else:
            if lv.dtype.kind in "iuf":
                num = lv.astype(np.float64)
            else:
                num = np.array([_to_float_or_nan(v) for v in lv], dtype=np.float64)
            for i, level in enumerate(self._levels):
                which[np.abs(num - float(level)) <= _LEVEL_TOL] = i
        out = np.empty(x.size, dtype=np.float64)
        for i in range(len(self._levels)):
            m = which == i
            out[m] = np.interp(x[m], self._xs[i], self._ys[i])
        unknown = which < 0
        if unknown.any():
            xu = x[unknown]
            out[unknown] = np.mean(
                [np.interp(xu, a, b) for a, b in zip(self._xs, self._ys, strict=True)], axis=0
            )
        return out.reshape(np.shape(v1))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (see :meth:`from_dict`)."""
        return {
            "operator": self.operator,
            "pair": self.pair,
            "knob1": self.knob1,
            "knob2": self.knob2,
            "points": [list(p) for p in self.points],
            "labelled_shape": self.labelled_shape.value if self.labelled_shape else None,
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> Curve:
        """Inverse of :meth:`to_dict`; :class:`KnowledgeError` on a malformed mapping."""
        try:
            shape = data.get("labelled_shape")
            return Curve(
                operator=str(data["operator"]),
                pair=str(data["pair"]),
                knob1=str(data["knob1"]),
                knob2=str(data["knob2"]),
                points=tuple((float(a), _as_level(b), float(v)) for a, b, v in data["points"]),
                labelled_shape=Shape(shape) if shape else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise KnowledgeError(f"malformed curve: {exc!r}") from exc


def _to_float_or_nan(v: object) -> float:
    if isinstance(v, int | float | np.number) and not isinstance(v, bool | str):
        return float(v)
    return math.nan


def shape_statistics(curve: Curve) -> tuple[float, float]:
    """``(A, c)``: mean fitted amplitude and mean quadratic coefficient (see classify_shape)."""
    ranks = {a: i for i, a in enumerate(curve.knob1_levels)}
    scale = max(len(ranks) - 1, 1)
    amplitudes, curvatures = [], []
    for xs, ys in zip(curve._xs, curve._ys, strict=True):
        x = np.array([ranks[float(a)] / scale for a in xs])
        if len(np.unique(x)) >= 3:
            c, b, a0 = np.polyfit(x, ys, 2)
        elif len(np.unique(x)) == 2:
            c, (b, a0) = 0.0, np.polyfit(x, ys, 1)
        else:
            c, b, a0 = 0.0, 0.0, float(ys.mean())
        grid = [0.0, 1.0] + ([-b / (2 * c)] if c != 0 and 0 < -b / (2 * c) < 1 else [])
        fitted = [c * t * t + b * t + a0 for t in grid]
        amplitudes.append(max(fitted) - min(fitted))
        curvatures.append(float(c))
    return float(np.mean(amplitudes)), float(np.mean(curvatures))


def classify_shape(curve: Curve, *, plane_tol: float = 0.1, curvature_tol: float = 0.25) -> Shape:
    """Classify a curve as plane, slope, convex or concave.

    Method: knob1 positions are rank-scaled to [0, 1] (ranks, not raw values, so a geometric
    ladder like 4..128 is evenly spaced). Per knob2 level with >= 3 distinct knob1 positions a
    quadratic ``c x^2 + b x + a`` is fitted by least squares (fewer: a line, c = 0). Its amplitude
    is max - min of the fit on [0, 1]. ``A`` = mean amplitude over levels, ``c`` = mean quadratic
    coefficient. ``A < plane_tol`` -> plane; else ``|c| / A < curvature_tol`` -> slope; else
    ``c > 0`` -> convex (curving upward), ``c < 0`` -> concave.
    """
    amplitude, curvature = shape_statistics(curve)
    if amplitude < plane_tol:
        return Shape.PLANE
    if abs(curvature) / amplitude < curvature_tol:
        return Shape.SLOPE
    return Shape.CONVEX if curvature > 0 else Shape.CONCAVE


def _number_or_label(cell: str) -> float | str:
    """A knob2 cell: a number, or a text level such as a GPU label (``A100/3g.20gb``)."""
    try:
        return float(cell)
    except ValueError:
        return cell.strip()


def _read_rows(path: Path) -> list[tuple[float, float | str, float]]:
    if not path.is_file():
        raise DataError(f"{path}: no such curve file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read curve file ({exc})") from exc
    rows = []
    for n, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) < 3:
            raise DataError(f"{path}:{n}: need at least 3 columns (knob1, knob2, value)")
        try:
            a, v = float(row[0]), float(row[2])
        except ValueError as exc:
            raise DataError(f"{path}:{n}: non-numeric cell in {row[:3]}") from exc
        b = _number_or_label(row[1])
        if b == "":
            raise DataError(f"{path}:{n}: empty knob2 cell")
        if not all(math.isfinite(t) for t in (a, v, 0.0 if isinstance(b, str) else b)):
            raise DataError(f"{path}:{n}: non-finite cell in {row[:3]}")
        rows.append((a, b, v))
    if not rows:
        raise DataError(f"{path}: empty curve file")
    return rows


def load_curve_file(
    path: Path | str, *, operator: str | None = None, pair: str | None = None
) -> Curve:
    """Read one no-header curve CSV; operator, pair and labelled shape default from the names."""
    p = Path(path)
    shape: Shape | None = None
    if m := _MODEL_FILE.match(p.name):
        derived_op, derived_pair = re.sub(r"^\d+-", "", p.parent.name), m["pair"]
        shape = Shape(m["shape"])
    elif m := _TIME_FILE.match(p.name):
        derived_op, derived_pair = m["op"], p.parent.name
    else:
        derived_op = derived_pair = ""
    op, pr = canonical_operator(operator or derived_op), pair or derived_pair
    if not op or pr not in KNOB_PAIRS:
        raise DataError(f"{p}: cannot tell the operator / known knob pair (got {op!r}, {pr!r})")
    knob1, knob2 = KNOB_PAIRS[pr]
    points: list[Point] = []
    for a, b, v in _read_rows(p):
        if isinstance(b, str):
            if knob2 != GPU:
                raise DataError(f"{p}: {knob2} level {b!r} is not a number")
            points.append((a, b, v))
        elif knob2 == GPU:
            if not b.is_integer() or int(b) not in GPU_CODES:
                raise DataError(f"{p}: unknown GPU code {b!r} (known: {sorted(GPU_CODES)})")
            points.append((a, GPU_CODES[int(b)], v))
        else:
            points.append((a, b, v))
    try:
        return Curve(op, pr, knob1, knob2, tuple(points), labelled_shape=shape)
    except KnowledgeError as exc:
        raise DataError(f"{p}: {exc}") from exc


def load_operator_curves(root: Path | str) -> list[Curve]:
    """All curves of an ``operators/`` folder: ``<pair>/<op>-...-time.csv`` for known pairs."""
    base = Path(root)
    if not base.is_dir():
        raise DataError(f"{base}: no such operators folder")
    return [
        load_curve_file(f)
        for d in sorted(base.iterdir())
        if d.is_dir() and d.name in KNOB_PAIRS
        for f in sorted(d.glob("*.csv"))
        if _TIME_FILE.match(f.name)
    ]


def load_model_operator_curves(model_dir: Path | str) -> list[Curve]:
    """All curves of one ``models/model-operator/<model>/`` folder (``[NN-]<op>/`` sub-folders)."""
    base = Path(model_dir)
    if not base.is_dir():
        raise DataError(f"{base}: no such model-operator folder")
    return [
        load_curve_file(f)
        for d in sorted(base.iterdir())
        if d.is_dir()
        for f in sorted(d.glob("*.csv"))
        if (m := _MODEL_FILE.match(f.name)) and m["pair"] in KNOB_PAIRS
    ]
