"""Aggregates of benchmark runs per method and per (method, target), and paired against Falcon.

:func:`summarise` gives, at each checkpoint, the mean accuracy with its 95 % bootstrap interval
(grouped by target; bench/stats.py), the share of runs at ≥ 0.9 and ≥ 0.95, the median trials to
0.9 and 0.95 of the optimum (runs that never get there counted, not dropped), and, for every
method but the reference (``falcon`` when it ran), its paired win/tie/loss against the reference
on the same (target, seed) with a bootstrap interval of the mean difference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from falcon_operator.bench.runs import (
    EPS,
    LEVEL_HIGH,
    LEVEL_LOW,
    RunResult,
    accuracy_at,
    normalise_checkpoints,
    trials_to,
)
from falcon_operator.bench.stats import (
    Interval,
    TrialsTo,
    WinTieLoss,
    bootstrap_mean,
    median_trials,
    win_tie_loss,
)

REFERENCE = "falcon"


@dataclass(frozen=True)
class CheckpointStats:
    """Aggregates over a group of runs at one checkpoint."""

    mean_accuracy: float
    p_ge_0_9: float  #: fraction of runs with accuracy >= 0.9
    p_ge_0_95: float  #: fraction of runs with accuracy >= 0.95
    ci95: Interval  #: mean accuracy with its 95 % bootstrap interval


@dataclass(frozen=True)
class GroupStats:
    """Aggregates over the runs of one method (optionally restricted to one target)."""

    n_runs: int
    at: Mapping[int, CheckpointStats]
    mean_trials_to_0_95: float | None  #: over the runs that reached 0.95 only; None if none did
    frac_reached_0_95: float
    infeasible_trials_mean: float
    trials_to_0_9: TrialsTo
    trials_to_0_95: TrialsTo


@dataclass(frozen=True)
class Summary:
    """Per-method and per-(method, target) aggregates at the given checkpoints.

    ``methods`` and ``per_target`` (method → target → stats) are keyed in name order;
    ``paired`` (method → checkpoint → result) compares every other method with ``reference``
    and is empty when the reference did not run.
    """

    checkpoints: tuple[int, ...]
    methods: Mapping[str, GroupStats]
    per_target: Mapping[str, Mapping[str, GroupStats]]
    reference: str = REFERENCE
    paired: Mapping[str, Mapping[int, WinTieLoss]] = field(default_factory=dict)

    def ranked_methods(self, k: int | None = None) -> tuple[str, ...]:
        """Methods by mean accuracy at ``k`` (default: the first checkpoint), best first."""
        k = self.checkpoints[0] if k is None else k
        if k not in self.checkpoints:
            raise ValueError(f"{k} is not a checkpoint of this summary {self.checkpoints}")
        return tuple(sorted(self.methods, key=lambda m: (-self.methods[m].at[k].mean_accuracy, m)))

    def targets(self) -> tuple[str, ...]:
        return tuple(sorted({t for by_target in self.per_target.values() for t in by_target}))


def by_target(runs: Sequence[RunResult], k: int) -> list[list[float]]:
    """Accuracies at ``k``, one list per target (in name order): the bootstrap's groups."""
    groups: dict[str, list[float]] = {}
    for run in runs:
        groups.setdefault(run.target, []).append(accuracy_at(run, k))
    return [groups[t] for t in sorted(groups)]


def _group_stats(runs: Sequence[RunResult], checkpoints: tuple[int, ...]) -> GroupStats:
    n = len(runs)
    at: dict[int, CheckpointStats] = {}
    for k in checkpoints:
        accs = [accuracy_at(r, k) for r in runs]
        at[k] = CheckpointStats(
            mean_accuracy=sum(accs) / n,
            p_ge_0_9=sum(a >= LEVEL_LOW - EPS for a in accs) / n,
            p_ge_0_95=sum(a >= LEVEL_HIGH - EPS for a in accs) / n,
            ci95=bootstrap_mean(by_target(runs, k)),
        )
    to_high = [trials_to(r, LEVEL_HIGH) for r in runs]
    reached = [t for t in to_high if t is not None]
    return GroupStats(
        n_runs=n,
        at=at,
        mean_trials_to_0_95=sum(reached) / len(reached) if reached else None,
        frac_reached_0_95=len(reached) / n,
        infeasible_trials_mean=sum(r.infeasible_trials for r in runs) / n,
        trials_to_0_9=median_trials([trials_to(r, LEVEL_LOW) for r in runs]),
        trials_to_0_95=median_trials(to_high),
    )


def paired_against(
    runs: Sequence[RunResult], method: str, reference: str, checkpoints: tuple[int, ...]
) -> dict[int, WinTieLoss] | None:
    """``reference`` vs ``method`` on the (target, seed) both ran; None when they share none."""
    ref = {(r.target, r.seed): r for r in runs if r.method == reference}
    other = {(r.target, r.seed): r for r in runs if r.method == method}
    keys = sorted(ref.keys() & other.keys())
    if not keys:
        return None
    out: dict[int, WinTieLoss] = {}
    for k in checkpoints:
        groups: dict[str, list[tuple[float, float]]] = {}
        for key in keys:
            pair = (accuracy_at(ref[key], k), accuracy_at(other[key], k))
            groups.setdefault(key[0], []).append(pair)
        out[k] = win_tie_loss([groups[t] for t in sorted(groups)])
    return out


def summarise(
    runs: Sequence[RunResult], checkpoints: Sequence[int], *, reference: str = REFERENCE
) -> Summary:
    """Aggregate ``runs`` per method and per (method, target) at each checkpoint."""
    cps = normalise_checkpoints(checkpoints)
    by_method: dict[str, list[RunResult]] = {}
    by_pair: dict[tuple[str, str], list[RunResult]] = {}
    for run in runs:
        by_method.setdefault(run.method, []).append(run)
        by_pair.setdefault((run.method, run.target), []).append(run)
    methods = {m: _group_stats(by_method[m], cps) for m in sorted(by_method)}
    per_target: dict[str, dict[str, GroupStats]] = {m: {} for m in methods}
    for method, target in sorted(by_pair):
        per_target[method][target] = _group_stats(by_pair[(method, target)], cps)
    paired: dict[str, dict[int, WinTieLoss]] = {}
    if reference in methods:
        for method in methods:
            if method != reference:
                result = paired_against(runs, method, reference, cps)
                if result is not None:
                    paired[method] = result
    return Summary(cps, methods, per_target, reference, paired)
