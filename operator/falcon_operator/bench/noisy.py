"""A table oracle with measurement noise, and what a user would deploy after a noisy search.

Tables hold the expected (noise-free) objective. :class:`NoisyTableOracle` answers a trial with
the table's value times log-normal noise ``exp(N(0, sigma))``, drawn in trial order from a
stream seeded by the run's stream seed (bench/streams.py) with its own spawn key, so the noise
is independent per (method, target, seed) and a run is reproducible. A missing cell is
infeasible, as with :class:`~falcon_operator.backends.table.TableOracle`.

:func:`deployed_best` reads a noisy run the way a user would: after ``k`` trials the
configuration with the best *measured* objective so far is deployed, and what it is worth is
its *true* value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from falcon_operator.backends.table import TableOracle
from falcon_operator.bench.streams import name_key
from falcon_operator.core.records import TrialRecord
from falcon_operator.core.space import Value
from falcon_operator.knowledge.tables import Table


class NoisyTableOracle:
    """Answers from ``table`` with multiplicative log-normal noise of ``sigma``; keeps, per
    trial, the true value of the configuration it measured (NaN where it did not run)."""

    def __init__(self, table: Table, *, sigma: float, seed: int) -> None:
        if not sigma >= 0:
            raise ValueError(f"noise sigma must be >= 0, got {sigma!r}")
        self.table = table
        self.sigma = sigma
        self._exact = TableOracle(table)
        sequence = np.random.SeedSequence(entropy=seed, spawn_key=(name_key("noise"),))
        self._rng = np.random.default_rng(sequence)
        self.truth: list[float] = []

    def run(self, config: Mapping[str, Value]) -> TrialRecord:
        record = self._exact.run(config)
        noise = float(self._rng.lognormal(0.0, self.sigma)) if self.sigma > 0 else 1.0
        if record.objective is None:
            self.truth.append(math.nan)
            return record
        self.truth.append(float(record.objective))
        return TrialRecord(dict(config), record.outcome, float(record.objective) * noise)


def deployed_best(measured: Sequence[float | None], truth: Sequence[float]) -> list[float]:
    """After each trial, the true value of the best measured configuration so far (NaN while
    nothing has run)."""
    out: list[float] = []
    best_measured, best_true = -math.inf, math.nan
    for m, t in zip(measured, truth, strict=True):
        if m is not None and not math.isnan(m) and m > best_measured:
            best_measured, best_true = m, t
        out.append(best_true)
    return out
