"""A restart mid-search (the operator killed while trials run) resumes from the history: no
recorded trial runs again, the interrupted trials are adopted from their pods and finished,
and the search runs the trials an undisturbed one runs.

The real SearchLoop runs twice on one fake API server: the first stops while trials run (its
tasks cancelled, their pods left), the second is built from scratch (a new strategy and
driver) as a restarted operator builds it.
"""

from __future__ import annotations

import json

from fake_kube import FakeKube
from loop_fakes import REF, FakeExecutor, context, ok_result, resolved, run

from falcon_operator.search.baselines import RandomStrategy
from falcon_operator.spec import ResolvedSearch
from falcon_operator.trials.readback import read_pod


class WhenRunning:
    """Set once ``after`` trials are recorded and another trial's pod exists (it is running)."""

    def __init__(self, kube: FakeKube, after: int) -> None:
        self.kube, self.after = kube, after

    def running(self) -> list[str]:
        recorded = {f"{REF.name}-t{key[1:4]}" for key in self.kube.history(REF.name)}
        return sorted(set(self.kube.pods) - recorded)

    def is_set(self) -> bool:
        return len(self.kube.history(REF.name)) >= self.after and bool(self.running())


def _configs(kube: FakeKube) -> list[dict[str, object]]:
    history = kube.history(REF.name)
    return [json.loads(history[key])["config"] for key in sorted(history)]


def _search(rs: ResolvedSearch, kube: FakeKube, *, stop: WhenRunning | None = None) -> FakeExecutor:
    ctx = context(rs, RandomStrategy(rs.space, seed=3))
    executor = FakeExecutor(kube, ctx, ok_result(rs), seconds=0.03)
    run(kube, ctx, executor, stop=stop)
    return executor


def test_a_restart_mid_search_loses_no_trial_and_reruns_none() -> None:
    rs = resolved(budget={"maxTrials": 6, "maxParallelTrials": 2})
    kube = FakeKube()
    stop = WhenRunning(kube, after=2)
    _search(rs, kube, stop=stop)
    before = set(kube.history(REF.name))
    interrupted = {name: read_pod(kube.pods[name]).config for name in stop.running()}
    assert interrupted and len(before) < 6
    after = _search(rs, kube)  # the restarted operator
    assert kube.status[REF.name]["phase"] == "Succeeded"
    assert sorted(kube.history(REF.name)) == [f"t{i:03d}.json" for i in range(6)]
    assert len(kube.appended) == len(set(kube.appended)) == 6  # every trial recorded once
    rerun = {f"t{la.index:03d}.json" for la in after.started} & before
    assert not rerun  # no recorded trial ran again
    adopted = {la.name: la.config for la in after.started if la.name in interrupted}
    assert adopted == interrupted  # the interrupted trials finished, in their configurations
    configs = [json.dumps(c, sort_keys=True) for c in _configs(kube)]
    assert len(set(configs)) == 6


def test_a_restarted_search_runs_the_trials_of_an_undisturbed_one() -> None:
    rs = resolved(budget={"maxTrials": 6})
    undisturbed = FakeKube()
    _search(rs, undisturbed)
    kube = FakeKube()
    _search(rs, kube, stop=WhenRunning(kube, after=2))
    assert 2 <= len(kube.history(REF.name)) < 6
    _search(rs, kube)
    assert _configs(kube) == _configs(undisturbed)
