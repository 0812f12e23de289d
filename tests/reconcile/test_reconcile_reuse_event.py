"""The PodReused event: sent when the reuse happens, before the trial runs (so before its
TrialFinished), and it names the start-up time the reuse saves: what the reused pod's own fresh
trial waited for, as the operator watched it (not a pod-timestamp difference, 0 s on KWOK)."""

from __future__ import annotations

import asyncio
import base64
import time
from pathlib import Path
from typing import Any, cast

from reconcile_pods import ready_pod_manifest

import falcon_operator
from falcon_operator.core.space import Value
from falcon_operator.reconcile.kube import Kube
from falcon_operator.reconcile.plan import Launch
from falcon_operator.reconcile.prepare import prepare, shipped_knowledge
from falcon_operator.reconcile.settings import ControllerSettings
from falcon_operator.reconcile.store import HistoryStore
from falcon_operator.reconcile.trial import TrialRunner
from falcon_operator.trials.manifest import SearchRef
from falcon_operator.trials.readback import read_pod
from falcon_operator.trials.simulated import SimulationSettings

MODEL = Path(falcon_operator.__file__).parent / "data/models/resnet-mini.onnx"
REF = SearchRef("resnet-mini", "team-a", "0000-1111")
STARTUP_S = 0.4
BODY = {
    "spec": {
        "model": {
            "name": "resnet-mini",
            "configMapRef": {"name": "resnet-mini-model", "key": "model.onnx"},
        },
        "searchSpace": {"gpus": [{"type": "T4"}], "batchSizes": [4, 8]},
        "objective": {"sloP99Ms": 50.0},
    }
}


class Cluster:
    """Pods that get ready STARTUP_S after creation; events recorded; the model's ConfigMap."""

    def __init__(self) -> None:
        data = base64.b64encode(MODEL.read_bytes()).decode()
        self.configmaps = {"resnet-mini-model": {"binaryData": {"model.onnx": data}}}
        self.pods: dict[str, dict[str, Any]] = {}
        self.created: dict[str, float] = {}
        self.events: list[tuple[str, str]] = []

    async def get_configmap(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self.configmaps.get(name)

    def ready_pod(self, name: str) -> None:
        self.pods[name] = ready_pod_manifest(name)

    async def create_pod(self, namespace: str, body: dict[str, Any]) -> bool:
        self.created[body["metadata"]["name"]] = time.monotonic()
        return True

    async def get_pod(self, namespace: str, name: str) -> dict[str, Any] | None:
        if name not in self.pods and name in self.created:
            if time.monotonic() - self.created[name] < STARTUP_S:
                return {"metadata": {"name": name}, "status": {"phase": "Pending"}}
            self.ready_pod(name)
        return self.pods.get(name)

    async def patch_configmap(self, namespace: str, name: str, patch: dict[str, Any]) -> bool:
        return True

    async def event(self, ref: SearchRef, type_: str, reason: str, message: str) -> None:
        self.events.append((reason, message))


def test_pod_reused_comes_before_the_trial_and_names_the_start_up_it_saves() -> None:
    first: dict[str, Value] = {
        "batchsize": 4, "cpus": 2, "gpumem": 0.0, "gpupower": 100, "gputype": "T4"
    }  # fmt: skip
    second = dict(first, batchsize=8)
    api = Cluster()
    settings = ControllerSettings(poll_s=0.05, simulate=SimulationSettings(0.2))

    async def run() -> float:
        ctx = await prepare(
            cast(Kube, api), settings, REF, BODY, knowledge=lambda _: shipped_knowledge()
        )
        try:
            runner = TrialRunner(cast(Kube, api), ctx, settings, HistoryStore(cast(Kube, api), REF))
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
    reasons = [r for r, _ in api.events]
    assert reasons == ["TrialStarted", "TrialFinished", "PodReused", "TrialFinished"]
    assert STARTUP_S <= saved < STARTUP_S + 1.0
    reused = api.events[2][1]
    assert "trial resnet-mini-t001 reuses pod resnet-mini-t000" in reused
    assert f"saves its {saved:.1f}" in reused or f"saves its {saved:.2f}" in reused, reused
    assert "saves its 0 s" not in reused
