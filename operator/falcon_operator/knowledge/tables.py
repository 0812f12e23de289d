"""Model tables in the Falcon layout: one row per configuration, knobs first, objective last.

A table is read into a :class:`Table` whose objective array is aligned with its space's index
order (so tables with rows in any order compare cell by cell). ``find_tables`` discovers the
``models/sources`` and ``models/targets`` folders of a dataset directory.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from falcon_operator.core.errors import DataError, SpaceError
from falcon_operator.core.space import Space, Value, space_from_columns


@dataclass(frozen=True)
class Table:
    """A model's objective over a space: ``values[i]`` is the objective at index ``i`` or NaN."""

    name: str
    space: Space
    values: NDArray[np.float64]
    objective_name: str = "objective"

    @property
    def best(self) -> float:
        return float(np.nanmax(self.values))

    def aligned_to(self, space: Space) -> NDArray[np.float64]:
        """This table's values re-indexed into ``space`` (same knob names; missing cells NaN)."""
        if space.names != self.space.names:
            raise DataError(f"table {self.name!r} has knobs {self.space.names}, not {space.names}")
        if space == self.space:
            return self.values
        out = np.full(space.size, np.nan)
        for i in np.flatnonzero(~np.isnan(self.values)):
            try:
                out[space.index_of(self.space.config_at(int(i)))] = self.values[i]
            except SpaceError:
                continue
        return out


def _parse(cell: str) -> Value:
    text = cell.strip()
    try:
        number = float(text)
    except ValueError:
        return text
    if not math.isfinite(number):
        raise ValueError(f"non-finite value {text!r}")
    return (
        int(number)
        if number.is_integer() and "." not in text and "e" not in text.lower()
        else number
    )


def read_table(path: Path | str, *, name: str | None = None, space: Space | None = None) -> Table:
    """Read a Falcon-layout CSV. Every column but the last is a knob; the last is the objective."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: no such table file")
    try:
        with p.open(newline="") as fh:
            rows = [
                (n, r)
                for n, r in enumerate(csv.reader(fh), start=1)
                if r and any(c.strip() for c in r)
            ]
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{p}: cannot read table: {exc}") from exc
    if len(rows) < 2:
        raise DataError(f"{p}: a table needs a header and at least one row")
    header = [h.strip() for h in rows[0][1]]
    if len(header) < 2:
        raise DataError(f"{p}: a table needs at least one knob column and an objective column")
    knob_cols: dict[str, list[Value]] = {h: [] for h in header[:-1]}
    objective: list[float] = []
    line_nos: list[int] = []
    for line_no, row in rows[1:]:
        if len(row) != len(header):
            raise DataError(f"{p}:{line_no}: expected {len(header)} cells, found {len(row)}")
        try:
            parsed = [_parse(c) for c in row]
        except ValueError as exc:
            raise DataError(f"{p}:{line_no}: {exc}") from exc
        if not isinstance(parsed[-1], int | float):
            raise DataError(f"{p}:{line_no}: objective {row[-1]!r} is not a number")
        for h, v in zip(header[:-1], parsed[:-1], strict=True):
            knob_cols[h].append(v)
        objective.append(float(parsed[-1]))
        line_nos.append(line_no)
    sp = space if space is not None else space_from_columns(knob_cols)
    values = np.full(sp.size, np.nan)
    for r in range(len(objective)):
        cfg = {h: knob_cols[h][r] for h in knob_cols}
        try:
            idx = sp.index_of(cfg)
        except SpaceError as exc:
            raise DataError(f"{p}:{line_nos[r]}: {exc}") from exc
        if not np.isnan(values[idx]):
            raise DataError(f"{p}:{line_nos[r]}: configuration {cfg} appears twice")
        values[idx] = objective[r]
    return Table(name or table_name(p), sp, values, header[-1])


def table_name(path: Path) -> str:
    """``reg-bert-base.csv`` -> ``bert-base``."""
    stem = path.stem
    return stem[4:] if stem.startswith("reg-") else stem


def read_tables(paths: Sequence[Path], *, space: Space | None = None) -> list[Table]:
    """Read several tables into one shared space (the first table's, unless given)."""
    if not paths:
        return []
    first = read_table(paths[0], space=space)
    sp = space or first.space
    return [first, *(read_table(p, space=sp) for p in paths[1:])]


def find_tables(data_dir: Path | str, kind: str) -> list[Path]:
    """Tables of ``kind`` ('sources' or 'targets') under ``DATA/models/KIND/*.csv``, sorted."""
    folder = Path(data_dir) / "models" / kind
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder (expected the Falcon layout models/{kind}/)")
    found = sorted(folder.glob("*.csv"))
    if not found:
        raise DataError(f"{folder}: no .csv tables")
    return found
