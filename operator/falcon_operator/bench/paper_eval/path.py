"""Evaluation 4: the search path of one unseen model through the space, good regions marked.

The space is drawn as a grid of two knobs (batch size × GPU type); a cell's value is the best
normalised objective of the target's table over the other knobs (its best configuration with
that batch size on that GPU), empty where nothing runs. A cell is *good* at ≥ 0.9 of the table's
best. The trials are numbered in the order they were run, at their (batch, GPU) cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from falcon_operator.core.space import Config, Value
from falcon_operator.knowledge.tables import Table

GOOD = 0.9


@dataclass(frozen=True)
class PathGrid:
    """A table folded onto two knobs, and the trials' cells in order."""

    rows: tuple[Value, ...]  #: values of the row knob (GPU type)
    cols: tuple[Value, ...]  #: values of the column knob (batch size)
    value: np.ndarray  #: (rows, cols): best normalised objective of the cell; NaN: nothing runs
    trials: tuple[tuple[int, int], ...]  #: (row, col) of each trial, in order
    row_knob: str
    col_knob: str

    @property
    def good(self) -> np.ndarray:
        good: np.ndarray = np.nan_to_num(self.value, nan=0.0) >= GOOD
        return good


def path_grid(
    table: Table,
    configs: Sequence[Config],
    *,
    row_knob: str = "gputype",
    col_knob: str = "batchsize",
) -> PathGrid:
    """Fold ``table`` onto (``row_knob``, ``col_knob``) and place ``configs`` on it."""
    space = table.space
    rows, cols = space.knob(row_knob).values, space.knob(col_knob).values
    values = table.values / table.best
    idx = space.all_indices()
    r = np.array([rows.index(v) for v in space.values_of(idx, row_knob)])
    c = np.array([cols.index(v) for v in space.values_of(idx, col_knob)])
    grid = np.full((len(rows), len(cols)), np.nan)
    for i in np.flatnonzero(~np.isnan(values)):
        if np.isnan(grid[r[i], c[i]]) or values[i] > grid[r[i], c[i]]:
            grid[r[i], c[i]] = values[i]
    trials = tuple((rows.index(cfg[row_knob]), cols.index(cfg[col_knob])) for cfg in configs)
    return PathGrid(tuple(rows), tuple(cols), grid, trials, row_knob, col_knob)


def plot_path(grid: PathGrid, path: str | Path, *, title: str) -> Path:
    """Save the grid as a PNG: cell colours, good cells outlined, trials numbered in order."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    fig = Figure(figsize=(2.5 + 1.2 * len(grid.cols), 1.5 + 0.9 * len(grid.rows)))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    shown = np.ma.masked_invalid(grid.value)
    image = ax.imshow(shown, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto", origin="lower")
    fig.colorbar(image, ax=ax, label="best objective in the cell / table best")
    for r, c in zip(*np.nonzero(grid.good), strict=True):
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, edgecolor="red", lw=2.0))
    seen: dict[tuple[int, int], int] = {}
    xs, ys = [], []
    for n, (r, c) in enumerate(grid.trials, 1):
        k = seen.get((r, c), 0)
        seen[(r, c)] = k + 1
        x, y = c - 0.33 + 0.22 * (k % 4), r + 0.3 - 0.3 * (k // 4 % 3)
        xs.append(x)
        ys.append(y)
        ax.text(x, y, str(n), ha="center", va="center", fontsize=7, color="white",
                bbox={"boxstyle": "circle,pad=0.15", "fc": "black", "alpha": 0.75})  # fmt: skip
    ax.plot(xs, ys, color="white", lw=0.6, alpha=0.6)
    ax.set_xticks(range(len(grid.cols)), [str(v) for v in grid.cols])
    ax.set_yticks(range(len(grid.rows)), [str(v) for v in grid.rows])
    ax.set_xlabel(grid.col_knob)
    ax.set_ylabel(grid.row_knob)
    ax.set_title(f"{title}\n(red: good cells, ≥ {GOOD:.0%} of the best; numbers: trial order)")
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110, format="png")
    return out
