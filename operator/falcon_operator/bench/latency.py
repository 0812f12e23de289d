"""Suggestion latency: time Falcon's ``suggest`` on the paper's space and on a synthetic space of
more than 100,000 candidates (where the prior comes from the KOP curves, not from tables).

Histories are realistic when asked: ``infeasible`` of the trials (e.g. 0.3) did not run (out of
memory), and each ask may want ``n`` configurations at once (``maxParallelTrials``), as the
operator's asks do.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from falcon_operator.bench.report import latency_stats
from falcon_operator.core.catalog import shipped_catalog
from falcon_operator.core.knobs import BATCH, CPUS, GPU, GPU_MEMORY, POWER, build_space
from falcon_operator.core.records import FailureKind, Outcome, TrialRecord
from falcon_operator.core.space import Space
from falcon_operator.knowledge.base import Knowledge
from falcon_operator.search.driver import Budget, Driver
from falcon_operator.search.falcon import FalconStrategy


def large_space() -> Space:
    """The shipped catalog's GPU types (8 today) × 9 batch sizes × 32 core counts × 8 memory
    limits × 6 power caps = 110,592."""
    return build_space(
        {
            BATCH: (1, 2, 4, 8, 16, 32, 64, 128, 256),
            CPUS: tuple(range(1, 33)),
            GPU_MEMORY: (0.8, 1.2, 1.6, 2.4, 4.0, 8.0, 16.0, 40.0),
            POWER: (50, 60, 70, 80, 90, 100),
            GPU: tuple(shipped_catalog().gpus),
        }
    )


def time_suggestions(
    space: Space,
    knowledge: Knowledge,
    *,
    profile: Mapping[str, float],
    history_sizes: range = range(0, 12),
    seed: int = 0,
    infeasible: float = 0.0,
    n: int = 1,
) -> dict[str, float]:
    """Latency of one ask for ``n`` configurations (the driver's, as a search makes it) after
    each of ``history_sizes`` trials of a synthetic objective, ``infeasible`` of them failed."""
    strategy = FalconStrategy(space, knowledge, profile=profile, seed=seed)
    samples: list[float] = []
    driver = Driver(strategy, Budget(space.size), observe=samples.append)
    rng = np.random.default_rng(seed)
    history: list[TrialRecord] = []
    for size in history_sizes:
        if size >= space.size:  # a small space cannot hold that many distinct trials
            break
        while len(history) < size:
            cfg = space.config_at(int(rng.integers(space.size)))
            if any(h.config == cfg for h in history):
                continue
            value = float(strategy.prior.mean(np.array([space.index_of(cfg)]))[0])
            if rng.random() < infeasible:
                history.append(TrialRecord.failed(cfg, FailureKind.OOM, "out of memory"))
            else:
                history.append(TrialRecord(cfg, Outcome.OK, value * float(rng.lognormal(0, 0.1))))
        driver.suggest(history, n)
    return latency_stats(samples)
