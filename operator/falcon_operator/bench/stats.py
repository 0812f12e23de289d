"""The benchmark's statistics: bootstrap intervals, paired win/tie/loss, median trials to a level.

**Bootstrap interval of a mean** (:func:`bootstrap_mean`). The values come in groups, one group
per target (its runs over the seeds). One resample draws as many groups as there are, with
replacement, and then, inside each drawn group, as many values as it has, with replacement (a
two-level, "cluster" bootstrap); its statistic is the mean of all values drawn. The interval is
the 2.5 and 97.5 percentiles of :data:`RESAMPLES` (2,000) such means, from a generator seeded
with :data:`SEED` (0), so the same data always give the same interval. Resampling the targets,
not only the seeds, makes the interval say how the mean would move on *other* targets like these;
with one group it is the ordinary percentile bootstrap over the seeds. A deterministic method on
few targets gets a wide interval: its "seeds" are not independent draws.

**Paired comparison** (:func:`win_tie_loss`). For one method against a reference (Falcon) at one
checkpoint, the differences ``reference - method`` of the accuracies on the same (target, seed)
are counted as wins (> :data:`TIE`), ties (within :data:`TIE`) and losses of the reference; their
mean gets the same two-level bootstrap interval. An interval entirely above 0 is a significant
gain of the reference, entirely below 0 a significant loss.

**Median trials to a level** (:func:`median_trials`). Runs that never reach the level within
their trials are *not* dropped (that would flatter a method that often fails): they count as
"more than the run's trials". The median is the smallest ``k`` such that at least half of all
runs reached the level within ``k`` trials; when fewer than half ever do, it is ``None`` ("not
reached"), reported beside the fraction that did.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

RESAMPLES = 2000
SEED = 0
LEVEL = 0.95
#: accuracies closer than this are a tie
TIE = 1e-9


@dataclass(frozen=True)
class Interval:
    """A mean and its bootstrap interval ``[low, high]`` at ``level``."""

    mean: float
    low: float
    high: float


def bootstrap_mean(
    groups: Sequence[Sequence[float]],
    *,
    resamples: int = RESAMPLES,
    level: float = LEVEL,
    seed: int = SEED,
) -> Interval:
    """The mean of all values and its two-level bootstrap interval (see the module docstring)."""
    arrays = [np.asarray(g, dtype=float) for g in groups if len(g)]
    if not arrays:
        raise ValueError("no values to bootstrap")
    if resamples < 1 or not 0 < level < 1:
        raise ValueError(f"need resamples >= 1 and 0 < level < 1, got {resamples}, {level}")
    mean = float(np.concatenate(arrays).mean())
    rng = np.random.default_rng(seed)
    n_groups = len(arrays)
    sizes = np.array([a.size for a in arrays])
    width = int(sizes.max())
    padded = np.zeros((n_groups, width))
    for i, a in enumerate(arrays):
        padded[i, : a.size] = a
    picked = rng.integers(n_groups, size=(resamples, n_groups))  # which groups
    n_in = sizes[picked]  # (R, G): how many values each drawn group contributes
    pos = np.floor(rng.random((resamples, n_groups, width)) * n_in[..., None]).astype(np.int64)
    values = padded[picked[..., None], pos]
    used = np.arange(width)[None, None, :] < n_in[..., None]
    means = (values * used).sum(axis=(1, 2)) / n_in.sum(axis=1)
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(means, [tail, 100.0 - tail])
    return Interval(mean, float(low), float(high))


@dataclass(frozen=True)
class WinTieLoss:
    """The reference's wins, ties and losses over paired runs, and the mean difference."""

    wins: int
    ties: int
    losses: int
    diff: Interval  #: mean of reference - method, with its bootstrap interval


def win_tie_loss(
    groups: Sequence[Sequence[tuple[float, float]]],
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> WinTieLoss:
    """Count ``(reference, method)`` accuracy pairs grouped by target (see the module doc)."""
    diffs = [[ref - other for ref, other in group] for group in groups]
    flat = np.array([d for group in diffs for d in group], dtype=float)
    if flat.size == 0:
        raise ValueError("no paired runs")
    return WinTieLoss(
        wins=int((flat > TIE).sum()),
        ties=int((np.abs(flat) <= TIE).sum()),
        losses=int((flat < -TIE).sum()),
        diff=bootstrap_mean(diffs, resamples=resamples, seed=seed),
    )


@dataclass(frozen=True)
class TrialsTo:
    """How many trials the runs needed to reach a level."""

    median: int | None  #: None: fewer than half of the runs reached it
    reached: float  #: fraction of runs that reached it


def median_trials(trials: Sequence[int | None]) -> TrialsTo:
    """The censored median of ``trials`` (``None``: never reached; see the module docstring)."""
    if not trials:
        raise ValueError("no runs")
    done = sorted(t for t in trials if t is not None)
    need = (len(trials) + 1) // 2  # at least half of all runs
    median = done[need - 1] if len(done) >= need else None
    return TrialsTo(median=median, reached=len(done) / len(trials))
