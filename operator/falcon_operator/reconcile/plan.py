"""Pure planning: from the recorded trials and the live ones to what happens next.

What to try next and whether to stop are the driver's decisions (search/driver.py, shared with
``falcon search``, ``replay`` and ``bench``); this module keeps the pod bookkeeping (indices,
pod names, reuse) and turns the driver's stop into the search's Finish. Nothing here talks to
Kubernetes or keeps state, so a restarted operator that reads the same history and pods plans
the same next step: the same indices (hence pod names), the same pending set for the
strategy, the same verdict.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from falcon_operator.core.knobs import BATCH
from falcon_operator.core.numbers import objective
from falcon_operator.core.objective import Objective
from falcon_operator.core.records import Outcome, best_trial
from falcon_operator.core.space import Config, Value
from falcon_operator.report.messages import no_success
from falcon_operator.search import driver
from falcon_operator.search.driver import Budget, Stop, budget_stop
from falcon_operator.spec.model import BudgetSpec
from falcon_operator.trials.history import TrialEntry, records
from falcon_operator.trials.naming import trial_name

Phase = Literal["Pending", "Running", "Succeeded", "Failed"]


@dataclass(frozen=True)
class Counts:
    """Trial counts for the status and the budgets."""

    done: int
    ok: int
    infeasible: int
    failed: int  #: every failed trial (SLO breaks included)
    failed_counted: int  #: those that use up maxFailedTrials
    running: int


@dataclass(frozen=True)
class Finish:
    """The end of a search: its final phase, a condition reason and a one-line message."""

    phase: Phase
    reason: str
    message: str


@dataclass(frozen=True)
class Launch:
    """A trial to start: a new pod, or ``reuse_pod`` reloaded with the new batch size."""

    index: int
    name: str
    config: Config
    reuse_pod: str | None = None


def count(entries: Sequence[TrialEntry], running: int) -> Counts:
    outcome = [e.record.outcome for e in entries]
    return Counts(
        done=len(entries),
        ok=outcome.count(Outcome.OK),
        infeasible=outcome.count(Outcome.INFEASIBLE),
        failed=outcome.count(Outcome.FAILED),
        failed_counted=sum(e.counts_as_failed for e in entries),
        running=running,
    )


def driver_budget(budget: BudgetSpec, *, stop_on_convergence: bool = False) -> Budget:
    """The driver's budget of ``spec.budget`` (and ``spec.algorithm.stopOnConvergence``)."""
    return Budget(
        budget.max_trials,
        max_parallel=budget.max_parallel_trials,
        max_failed=budget.max_failed_trials,
        stop_on_convergence=stop_on_convergence,
    )


def finish(
    budget: BudgetSpec,
    entries: Sequence[TrialEntry],
    *,
    running: int,
    exhausted: bool = False,
    converged: bool = False,
    slo_p99_ms: float | None = None,
    goal: Objective | None = None,
) -> Finish | None:
    """The verdict when the search is over, else None (it also waits for running trials): the
    driver's budget stops, else the given space or convergence stop."""
    stop = budget_stop(driver_budget(budget), records(entries)) or (
        Stop.SPACE if exhausted else Stop.CONVERGED if converged else None
    )
    return conclude(budget, entries, stop, running=running, slo_p99_ms=slo_p99_ms, goal=goal)


def conclude(
    budget: BudgetSpec,
    entries: Sequence[TrialEntry],
    stop: Stop | None,
    *,
    running: int,
    slo_p99_ms: float | None = None,
    goal: Objective | None = None,
) -> Finish | None:
    """The Finish of the driver's ``stop``: a failure-budget stop fails the search at once;
    any other waits for the running trials, then succeeds with the best trial (or fails when
    none succeeded)."""
    if stop is None:
        return None
    c = count(entries, running)
    if stop is Stop.FAILURES:
        last = next(e for e in reversed(entries) if e.counts_as_failed)
        return Finish(
            "Failed",
            stop.value,
            f"{c.failed_counted} trials failed, more than budget.maxFailedTrials "
            f"({budget.max_failed_trials}); last: {last.name}: {last.record.reason}",
        )
    if running:
        return None
    ordered = sorted(entries, key=lambda e: e.index)
    best = best_trial(records(ordered))
    if best is None:
        message = no_success(
            records(ordered), slo_p99_ms=slo_p99_ms, labels=[e.name for e in ordered]
        )
        return Finish("Failed", "NoFeasibleConfiguration", message)
    return Finish(
        "Succeeded",
        stop.value,
        f"best of {c.done} trials: {best.config['gputype']} "
        f"{objective(best.objective or 0.0, goal)}",
    )


def free_slots(budget: BudgetSpec, *, done: int, running: int) -> int:
    """How many trials may start now (the driver's rule)."""
    return driver.free_slots(driver_budget(budget), done=done, running=running)


def next_indices(used: Collection[int], n: int) -> list[int]:
    """``n`` trial indices after every index in use (recorded, with a pod, or running)."""
    start = max(used) + 1 if used else 0
    return list(range(start, start + n))


def reuse_candidate(
    config: Mapping[str, Value], idle: Mapping[str, Mapping[str, Value]]
) -> str | None:
    """An idle pod whose configuration differs from ``config`` in the batch size only."""
    for pod in sorted(idle):
        other = idle[pod]
        same = all(other.get(k) == v for k, v in config.items() if k != BATCH)
        if same and other.get(BATCH) != config.get(BATCH):
            return pod
    return None


def assign(
    search: str,
    suggestions: Sequence[Config],
    indices: Sequence[int],
    *,
    idle: Mapping[str, Mapping[str, Value]],
    reuse: bool,
) -> list[Launch]:
    """Launches for ``suggestions``; each idle pod is reused at most once."""
    free = dict(idle) if reuse else {}
    out = []
    for config, index in zip(suggestions, indices, strict=False):
        pod = reuse_candidate(config, free)
        if pod is not None:
            del free[pod]
        out.append(Launch(index, trial_name(search, index), dict(config), pod))
    return out
