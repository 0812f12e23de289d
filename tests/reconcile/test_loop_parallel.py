"""SearchLoop runs ``maxParallelTrials`` trials at once, each a configuration no other trial
(recorded or running) has: the driver asks with the running trials as pending."""

from __future__ import annotations

import json

from fake_kube import FakeKube
from loop_fakes import REF, FakeExecutor, context, ok_result, resolved, run

from falcon_operator.core.space import Space
from falcon_operator.search.strategy import SearchState, Strategy


class Ordered(Strategy):
    """The lowest indices not tried and not pending (without pending: a running one again)."""

    name = "ordered"

    def __init__(self, space: Space) -> None:
        super().__init__(space)

    def _suggest_indices(self, state: SearchState, n: int) -> list[int]:
        return [i for i in range(self.space.size) if i not in state.excluded][:n]


def test_parallel_trials_run_at_once_and_never_repeat_a_configuration() -> None:
    rs = resolved(budget={"maxTrials": 7, "maxParallelTrials": 3})
    kube = FakeKube()
    ctx = context(rs, Ordered(rs.space))
    executor = FakeExecutor(kube, ctx, ok_result(rs), seconds=0.05)
    fin = run(kube, ctx, executor)
    assert fin is not None and fin.reason == "BudgetExhausted"
    assert executor.most_at_once == 3  # the parallelism, never more
    configs = [json.loads(v)["config"] for v in kube.history(REF.name).values()]
    assert len(configs) == 7
    assert sorted(rs.space.index_of(c) for c in configs) == list(range(7))  # none twice
    assert [la.index for la in executor.started] == list(range(7))


def test_the_last_trials_stay_within_the_budget() -> None:
    """With 5 trials and 3 at a time, the second wave has 2 (not 3) trials."""
    rs = resolved(budget={"maxTrials": 5, "maxParallelTrials": 3})
    kube = FakeKube()
    ctx = context(rs, Ordered(rs.space))
    executor = FakeExecutor(kube, ctx, ok_result(rs), seconds=0.05)
    fin = run(kube, ctx, executor)
    assert fin is not None and fin.reason == "BudgetExhausted"
    assert len(executor.started) == 5 and len(kube.history(REF.name)) == 5
