"""Evaluation 2: Falcon against Morphling, apple to apple, in wall-clock time.

Both search the same target tables with the same knowledge, trial budget and seeds (the
benchmark's runner, bench/runner.py). Each run's time is counted as a user pays it: every
suggestion's own latency (measured) plus every trial's cost (bench/paper_eval/costs.py: a fresh
pod, or a reused one when only the batch size changed).

*Search overhead to the same quality*: for each (target, seed), the accuracy Morphling ends its
budget with; the online time each method needs to first reach it. A Falcon run that never
reaches it is charged its whole budget (in Morphling's favour). The reduction is
``1 - falcon / morphling`` per pair, its mean with the benchmark's two-level bootstrap interval
(bench/stats.py). The paper's claim: up to 80 % less search overhead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from falcon_operator.bench.paper_eval.costs import TrialCost, batch_only_change, online_seconds
from falcon_operator.bench.runner import JobResult
from falcon_operator.bench.runs import EPS, LEVEL_HIGH, accuracy_at
from falcon_operator.bench.stats import Interval, bootstrap_mean

REFERENCE = "falcon"
RIVAL = "morphling"


@dataclass(frozen=True)
class MethodTime:
    """One method's times under one trial-cost scenario, over its runs."""

    method: str
    scenario: str
    runs: int
    suggest_ms_p50: float  #: median latency of one suggestion
    suggest_s_total: float  #: mean over runs of all its suggestions' time (the budget's)
    reused_share: float  #: share of trials on a reused pod
    online_s_at: Mapping[int, float]  #: mean online time after k trials
    #: median online time to 0.95 of the optimum (runs that never get there count as later);
    #: None when fewer than half got there
    to_high_s: float | None
    reached_high: float


@dataclass(frozen=True)
class Overhead:
    """Falcon's search-overhead reduction against Morphling, to Morphling's own final quality."""

    scenario: str
    pairs: int
    reduction: Interval  #: mean of 1 - falcon / morphling
    best_pair: float  #: the largest reduction of one (target, seed)
    falcon_reached: float  #: share of pairs where Falcon reached Morphling's quality


def _first(acc: Sequence[float], level: float) -> int | None:
    return next((i for i, a in enumerate(acc) if a >= level - EPS), None)


def _accuracies(res: JobResult) -> list[float]:
    return [accuracy_at(res.run, k) for k in range(1, res.run.n_trials + 1)]


def method_time(results: Sequence[JobResult], cost: TrialCost, cps: Sequence[int]) -> MethodTime:
    """The times of one method's ``results`` under ``cost``."""
    lat = np.concatenate([np.asarray(r.latencies) for r in results])
    online = [online_seconds(r.configs, r.latencies, cost) for r in results]
    reused = sum(
        batch_only_change(r.configs[i - 1], r.configs[i])
        for r in results
        for i in range(1, len(r.configs))
    )
    to_high: list[float] = []
    for res, times in zip(results, online, strict=True):
        i = _first(_accuracies(res), LEVEL_HIGH)
        to_high.append(times[i] if i is not None else float("inf"))
    median = float(np.median(to_high))
    return MethodTime(
        method=results[0].run.method,
        scenario=cost.name,
        runs=len(results),
        suggest_ms_p50=float(np.median(lat)) * 1e3,
        suggest_s_total=float(np.mean([sum(r.latencies) for r in results])),
        reused_share=reused / max(1, sum(len(r.configs) for r in results)),
        online_s_at={k: float(np.mean([t[min(k, len(t)) - 1] for t in online])) for k in cps},
        to_high_s=median if np.isfinite(median) else None,
        reached_high=float(np.mean(np.isfinite(to_high))),
    )


def overhead(results: Sequence[JobResult], cost: TrialCost) -> Overhead:
    """Falcon's reduction of Morphling's search overhead (see the module docstring)."""
    mine = {(r.run.target, r.run.seed): r for r in results if r.run.method == REFERENCE}
    theirs = {(r.run.target, r.run.seed): r for r in results if r.run.method == RIVAL}
    groups: dict[str, list[float]] = {}
    reached = 0
    for key in sorted(mine.keys() & theirs.keys()):
        f, m = mine[key], theirs[key]
        m_acc = _accuracies(m)
        quality = m_acc[-1]
        m_at = _first(m_acc, quality)
        f_at = _first(_accuracies(f), quality)
        reached += f_at is not None
        m_time = online_seconds(m.configs, m.latencies, cost)
        f_time = online_seconds(f.configs, f.latencies, cost)
        t_m = m_time[m_at if m_at is not None else -1]
        t_f = f_time[f_at if f_at is not None else -1]
        groups.setdefault(key[0], []).append(1.0 - t_f / t_m)
    if not groups:
        raise ValueError("no (target, seed) that both falcon and morphling ran")
    flat = [x for g in groups.values() for x in g]
    return Overhead(
        scenario=cost.name,
        pairs=len(flat),
        reduction=bootstrap_mean([groups[t] for t in sorted(groups)]),
        best_pair=max(flat),
        falcon_reached=reached / len(flat),
    )
