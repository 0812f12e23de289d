"""Planning from histories: verdicts, slots, indices, pod reuse."""

from __future__ import annotations

from falcon_operator.core.records import FailureKind, Outcome, TrialRecord
from falcon_operator.reconcile import plan
from falcon_operator.spec.model import BudgetSpec
from falcon_operator.trials.history import TrialEntry

BASE = {"batchsize": 1, "cpus": 2, "gpumem": 0.0, "gpupower": 100, "gputype": "T4"}


def _entry(index: int, kind: FailureKind | None = None) -> TrialEntry:
    cfg = dict(BASE, cpus=index + 1)
    record = (
        TrialRecord(cfg, Outcome.OK, 10.0 * (index + 1))
        if kind is None
        else TrialRecord.failed(cfg, kind, f"r{index}")
    )
    return TrialEntry(index, f"s-t{index:03d}", record)


def test_budget_exhausted_succeeds_with_the_best() -> None:
    entries = [_entry(0), _entry(1), _entry(2, FailureKind.UNSCHEDULABLE)]
    fin = plan.finish(BudgetSpec(max_trials=3), entries, running=0)
    assert fin == plan.Finish(
        "Succeeded", "BudgetExhausted", "best of 3 trials: T4 20 req/s per $/h"
    )


def test_the_search_waits_for_running_trials() -> None:
    assert plan.finish(BudgetSpec(max_trials=2), [_entry(0)], running=1) is None
    assert plan.finish(BudgetSpec(max_trials=4), [_entry(0)], running=1, exhausted=True) is None
    fin = plan.finish(BudgetSpec(max_trials=4), [_entry(0)], running=0, exhausted=True)
    assert fin is not None and fin.reason == "SpaceExhausted"


def test_too_many_failures_fail_at_once_but_slo_breaks_do_not_count() -> None:
    budget = BudgetSpec(max_trials=10, max_failed_trials=1)
    slo = [_entry(0, FailureKind.SLO), _entry(1, FailureKind.SLO)]
    assert plan.finish(budget, slo, running=1) is None
    crashes = [_entry(0, FailureKind.CRASH), _entry(1, FailureKind.TIMEOUT)]
    fin = plan.finish(budget, crashes, running=1)
    assert fin is not None and fin.phase == "Failed" and fin.reason == "TooManyFailedTrials"
    assert "s-t001: r1" in fin.message


def test_out_of_memory_does_not_use_up_the_failure_budget() -> None:
    """One policy: OOM is infeasible, in the operator as in the fleet (it was counted)."""
    budget = BudgetSpec(max_trials=10, max_failed_trials=1)
    ooms = [_entry(0, FailureKind.OOM), _entry(1, FailureKind.OOM), _entry(2, FailureKind.OOM)]
    assert plan.finish(budget, ooms, running=1) is None
    counts = plan.count(ooms, running=1)
    assert (counts.infeasible, counts.failed, counts.failed_counted) == (3, 0, 0)


def test_no_feasible_configuration_fails() -> None:
    entries = [_entry(0, FailureKind.UNSCHEDULABLE)]
    fin = plan.finish(BudgetSpec(max_trials=1), entries, running=0)
    assert fin is not None and fin.reason == "NoFeasibleConfiguration"
    assert fin.message == "none of the 1 trials produced a measurement (1 infeasible, 0 failed)"


def test_an_unmeetable_slo_says_so_with_the_lowest_p99_and_where() -> None:
    def slo_break(index: int, p99: float) -> TrialEntry:
        cfg = dict(BASE, cpus=index + 1)
        reason = f"measured p99 {p99} ms breaks the 0.5 ms SLO"
        metrics = {"p99_ms": p99, "rps": 100.0}
        record = TrialRecord.failed(cfg, FailureKind.SLO, reason, metrics=metrics)
        return TrialEntry(index, f"s-t{index:03d}", record)

    entries = [slo_break(0, 2.1), slo_break(1, 1.6), _entry(2, FailureKind.OOM)]
    fin = plan.finish(BudgetSpec(max_trials=3), entries, running=0, slo_p99_ms=0.5)
    assert fin is not None and fin.reason == "NoFeasibleConfiguration"
    assert fin.message == (
        "no configuration meets the 0.5 ms p99 SLO: the lowest p99 measured is 1.6 ms "
        "(s-t001, T4 b1 cpus=2 gpumem=0 gpupower=100) over 3 trials (1 infeasible, 2 failed)"
    )


def test_slots_and_indices() -> None:
    budget = BudgetSpec(max_trials=5, max_parallel_trials=3)
    assert plan.free_slots(budget, done=0, running=0) == 3
    assert plan.free_slots(budget, done=3, running=1) == 1
    assert plan.free_slots(budget, done=5, running=0) == 0
    assert plan.next_indices(set(), 2) == [0, 1]
    assert plan.next_indices({0, 1, 4}, 2) == [5, 6]  # never an index in use, even a gap's


def test_reuse_only_for_batch_size_changes_and_each_pod_once() -> None:
    idle = {"s-t000": dict(BASE, batchsize=1), "s-t001": dict(BASE, cpus=4)}
    batch8 = dict(BASE, batchsize=8)
    assert plan.reuse_candidate(batch8, idle) == "s-t000"
    assert plan.reuse_candidate(dict(BASE, batchsize=8, gpupower=75), idle) is None
    assert plan.reuse_candidate(BASE, {"s-t000": BASE}) is None  # the very same configuration
    launches = plan.assign("s", [batch8, dict(BASE, batchsize=4)], [2, 3], idle=idle, reuse=True)
    assert [(la.name, la.reuse_pod) for la in launches] == [("s-t002", "s-t000"), ("s-t003", None)]
    assert all(
        la.reuse_pod is None for la in plan.assign("s", [batch8], [2], idle=idle, reuse=False)
    )
