"""The PodReused event: sent when the reuse happens, before the trial runs (so before its
TrialFinished), and it names the start-up time the reuse saves: what the reused pod's own fresh
trial waited for, as the operator watched it (not a pod-timestamp difference, 0 s on KWOK)."""

from __future__ import annotations

import asyncio

from fake_kube import FakeKube, model_ref

from falcon_operator.core.space import Value
from falcon_operator.reconcile.plan import Launch
from falcon_operator.reconcile.prepare import prepare, shipped_knowledge
from falcon_operator.reconcile.settings import ControllerSettings
from falcon_operator.reconcile.store import HistoryStore
from falcon_operator.reconcile.trial import TrialRunner
from falcon_operator.trials.manifest import SearchRef
from falcon_operator.trials.readback import read_pod
from falcon_operator.trials.simulated import SimulationSettings

REF = SearchRef("resnet-mini", "team-a", "0000-1111")
STARTUP_S = 0.4
BODY = {
    "spec": {
        "model": model_ref(),
        "searchSpace": {"gpus": [{"type": "T4"}], "batchSizes": [4, 8]},
        "objective": {"sloP99Ms": 50.0},
    }
}


def test_pod_reused_comes_before_the_trial_and_names_the_start_up_it_saves() -> None:
    first: dict[str, Value] = {
        "batchsize": 4, "cpus": 2, "gpumem": 0.0, "gpupower": 100, "gputype": "T4"
    }  # fmt: skip
    second = dict(first, batchsize=8)
    api = FakeKube(ready_after_s=STARTUP_S)  # pods get ready STARTUP_S after creation
    settings = ControllerSettings(poll_s=0.05, simulate=SimulationSettings(0.2))

    async def run() -> float:
        ctx = await prepare(api.kube, settings, REF, BODY, knowledge=lambda _: shipped_knowledge())
        try:
            runner = TrialRunner(api.kube, ctx, settings, HistoryStore(api.kube, REF))
            await runner.run(Launch(0, "resnet-mini-t000", first))
            view = read_pod(api.pods["resnet-mini-t000"])
            entry = await runner.run(
                Launch(1, "resnet-mini-t001", second, reuse_pod="resnet-mini-t000"),
                reused_view=view,
            )
            assert entry.reused and entry.pod == "resnet-mini-t000"
            return entry.saved_s
        finally:
            await ctx.close()

    saved = asyncio.run(run())
    reasons = [r for r, _ in api.said()]
    assert reasons == ["TrialStarted", "TrialFinished", "PodReused", "TrialFinished"]
    assert STARTUP_S <= saved < STARTUP_S + 1.0
    reused = api.said()[2][1]
    assert "trial resnet-mini-t001 reuses pod resnet-mini-t000" in reused
    assert f"saves its {saved:.1f}" in reused or f"saves its {saved:.2f}" in reused, reused
    assert "saves its 0 s" not in reused
