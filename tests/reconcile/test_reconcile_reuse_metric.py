"""``falcon_pod_reuse_saved_seconds_total`` (the operator's Prometheus registry) sums the saved
start-up of the recorded reused trials: a search whose trials differ in batch size only, run
through the real run_search on a fake API server whose pods take a while to get ready."""

from __future__ import annotations

import asyncio
import functools
import json

import pytest
from fake_kube import FakeKube, Never, search_body
from prometheus_client import REGISTRY

from falcon_operator.reconcile import search
from falcon_operator.reconcile.active import ActiveTrials
from falcon_operator.reconcile.plan import Launch
from falcon_operator.reconcile.prepare import SearchContext, prepare, shipped_knowledge
from falcon_operator.reconcile.settings import ControllerSettings
from falcon_operator.reconcile.store import HistoryStore
from falcon_operator.reconcile.trial import TrialRunner
from falcon_operator.trials.manifest import trial_pod
from falcon_operator.trials.readback import PodView, read_pod
from falcon_operator.trials.simulated import SimulationSettings

METRIC = "falcon_pod_reuse_saved_seconds_total"
STARTUP_S = 0.5


def _counter() -> float:
    return REGISTRY.get_sample_value(METRIC) or 0.0


def test_the_reuse_counter_sums_the_reused_trials_saved_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        search, "prepare", functools.partial(prepare, knowledge=lambda _: shipped_knowledge())
    )
    api = FakeKube(ready_after_s=STARTUP_S)
    body = search_body(
        space={"gpus": [{"type": "T4"}], "cpus": [2], "batchSizes": [1, 2, 4]},
        budget={"maxTrials": 3, "maxParallelTrials": 1},
    )
    settings = ControllerSettings(poll_s=0.05, simulate=SimulationSettings(0.05))
    before = _counter()
    fin = asyncio.run(
        asyncio.wait_for(search.run_search(api.kube, settings, body, stop=Never()), 60)
    )
    records = [json.loads(v) for v in api.configmaps["resnet-mini-trials"]["data"].values()]
    assert fin is not None and fin.phase == "Succeeded", records
    reused = [r for r in records if r["reused"]]
    assert len(reused) == 2 and api.created_pods == ["resnet-mini-t000"]  # one pod for all
    saved = sum(r["savedSeconds"] for r in reused)
    assert saved >= 2 * STARTUP_S  # each reuse saved the pod's start-up
    assert _counter() - before == pytest.approx(saved, abs=0.01)


def test_a_reused_trial_cancelled_before_its_record_adds_nothing() -> None:
    """An operator stopping mid-trial: the trial is not recorded (it runs again after the
    restart), so the start-up it would have saved is not counted either."""
    api = FakeKube()
    settings = ControllerSettings(poll_s=0.05, simulate=SimulationSettings(30.0))
    body = search_body(space={"gpus": [{"type": "T4"}], "cpus": [2], "batchSizes": [1, 2]})
    ref = search.search_ref(body)
    config = {"batchsize": 2, "cpus": 2, "gpumem": 0.0, "gpupower": 100, "gputype": "T4"}

    def active_saved(ctx: SearchContext, store: HistoryStore, view: PodView) -> float:
        return TrialRunner(api.kube, ctx, settings, store).saved_seconds(view)

    async def run() -> None:
        ctx = await prepare(api.kube, settings, ref, body, knowledge=lambda _: shipped_knowledge())
        try:
            store = HistoryStore(api.kube, ref)
            await store.ensure()
            await api.create_pod(
                "team-a", trial_pod(ctx.resolved, ref, 0, dict(config, batchsize=1))
            )
            pod = api.pods["resnet-mini-t000"]  # it took 3 s to get ready
            pod["metadata"]["creationTimestamp"] = "2026-01-01T00:00:00Z"
            pod["status"]["conditions"][0]["lastTransitionTime"] = "2026-01-01T00:00:03Z"
            view = read_pod(pod)
            assert active_saved(ctx, store, view) == 3.0
            active = ActiveTrials(TrialRunner(api.kube, ctx, settings, store), store)
            active.start(Launch(1, "resnet-mini-t001", config, "resnet-mini-t000"), view)
            await asyncio.sleep(0.5)  # the reuse has begun (its PodReused event is out)
            assert "PodReused" in api.reasons()
            await active.cancel_all()
        finally:
            await ctx.close()

    before = _counter()
    asyncio.run(run())
    assert _counter() == before
    assert api.configmaps["resnet-mini-trials"].get("data", {}) == {}


def test_the_simulation_counter_grows_with_simulated_trials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``falcon_simulation_cpu_seconds_total``: the simulated fleet's CPU, apart from the rest."""
    monkeypatch.setattr(
        search, "prepare", functools.partial(prepare, knowledge=lambda _: shipped_knowledge())
    )
    name = "falcon_simulation_cpu_seconds_total"
    before = REGISTRY.get_sample_value(name) or 0.0
    api = FakeKube()
    body = search_body(budget={"maxTrials": 2, "maxParallelTrials": 2})
    settings = ControllerSettings(poll_s=0.05, simulate=SimulationSettings(0.05))
    fin = asyncio.run(
        asyncio.wait_for(search.run_search(api.kube, settings, body, stop=Never()), 60)
    )
    assert fin is not None and fin.phase == "Succeeded"
    assert (REGISTRY.get_sample_value(name) or 0.0) > before
