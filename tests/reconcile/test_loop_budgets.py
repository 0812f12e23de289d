"""SearchLoop's stop rules, end to end on a fake Kube and a fake executor: the trial budget
finishes the search, the failure budget fails it at once (SLO breaks do not count), and
``spec.algorithm.stopOnConvergence`` ends it when the strategy says so."""

from __future__ import annotations

from fake_kube import FakeKube
from loop_fakes import REF, FakeExecutor, context, ok_result, resolved, run

from falcon_operator.core.records import FailureKind, History, TrialRecord
from falcon_operator.core.space import Config, Space
from falcon_operator.search.strategy import SearchState, Strategy


class Ordered(Strategy):
    """The lowest free indices; says it has converged once ``after`` trials are recorded."""

    name = "ordered"

    def __init__(self, space: Space, *, after: int | None = None) -> None:
        super().__init__(space)
        self.after = after

    def _suggest_indices(self, state: SearchState, n: int) -> list[int]:
        free = [i for i in range(self.space.size) if i not in state.excluded]
        return free[:n]

    def should_stop(self, history: History) -> bool:
        return self.after is not None and len(history) >= self.after


def test_the_trial_budget_finishes_the_search_with_its_best() -> None:
    rs = resolved(budget={"maxTrials": 4})
    kube = FakeKube()
    ctx = context(rs, Ordered(rs.space))
    executor = FakeExecutor(kube, ctx, ok_result(rs))
    fin = run(kube, ctx, executor)
    assert fin is not None and (fin.phase, fin.reason) == ("Succeeded", "BudgetExhausted")
    assert sorted(kube.history(REF.name)) == ["t000.json", "t001.json", "t002.json", "t003.json"]
    assert len(executor.started) == 4  # not one trial more than the budget
    status = kube.status[REF.name]
    assert status["phase"] == "Succeeded" and status["history"]["records"] == 4
    assert status["best"]["objective"] == 4.0  # Ordered tried indices 0..3
    assert kube.pods == {}  # every trial pod deleted at the end


def test_the_failure_budget_fails_the_search_at_once() -> None:
    rs = resolved(budget={"maxTrials": 10, "maxFailedTrials": 2})
    kube = FakeKube()
    ctx = context(rs, Ordered(rs.space))

    def crash(config: Config) -> TrialRecord:
        return TrialRecord.failed(config, FailureKind.CRASH, "exit 139")

    fin = run(kube, ctx, FakeExecutor(kube, ctx, crash))
    assert fin is not None and (fin.phase, fin.reason) == ("Failed", "TooManyFailedTrials")
    assert len(kube.history(REF.name)) == 3  # the third counted failure is one too many
    assert fin.message.startswith("3 trials failed, more than budget.maxFailedTrials (2)")
    assert kube.status[REF.name]["phase"] == "Failed"


def test_slo_breaks_do_not_use_up_the_failure_budget() -> None:
    rs = resolved(budget={"maxTrials": 5, "maxFailedTrials": 1})
    kube = FakeKube()
    ctx = context(rs, Ordered(rs.space))

    def slow(config: Config) -> TrialRecord:
        reason = "measured p99 80 ms breaks the 50 ms SLO"
        return TrialRecord.failed(config, FailureKind.SLO, reason, metrics={"p99_ms": 80.0})

    fin = run(kube, ctx, FakeExecutor(kube, ctx, slow))
    assert fin is not None and fin.reason == "NoFeasibleConfiguration"
    assert len(kube.history(REF.name)) == 5  # the whole budget ran


def test_stop_on_convergence_ends_the_search_when_the_strategy_says_so() -> None:
    rs = resolved(budget={"maxTrials": 10}, algorithm={"stopOnConvergence": True})
    kube = FakeKube()
    ctx = context(rs, Ordered(rs.space, after=3))
    fin = run(kube, ctx, FakeExecutor(kube, ctx, ok_result(rs)))
    assert fin is not None and (fin.phase, fin.reason) == ("Succeeded", "Converged")
    assert len(kube.history(REF.name)) == 3


def test_without_stop_on_convergence_the_whole_budget_runs() -> None:
    rs = resolved(budget={"maxTrials": 6})
    kube = FakeKube()
    ctx = context(rs, Ordered(rs.space, after=3))
    fin = run(kube, ctx, FakeExecutor(kube, ctx, ok_result(rs)))
    assert fin is not None and fin.reason == "BudgetExhausted"
    assert len(kube.history(REF.name)) == 6
