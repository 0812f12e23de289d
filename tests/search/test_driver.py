"""The ask/tell driver's rules on a toy space: stop order, slots, pending, convergence, run."""

from __future__ import annotations

import pytest

from falcon_operator.core.errors import StrategyError
from falcon_operator.core.records import FailureKind, History, Outcome, TrialRecord
from falcon_operator.core.space import Config, Knob, Space
from falcon_operator.search.driver import Budget, Decision, Driver, Stop
from falcon_operator.search.strategy import SearchState, Strategy

SPACE = Space((Knob("batchsize", (1, 2, 4, 8)), Knob("cpus", (1, 2))))


class Ordered(Strategy):
    """The lowest free indices; converged once ``after`` trials are recorded; counts its asks."""

    name = "ordered"

    def __init__(self, *, after: int | None = None) -> None:
        super().__init__(SPACE)
        self.after, self.asks = after, 0

    def _suggest_indices(self, state: SearchState, n: int) -> list[int]:
        self.asks += 1
        return [i for i in range(SPACE.size) if i not in state.excluded][:n]

    def should_stop(self, history: History) -> bool:
        return self.after is not None and len(history) >= self.after


def ok(i: int) -> TrialRecord:
    return TrialRecord(SPACE.config_at(i), Outcome.OK, float(i + 1))


def failed(i: int, kind: FailureKind = FailureKind.CRASH) -> TrialRecord:
    return TrialRecord.failed(SPACE.config_at(i), kind, kind.value)


def test_the_failure_budget_stops_before_the_trial_budget() -> None:
    driver = Driver(Ordered(), Budget(3, max_failed=1))
    assert driver.decide([failed(0), failed(1), ok(2)]).stop is Stop.FAILURES
    assert driver.decide([failed(0), ok(1), ok(2)]).stop is Stop.BUDGET
    assert Driver(Ordered(), Budget(9)).decide([failed(i) for i in range(5)]).stop is None


def test_the_failure_kinds_policy_decides_which_failures_count() -> None:
    driver = Driver(Ordered(), Budget(9, max_failed=0))
    kinds = (FailureKind.SLO, FailureKind.OOM, FailureKind.UNSCHEDULABLE)
    free = [failed(i, kind) for i, kind in enumerate(kinds)]
    assert driver.decide(free).stop is None  # an SLO break, OOM or no node: the search goes on
    for kind in (FailureKind.CRASH, FailureKind.TIMEOUT, FailureKind.RUNNER):
        assert driver.decide([*free, failed(3, kind)]).stop is Stop.FAILURES


def test_the_ask_fills_the_free_slots_and_skips_the_running_trials() -> None:
    strategy = Ordered()
    driver = Driver(strategy, Budget(5, max_parallel=3))
    running = [SPACE.config_at(0)]
    decision = driver.decide([], pending=running)
    assert decision == Decision(ask=(SPACE.config_at(1), SPACE.config_at(2)))  # 3 - 1 running
    assert driver.decide([ok(0), ok(1)], pending=[SPACE.config_at(2)]).ask == (
        SPACE.config_at(3),
        SPACE.config_at(4),
    )
    asks = strategy.asks
    assert driver.decide([ok(0)], pending=[SPACE.config_at(i) for i in (1, 2, 3)]) == Decision()
    assert driver.decide([ok(0), ok(1), ok(2)], pending=[SPACE.config_at(i) for i in (3, 4)]) == (
        Decision()  # the last two trials of the budget run: nothing more to ask
    )
    assert strategy.asks == asks  # a full decision asks nothing


def test_convergence_stops_only_when_asked_and_only_while_a_trial_could_start() -> None:
    history = [ok(0), ok(1)]
    assert Driver(Ordered(after=2), Budget(5)).decide(history).ask == (SPACE.config_at(2),)
    converging = Driver(Ordered(after=2), Budget(5, stop_on_convergence=True))
    assert converging.decide(history).stop is Stop.CONVERGED
    assert converging.decide(history[:1]).stop is None
    assert converging.decide([ok(0), ok(1), ok(2), ok(3), ok(4)]).stop is Stop.BUDGET


def test_an_exhausted_space_stops_the_search() -> None:
    driver = Driver(Ordered(), Budget(20))
    assert driver.decide([ok(i) for i in range(SPACE.size)]).stop is Stop.SPACE


def test_run_asks_executes_and_tells_until_a_stop() -> None:
    strategy = Ordered(after=3)
    seen: list[tuple[int, Config, TrialRecord]] = []
    took: list[float] = []
    driver = Driver(strategy, Budget(5), observe=took.append)
    run = driver.run(lambda c: ok(SPACE.index_of(c)), on_trial=lambda *t: seen.append(t))
    assert run.stop is Stop.BUDGET and [r.config for r in run.history] == [
        SPACE.config_at(i) for i in range(5)
    ]
    assert [n for n, _, _ in seen] == [1, 2, 3, 4, 5] and seen[2][2] is run.history[2]
    assert len(took) == strategy.asks == 5  # every ask timed
    converging = Driver(Ordered(after=3), Budget(5, stop_on_convergence=True))
    assert converging.run(lambda c: ok(SPACE.index_of(c))).stop is Stop.CONVERGED
    resumed = Driver(Ordered(), Budget(5)).run(lambda c: ok(SPACE.index_of(c)), history=[ok(0)])
    assert len(resumed.history) == 5 and resumed.history[1].config == SPACE.config_at(1)


def test_a_budget_needs_room_for_one_trial_at_a_time() -> None:
    with pytest.raises(StrategyError):
        Budget(5, max_parallel=0)
