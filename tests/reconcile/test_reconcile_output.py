"""The end of a search (reconcile/finish.py, reconcile/output.py) through the real run_search on
a fake API server: the recommendation in the status and written per spec.output.mode, the trial
pods deleted, the conditions and the event; a recommendation that cannot be written fails the
search (OutputFailed) with the recommendation still in the status."""

from __future__ import annotations

import asyncio
import functools
import math
from typing import Any

import pytest
import yaml
from fake_kube import FakeKube, Never, search_body

from falcon_operator.core.errors import PermanentError
from falcon_operator.reconcile import search
from falcon_operator.reconcile.plan import Finish
from falcon_operator.reconcile.prepare import prepare, shipped_knowledge
from falcon_operator.reconcile.settings import ControllerSettings
from falcon_operator.spec.constants import (
    ACCEPT_FORCE_ANNOTATION,
    ACCEPT_FROM_ANNOTATION,
    CREATED_BY_ANNOTATION,
)
from falcon_operator.trials.simulated import SimulationSettings

SETTINGS = ControllerSettings(poll_s=0.02, simulate=SimulationSettings(0.05))


@pytest.fixture(autouse=True)
def _paper_knowledge(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = functools.partial(prepare, knowledge=lambda _: shipped_knowledge())
    monkeypatch.setattr(search, "prepare", fast)


def _search(
    api: FakeKube, output: dict[str, Any], *, objective: dict[str, Any] | None = None
) -> Finish | None:
    body = search_body(budget={"maxTrials": 3, "maxParallelTrials": 2})
    body["spec"]["output"] = output
    if objective is not None:
        body["spec"]["objective"] = objective
    run = search.run_search(api.kube, SETTINGS, body, stop=Never())
    return asyncio.run(asyncio.wait_for(run, 60))


def _condition(status: dict[str, Any], type_: str) -> dict[str, Any]:
    return next(c for c in status["conditions"] if c["type"] == type_)


def test_status_mode_puts_the_recommendation_in_the_status_only() -> None:
    api = FakeKube()
    fin = _search(api, {"mode": "Status"})
    assert fin is not None and fin.phase == "Succeeded"
    status = api.status["resnet-mini"]
    deployment = status["recommendation"]
    assert deployment["kind"] == "Deployment" and deployment["metadata"]["name"] == "resnet-mini"
    assert status["recommendedModelConfig"]["kind"] == "ConfigMap"
    assert "outputRef" not in status and api.applied == []
    assert api.pods == {}  # every trial pod deleted at the end
    assert _condition(status, "Ready")["reason"] == "RecommendationReady"
    assert _condition(status, "Failed")["status"] == "False"
    assert api.reasons()[-1] == "SearchSucceeded"


def test_configmap_mode_writes_both_manifests_owned_by_the_search() -> None:
    api = FakeKube()
    fin = _search(api, {"mode": "ConfigMap"})
    assert fin is not None and fin.phase == "Succeeded"
    assert api.status["resnet-mini"]["outputRef"] == "ConfigMap/resnet-mini-recommendation"
    (cm,) = api.applied
    assert cm["metadata"]["ownerReferences"][0]["uid"] == "uid-resnet-mini"
    docs = list(yaml.safe_load_all(cm["data"]["manifests.yaml"]))
    assert [d["kind"] for d in docs] == ["ConfigMap", "Deployment"]
    assert docs[1] == api.status["resnet-mini"]["recommendation"]


def test_apply_mode_applies_the_model_config_then_the_deployment_not_owned() -> None:
    api = FakeKube()
    fin = _search(api, {"mode": "Apply", "deploymentName": "serving", "replicas": 3})
    assert fin is not None and fin.phase == "Succeeded"
    assert [o["kind"] for o in api.applied] == ["ConfigMap", "Deployment"]
    deployment = api.applied[1]
    assert deployment["metadata"]["name"] == "serving" and deployment["spec"]["replicas"] == 3
    assert "ownerReferences" not in deployment["metadata"]  # deleting the search keeps it
    assert api.status["resnet-mini"]["outputRef"] == "Deployment/serving"
    # both created by this search, marked as such, never forced
    for obj in api.applied:
        assert obj["metadata"]["annotations"][CREATED_BY_ANNOTATION] == "resnet-mini"
    assert api.forced == [False, False]


def _foreign(api: FakeKube, name: str, annotations: dict[str, str]) -> None:
    """A Deployment someone else made (a GitOps tool's, say), with the same name."""
    api.deployments[name] = {
        "kind": "Deployment",
        "metadata": {"name": name, "annotations": annotations},
        "spec": {"selector": {"matchLabels": {"app.kubernetes.io/name": name}}},
    }


def test_apply_mode_refuses_a_deployment_it_did_not_create() -> None:
    api = FakeKube()
    _foreign(api, "serving", {})
    fin = _search(api, {"mode": "Apply", "deploymentName": "serving"})
    assert fin is not None and (fin.phase, fin.reason) == ("Failed", "DeploymentNotOwned")
    assert api.applied == [] and api.deployments["serving"]["metadata"]["annotations"] == {}
    failed = _condition(api.status["resnet-mini"], "Failed")
    assert failed["reason"] == "DeploymentNotOwned"
    # names the Deployment and the way to opt in
    assert "Deployment team-a/serving exists" in failed["message"]
    assert f"annotate deployment serving {ACCEPT_FROM_ANNOTATION}=resnet-mini" in failed["message"]


def test_a_foreign_model_config_configmap_is_refused_too() -> None:
    api = FakeKube()
    api.configmaps["serving-model-config"] = {"metadata": {"name": "serving-model-config"}}
    fin = _search(api, {"mode": "Apply", "deploymentName": "serving"})
    assert fin is not None and fin.reason == "DeploymentNotOwned" and api.applied == []
    assert "ConfigMap team-a/serving-model-config exists" in fin.message


def test_apply_mode_updates_an_opted_in_deployment_without_forcing() -> None:
    api = FakeKube()
    _foreign(api, "serving", {ACCEPT_FROM_ANNOTATION: "other, resnet-mini"})
    fin = _search(api, {"mode": "Apply", "deploymentName": "serving"})
    assert fin is not None and fin.phase == "Succeeded"
    assert [o["kind"] for o in api.applied] == ["ConfigMap", "Deployment"]
    assert api.forced == [False, False]
    # not marked as the operator's own: removing the opt-in takes the right back
    assert CREATED_BY_ANNOTATION not in (api.applied[1]["metadata"].get("annotations") or {})


def test_the_force_opt_in_forces_the_apply() -> None:
    api = FakeKube()
    _foreign(api, "serving", {ACCEPT_FROM_ANNOTATION: "*", ACCEPT_FORCE_ANNOTATION: "true"})
    fin = _search(api, {"mode": "Apply", "deploymentName": "serving"})
    assert fin is not None and fin.phase == "Succeeded" and api.forced == [True, True]


def test_the_force_annotation_alone_opts_nothing_in() -> None:
    api = FakeKube()
    _foreign(api, "serving", {ACCEPT_FORCE_ANNOTATION: "true"})
    fin = _search(api, {"mode": "Apply", "deploymentName": "serving"})
    assert fin is not None and fin.reason == "DeploymentNotOwned"


def test_a_second_run_of_the_same_search_updates_what_it_created() -> None:
    api = FakeKube()
    assert _search(api, {"mode": "Apply", "deploymentName": "serving"}).phase == "Succeeded"
    api.status.clear()
    api.applied.clear()
    fin = _search(api, {"mode": "Apply", "deploymentName": "serving"})
    assert fin is not None and fin.phase == "Succeeded" and len(api.applied) == 2


class ApplyForbidden(FakeKube):
    async def apply(self, body: dict[str, Any], *, force: bool = False) -> None:
        raise PermanentError("apply Deployment: 403 forbidden", reason="Forbidden")


def test_a_recommendation_that_cannot_be_written_fails_the_search_but_stays_in_the_status() -> None:
    api = ApplyForbidden()
    fin = _search(api, {"mode": "Apply"})
    assert fin is not None and (fin.phase, fin.reason) == ("Failed", "OutputFailed")
    status = api.status["resnet-mini"]
    assert status["phase"] == "Failed" and status["recommendation"]["kind"] == "Deployment"
    failed = _condition(status, "Failed")
    assert failed["reason"] == "OutputFailed" and "403 forbidden" in failed["message"]
    assert _condition(status, "Ready")["status"] == "False"
    assert api.reasons()[-1] == "SearchFailed"


def test_with_a_throughput_target_the_deployment_has_the_replicas_that_serve_it() -> None:
    api = FakeKube()
    objective = {"metric": "CostAtTargetThroughput", "targetRequestsPerSecond": 20000.0,
                 "sloP99Ms": 50.0}  # fmt: skip
    fin = _search(api, {"mode": "Apply", "replicas": 1}, objective=objective)
    assert fin is not None and fin.phase == "Succeeded"
    best = api.status["resnet-mini"]["best"]
    assert 0 < best["rps"] < 20000.0  # one replica cannot serve the target
    replicas = api.applied[1]["spec"]["replicas"]
    assert replicas == math.ceil(20000.0 / best["rps"]) > 1  # not spec.output.replicas


class ApplyConflicts(FakeKube):
    async def apply(self, body: dict[str, Any], *, force: bool = False) -> None:
        if body["kind"] == "Deployment" and not force:
            raise PermanentError(
                'apply Deployment: 409 Apply failed with 1 conflict: conflict with "gitops-tool":'
                " .spec.replicas",
                reason="ApplyConflict",
            )
        await super().apply(body, force=force)


def test_a_field_another_manager_owns_fails_the_search_with_the_way_out() -> None:
    api = ApplyConflicts()
    _foreign(api, "serving", {ACCEPT_FROM_ANNOTATION: "resnet-mini"})
    fin = _search(api, {"mode": "Apply", "deploymentName": "serving"})
    assert fin is not None and (fin.phase, fin.reason) == ("Failed", "ApplyConflict")
    assert 'conflict with "gitops-tool": .spec.replicas' in fin.message
    assert f"{ACCEPT_FORCE_ANNOTATION}=true" in fin.message
