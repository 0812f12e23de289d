"""One benchmark run (:class:`RunResult`) and what is read off it: accuracy after k trials.

A run of one method on one target table for one seed is a :class:`RunResult`. Its *accuracy after
k trials* is the best objective found in the first ``k`` trials divided by the best objective in
the whole table (``best_so_far[k-1] / table_best``). While nothing has succeeded yet the
best-so-far is NaN, which counts as accuracy 0; a run shorter than ``k`` trials keeps its last
value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from falcon_operator.core.errors import DataError

LEVEL_LOW = 0.9
LEVEL_HIGH = 0.95
#: Slack for ``accuracy >= level`` so that e.g. 0.57 / 0.6 counts as reaching 0.95.
EPS = 1e-9


@dataclass(frozen=True)
class RunResult:
    """One method on one target table for one seed.

    ``best_so_far[k]`` is the best objective after ``k + 1`` trials (NaN while no trial has
    succeeded); ``table_best`` is the best objective in the whole table (must be finite and > 0).
    ``stream_seed`` is the seed the strategy was built with (bench/streams.py), if known.
    """

    method: str
    target: str
    seed: int
    best_so_far: tuple[float, ...]
    table_best: float
    infeasible_trials: int = 0
    stream_seed: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.method, str) or not self.method:
            raise DataError(f"method must be a non-empty string, got {self.method!r}")
        if not isinstance(self.target, str) or not self.target:
            raise DataError(f"target must be a non-empty string, got {self.target!r}")
        try:
            values = tuple(float(v) for v in self.best_so_far)
        except (TypeError, ValueError) as exc:
            raise DataError(f"best_so_far must be a sequence of numbers: {exc}") from exc
        object.__setattr__(self, "best_so_far", values)
        if not math.isfinite(self.table_best) or self.table_best <= 0:
            raise DataError(f"table_best must be finite and > 0, got {self.table_best!r}")
        if self.infeasible_trials < 0:
            raise DataError(f"infeasible_trials must be >= 0, got {self.infeasible_trials}")

    @property
    def n_trials(self) -> int:
        return len(self.best_so_far)


def check_k(k: int) -> int:
    """``k`` if it is a trial count (an integer >= 1); else ValueError."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"a trial count must be an integer >= 1, got {k!r}")
    return k


def normalise_checkpoints(checkpoints: Sequence[int]) -> tuple[int, ...]:
    """Distinct checkpoints in increasing order (at least one)."""
    cps = tuple(sorted({check_k(k) for k in checkpoints}))
    if not cps:
        raise ValueError("at least one checkpoint is needed")
    return cps


def accuracy_at(run: RunResult, k: int) -> float:
    """Accuracy after ``k`` trials: ``best_so_far[k-1] / table_best``; NaN or no trials → 0."""
    check_k(k)
    if not run.best_so_far:
        return 0.0
    value = run.best_so_far[min(k, run.n_trials) - 1]
    if math.isnan(value):
        return 0.0
    return value / run.table_best


def trials_to(run: RunResult, level: float = LEVEL_HIGH) -> int | None:
    """The first ``k`` (1-based) with ``accuracy_at(run, k) >= level``, or ``None`` if never."""
    for k in range(1, run.n_trials + 1):
        if accuracy_at(run, k) >= level - EPS:
            return k
    return None
