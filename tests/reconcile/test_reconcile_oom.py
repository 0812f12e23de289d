"""An OOM-killed trial pod: one policy with the fleet's, so infeasible, never "failed".

Before one policy, the operator recorded an OOMKilled trial as failed and counted it against
``budget.maxFailedTrials`` (while the simulated fleet called out-of-memory infeasible), so a
search whose largest batch sizes ran out of memory ended ``TooManyFailedTrials``. The trials run
through :class:`TrialRunner` against the fake Kube, its pods killed by the kubelet.
"""

from __future__ import annotations

import asyncio

from fake_kube import FakeKube, model_ref

from falcon_operator.core.space import Value
from falcon_operator.reconcile import plan
from falcon_operator.reconcile.plan import Launch
from falcon_operator.reconcile.prepare import prepare, shipped_knowledge
from falcon_operator.reconcile.settings import ControllerSettings
from falcon_operator.reconcile.store import HistoryStore
from falcon_operator.reconcile.trial import TrialRunner
from falcon_operator.trials.history import TrialEntry
from falcon_operator.trials.manifest import SearchRef
from falcon_operator.trials.simulated import SimulationSettings

REF = SearchRef("resnet-mini", "team-a", "0000-1111")
BODY = {
    "spec": {
        "model": model_ref(),
        "searchSpace": {"gpus": [{"type": "T4"}], "cpus": [2, 4], "batchSizes": [4, 8]},
        "budget": {"maxTrials": 4, "maxFailedTrials": 1},
    }
}


def _search(api: FakeKube) -> tuple[list[TrialEntry], plan.Finish | None]:
    configs: list[dict[str, Value]] = [
        {"batchsize": b, "cpus": c, "gpumem": 0.0, "gpupower": 100, "gputype": "T4"}
        for c in (2, 4)
        for b in (4, 8)
    ]
    settings = ControllerSettings(poll_s=0.01, simulate=SimulationSettings(0.01))

    async def run() -> tuple[list[TrialEntry], plan.Finish | None]:
        kube = api.kube
        ctx = await prepare(kube, settings, REF, BODY, knowledge=lambda _: shipped_knowledge())
        try:
            runner = TrialRunner(kube, ctx, settings, HistoryStore(kube, REF))
            entries: list[TrialEntry] = []
            for i, config in enumerate(configs):
                entries.append(await runner.run(Launch(i, f"resnet-mini-t{i:03d}", config)))
                verdict = plan.finish(ctx.resolved.spec.budget, entries, running=0)
                if verdict is not None:
                    return entries, verdict
            return entries, None
        finally:
            await ctx.close()

    return asyncio.run(run())


def test_oom_killed_trial_pods_do_not_use_up_max_failed_trials() -> None:
    api = FakeKube(killed_as=("OOMKilled", 137))  # every trial pod OOM-killed once created
    entries, verdict = _search(api)
    assert len(entries) == 4  # all of maxTrials ran: none used up maxFailedTrials (1)
    assert all(e.record.outcome.value == "infeasible" for e in entries)
    assert all(e.to_dict()["failure"] == "oom" for e in entries)
    assert not any(e.counts_as_failed for e in entries)
    assert all("OOMKilled (exit 137)" in e.record.reason for e in entries)
    assert verdict is not None and verdict.reason == "NoFeasibleConfiguration"
    assert "(4 infeasible, 0 failed)" in verdict.message
    assert api.reasons().count("TrialInfeasible") == 4 and "TrialFailed" not in api.reasons()


def test_a_bare_sigkill_is_a_crash_and_uses_up_max_failed_trials() -> None:
    """Exit 137 without the kubelet's OOMKilled (a deadline, a preemption) is not memory."""
    api = FakeKube(killed_as=("Error", 137))
    entries, verdict = _search(api)
    assert len(entries) == 2  # the second crash is one more than maxFailedTrials (1)
    assert all(e.record.outcome.value == "failed" and e.counts_as_failed for e in entries)
    assert [e.to_dict()["failure"] for e in entries] == ["crash", "crash"]  # was "oom"
    assert verdict is not None and verdict.reason == "TooManyFailedTrials"
