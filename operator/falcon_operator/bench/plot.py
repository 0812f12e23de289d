"""``accuracy.png``: mean accuracy vs trials per method, with its 95 % bootstrap band.

The band at each trial count is the interval of bench/stats.py (two-level bootstrap over targets
and seeds), the same one results.md prints at the checkpoints. The plot uses the Agg canvas
directly (no pyplot, no global backend switch).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from falcon_operator.bench.runs import LEVEL_HIGH, RunResult, check_k
from falcon_operator.bench.stats import bootstrap_mean
from falcon_operator.bench.summary import by_target
from falcon_operator.core.errors import DataError

Curve = tuple[np.ndarray, np.ndarray, np.ndarray]


def _curve(runs: Sequence[RunResult], horizon: int) -> Curve:
    intervals = [bootstrap_mean(by_target(runs, k)) for k in range(1, horizon + 1)]
    return (
        np.array([i.mean for i in intervals]),
        np.array([i.low for i in intervals]),
        np.array([i.high for i in intervals]),
    )


def plot_accuracy(
    runs: Sequence[RunResult],
    path: str | Path,
    *,
    max_trials: int | None = None,
    title: str = "Accuracy vs number of trials",
) -> Path:
    """Save a PNG (120 dpi): per method, mean accuracy vs trials with its 95 % interval band."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if not runs:
        raise DataError("no runs to plot")
    horizon = max(1, *(r.n_trials for r in runs)) if max_trials is None else check_k(max_trials)
    ks = np.arange(1, horizon + 1)
    by_method: dict[str, list[RunResult]] = {}
    for run in runs:
        by_method.setdefault(run.method, []).append(run)
    curves = {method: _curve(group, horizon) for method, group in by_method.items()}
    # Legend order follows the final mean accuracy, best first.
    order = sorted(curves, key=lambda m: (-float(curves[m][0][-1]), m))

    fig = Figure(figsize=(8.0, 5.0))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for method in order:
        mean, lo, hi = curves[method]
        width = 2.4 if method == "falcon" else 1.6
        marker = "o" if horizon <= 40 else ""
        (line,) = ax.plot(ks, mean, label=method, linewidth=width, marker=marker, markersize=3)
        ax.fill_between(ks, lo, hi, color=line.get_color(), alpha=0.15, linewidth=0)
    ax.axhline(LEVEL_HIGH, color="0.5", linestyle=":", linewidth=1.0)
    lowest = min(float(c[1].min()) for c in curves.values())
    highest = max(float(c[2].max()) for c in curves.values())
    ax.set_ylim(bottom=lowest - 0.02, top=max(1.001, highest + 0.005))
    ax.set_xlim(0.5, horizon + 0.5)
    ax.set_xlabel("number of trials")
    ax.set_ylabel("accuracy (best found / table best)")
    ax.set_title(f"{title} (bands: 95% bootstrap interval of the mean)")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120, format="png")
    return out
