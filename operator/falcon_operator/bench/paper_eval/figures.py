"""The PNG figures of ``make paper-eval`` (Agg canvas, no pyplot), one function per figure."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from falcon_operator.bench.paper_eval.accuracy import WorldAccuracy
from falcon_operator.bench.paper_eval.sweeps import Sweep

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot(1, 1, 1)


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    return path


def plot_world(world: WorldAccuracy, path: Path) -> Path:
    """Evaluation 1: mean accuracy at each checkpoint per method, 95 % interval as error bars."""
    fig, ax = _figure(1.5 + 0.7 * len(world.methods), 4.2)
    width = 0.8 / len(world.checkpoints)
    x = np.arange(len(world.methods))
    for j, k in enumerate(world.checkpoints):
        means = np.array([m.mean[k] for m in world.methods])
        lo = means - np.array([m.ci95[k][0] for m in world.methods])
        hi = np.array([m.ci95[k][1] for m in world.methods]) - means
        shift = (j - (len(world.checkpoints) - 1) / 2) * width
        ax.bar(x + shift, means, width, yerr=np.vstack([lo, hi]), capsize=2, label=f"{k} trials")
    ax.set_xticks(x, [m.method for m in world.methods], rotation=35, ha="right")
    ax.set_ylabel("accuracy (best found / optimum)")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"{world.world}: accuracy after 6/15/30 trials ({world.seeds} seeds)")
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)
    return _save(fig, path)


def plot_targets(world: WorldAccuracy, k: int, path: Path) -> Path:
    """Evaluation 3: a method × target heat map of the mean normalised objective after ``k``."""
    methods = [m.method for m in world.methods]
    targets = world.targets
    grid = np.array(
        [[world.per_target[m].get(t, {}).get(k, np.nan) for t in targets] for m in methods]
    )
    fig, ax = _figure(2.5 + 0.9 * len(targets), 1.2 + 0.38 * len(methods))
    image = ax.imshow(grid, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    fig.colorbar(image, ax=ax, label="best found / optimum")
    for i in range(len(methods)):
        for j in range(len(targets)):
            ax.text(j, i, f"{grid[i, j]:.2f}", ha="center", va="center", fontsize=7, color="w")
    ax.set_xticks(range(len(targets)), list(targets), rotation=35, ha="right")
    ax.set_yticks(range(len(methods)), methods)
    ax.set_title(f"{world.world}: normalised objective after {k} trials, per target")
    return _save(fig, path)


def plot_sweep(sweep: Sweep, path: Path, *, label: str) -> Path:
    """Evaluations 5 and 6: mean accuracy (95 % interval) against the swept value."""
    fig, ax = _figure(6.0, 4.0)
    for k in sweep.checkpoints:
        means = np.array([sweep.accuracy[v][k].mean for v in sweep.values])
        lo = means - np.array([sweep.accuracy[v][k].low for v in sweep.values])
        hi = np.array([sweep.accuracy[v][k].high for v in sweep.values]) - means
        ax.errorbar(sweep.values, means, yerr=np.vstack([lo, hi]), marker="o", capsize=3,
                    label=f"{k} trials")  # fmt: skip
    ax.set_xlabel(label)
    ax.set_ylabel("accuracy (best found / optimum)")
    ax.set_title(f"Falcon (tree on): accuracy vs {label}")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    return _save(fig, path)
