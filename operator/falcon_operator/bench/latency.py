"""Suggestion latency: time Falcon's ``suggest`` on the paper's space and on a synthetic space of
more than 100,000 candidates (where the prior comes from the KOP curves, not from tables).

Histories are realistic when asked: ``infeasible`` of the trials (e.g. 0.3) did not run (out of
memory), and each ask may want ``n`` configurations at once (``maxParallelTrials``), as the
operator's asks do. :func:`latency_suite` is what ``falcon bench`` records (issue 14's
acceptance): 0–30-trial histories, 30 % infeasible, on the benchmark's space at n = 1 and n = 4
and on :func:`large_space` at n = 1, the last one in a fresh process whose peak resident memory
(``ru_maxrss``) is recorded too.
"""

from __future__ import annotations

import multiprocessing
import resource
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor

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
    each of ``history_sizes`` trials of a synthetic objective, ``infeasible`` of them failed.

    Besides the wall-clock percentiles, ``cpu_p50_ms`` and ``cpu_p95_ms`` give the process's CPU
    time per ask: on a loaded machine the wall clock counts the time other processes ran."""
    strategy = FalconStrategy(space, knowledge, profile=profile, seed=seed)
    samples: list[float] = []
    cpu: list[float] = []
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
        started = time.process_time()
        driver.suggest(history, n)
        cpu.append(time.process_time() - started)
    cpu_stats = latency_stats(cpu)
    return {
        **latency_stats(samples),
        "cpu_p50_ms": cpu_stats["p50_ms"],
        "cpu_p95_ms": cpu_stats["p95_ms"],
    }


#: share of a history's trials that failed (out of memory), as on the fleet benchmark
INFEASIBLE = 0.3
#: history sizes timed: every size from an empty history to 30 trials
HISTORIES = range(0, 31)
#: configurations per ask in the batch case (``maxParallelTrials`` 4)
BATCH_PICKS = 4


def _case(
    space: Space, knowledge: Knowledge, profile: Mapping[str, float], n: int, histories: range
) -> dict[str, float]:
    stats = time_suggestions(
        space, knowledge, profile=profile, history_sizes=histories, infeasible=INFEASIBLE, n=n
    )
    return {
        **stats,
        "candidates": float(space.size),
        "picks": float(n),
        "infeasible_share": INFEASIBLE,
        "max_history": float(min(histories[-1], space.size - 1)),
    }


def _peak_rss_mb() -> float:
    """This process's peak resident set size so far (Linux reports ``ru_maxrss`` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _large_case(
    knowledge: Knowledge, profile: Mapping[str, float], histories: range
) -> dict[str, float]:
    before = _peak_rss_mb()  # the interpreter, the libraries and the knowledge base
    out = _case(large_space(), knowledge, profile, 1, histories)
    return {**out, "rss_before_mb": before, "peak_rss_mb": _peak_rss_mb()}


def latency_suite(
    space: Space,
    knowledge: Knowledge,
    *,
    profile: Mapping[str, float],
    histories: range = HISTORIES,
) -> dict[str, dict[str, float]]:
    """Latency of Falcon's suggestions over realistic histories (module docstring).

    Keys: ``"<size>"`` (n = 1) and ``"<size>-n4"`` on ``space``, ``"large"`` on
    :func:`large_space`, which runs in a fresh (spawned) process so that its ``peak_rss_mb`` is
    the peak resident memory of a process that only loads the knowledge base and suggests
    (``rss_before_mb``: the same process before its first suggestion).
    """
    out = {
        str(space.size): _case(space, knowledge, profile, 1, histories),
        f"{space.size}-n{BATCH_PICKS}": _case(space, knowledge, profile, BATCH_PICKS, histories),
    }
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=spawn) as pool:
        out["large"] = pool.submit(_large_case, knowledge, dict(profile), histories).result()
    return out
