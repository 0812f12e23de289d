"""An OOM-killed trial pod: one policy with the fleet's, so infeasible, never "failed".

Before one policy, the operator recorded an OOMKilled trial as failed and counted it against
``budget.maxFailedTrials`` (while the simulated fleet called out-of-memory infeasible), so a
search whose largest batch sizes ran out of memory ended ``TooManyFailedTrials``. The trials run
through :class:`TrialRunner` against a fake Kube whose pods the kubelet OOM-kills.
"""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any, cast

import falcon_operator
from falcon_operator.core.space import Value
from falcon_operator.reconcile import plan
from falcon_operator.reconcile.kube import Kube
from falcon_operator.reconcile.plan import Launch
from falcon_operator.reconcile.prepare import prepare, shipped_knowledge
from falcon_operator.reconcile.settings import ControllerSettings
from falcon_operator.reconcile.store import HistoryStore
from falcon_operator.reconcile.trial import TrialRunner
from falcon_operator.trials.history import TrialEntry
from falcon_operator.trials.manifest import SearchRef
from falcon_operator.trials.simulated import SimulationSettings

MODEL = Path(falcon_operator.__file__).parent / "data/models/resnet-mini.onnx"
REF = SearchRef("resnet-mini", "team-a", "0000-1111")
BODY = {
    "spec": {
        "model": {
            "name": "resnet-mini",
            "configMapRef": {"name": "resnet-mini-model", "key": "model.onnx"},
        },
        "searchSpace": {"gpus": [{"type": "T4"}], "cpus": [2, 4], "batchSizes": [4, 8]},
        "budget": {"maxTrials": 4, "maxFailedTrials": 1},
    }
}


def _killed(name: str, reason: str, exit_code: int) -> dict[str, Any]:
    term = {"terminated": {"exitCode": exit_code, "reason": reason, "message": ""}}
    return {
        "metadata": {"name": name, "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"nodeName": "kwok-t4-0"},
        "status": {
            "phase": "Failed",
            "reason": reason,
            "containerStatuses": [
                {"name": "triton", "state": term},
                {"name": "trial-runner", "state": {"terminated": {"exitCode": 0}}},
            ],
        },
    }


class KillingCluster:
    """Every trial pod is killed as ``reason`` (exit ``exit_code``) once created."""

    def __init__(self, reason: str, exit_code: int) -> None:
        data = base64.b64encode(MODEL.read_bytes()).decode()
        self.configmaps = {"resnet-mini-model": {"binaryData": {"model.onnx": data}}}
        self.kill = (reason, exit_code)
        self.pods: dict[str, dict[str, Any]] = {}
        self.events: list[str] = []

    async def get_configmap(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self.configmaps.get(name)

    async def create_pod(self, namespace: str, body: dict[str, Any]) -> bool:
        name = body["metadata"]["name"]
        self.pods[name] = _killed(name, *self.kill)
        return True

    async def get_pod(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self.pods.get(name)

    async def patch_configmap(self, namespace: str, name: str, patch: dict[str, Any]) -> bool:
        return True

    async def event(self, ref: SearchRef, type_: str, reason: str, message: str) -> None:
        self.events.append(reason)


def _search(api: KillingCluster) -> tuple[list[TrialEntry], plan.Finish | None]:
    configs: list[dict[str, Value]] = [
        {"batchsize": b, "cpus": c, "gpumem": 0.0, "gpupower": 100, "gputype": "T4"}
        for c in (2, 4)
        for b in (4, 8)
    ]
    settings = ControllerSettings(poll_s=0.01, simulate=SimulationSettings(0.01))

    async def run() -> tuple[list[TrialEntry], plan.Finish | None]:
        kube = cast(Kube, api)
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
    api = KillingCluster("OOMKilled", 137)
    entries, verdict = _search(api)
    assert len(entries) == 4  # all of maxTrials ran: none used up maxFailedTrials (1)
    assert all(e.record.outcome.value == "infeasible" for e in entries)
    assert all(e.to_dict()["failure"] == "oom" for e in entries)
    assert not any(e.counts_as_failed for e in entries)
    assert all("OOMKilled (exit 137)" in e.record.reason for e in entries)
    assert verdict is not None and verdict.reason == "NoFeasibleConfiguration"
    assert "(4 infeasible, 0 failed)" in verdict.message
    assert api.events.count("TrialInfeasible") == 4 and "TrialFailed" not in api.events


def test_a_bare_sigkill_is_a_crash_and_uses_up_max_failed_trials() -> None:
    """Exit 137 without the kubelet's OOMKilled (a deadline, a preemption) is not memory."""
    api = KillingCluster("Error", 137)
    entries, verdict = _search(api)
    assert len(entries) == 2  # the second crash is one more than maxFailedTrials (1)
    assert all(e.record.outcome.value == "failed" and e.counts_as_failed for e in entries)
    assert [e.to_dict()["failure"] for e in entries] == ["crash", "crash"]  # was "oom"
    assert verdict is not None and verdict.reason == "TooManyFailedTrials"
