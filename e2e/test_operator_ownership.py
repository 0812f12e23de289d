"""output.mode Apply on the test cluster: the operator never takes over a Deployment it does not
own (reconcile/ownership.py, docs/security.md).

A foreign Deployment -- created by another field manager, as a GitOps tool would, with the very
selector the recommendation uses -- is left untouched and the search fails with a condition
naming it and the annotation that opts in. With the opt-in annotation the operator applies
without forcing: the fields the other manager owns are a conflict (ApplyConflict). With the
force opt-in as well, the recommendation is applied.
"""

from __future__ import annotations

from typing import Any

from falcon_e2e.cluster import wait_for
from falcon_e2e.operator import (
    GROUP,
    PLURAL,
    VERSION,
    OperatorProcess,
    condition,
    create_search,
    search_manifest,
    wait_search,
)
from kubernetes import client

ACCEPT_FROM = "autoconfig.falcon.io/accept-recommendation-from"
ACCEPT_FORCE = "autoconfig.falcon.io/accept-recommendation-force"
CREATED_BY = "autoconfig.falcon.io/created-by-search"
FAST = {"measurementSeconds": 1, "warmupSeconds": 0.5, "windows": 3, "maxTrials": 1}


def _search(name: str) -> dict[str, Any]:
    space = {"gpus": [{"type": "T4"}], "cpus": [2], "batchSizes": [4]}
    output = {"mode": "Apply", "deploymentName": "serving"}
    return search_manifest(name, {"searchSpace": space, "budget": FAST, "output": output})


def _foreign(apps: client.AppsV1Api, namespace: str) -> client.V1Deployment:
    """Production's Deployment, written by a GitOps tool: the recommendation's own selector."""
    labels = {"app.kubernetes.io/name": "serving"}
    body = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="serving", labels=labels),
        spec=client.V1DeploymentSpec(
            replicas=5,
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(
                    containers=[client.V1Container(name="triton", image="prod/triton:1")]
                ),
            ),
        ),
    )
    return apps.create_namespaced_deployment(namespace, body, field_manager="gitops-tool")


def _annotate(apps: client.AppsV1Api, namespace: str, annotations: dict[str, str]) -> None:
    apps.patch_namespaced_deployment(
        "serving", namespace, {"metadata": {"annotations": annotations}}, field_manager="admin"
    )


def test_apply_refuses_a_foreign_deployment_then_honours_the_opt_ins(
    api_client: client.ApiClient,
    custom: client.CustomObjectsApi,
    namespace: str,
    model: str,
    operator: OperatorProcess,
) -> None:
    apps = client.AppsV1Api(api_client)
    before = _foreign(apps, namespace)

    # 1. not created by the operator, no opt-in: refused, untouched
    create_search(custom, namespace, _search("takeover"))
    obj = wait_search(custom, namespace, "takeover", phases=("Failed",), timeout=120)
    failed = condition(obj, "Failed")
    assert failed["reason"] == "DeploymentNotOwned", failed
    assert f"Deployment {namespace}/serving exists" in failed["message"]
    assert f"annotate deployment serving {ACCEPT_FROM}=takeover" in failed["message"]
    assert obj["status"]["recommendation"]["kind"] == "Deployment"  # still in the status
    after = apps.read_namespaced_deployment("serving", namespace)
    # the spec as gitops-tool wrote it (the deployment controller writes the status only)
    assert after.metadata.generation == before.metadata.generation
    assert after.spec.replicas == 5 and CREATED_BY not in (after.metadata.annotations or {})
    assert "falcon-operator" not in {m.manager for m in after.metadata.managed_fields}

    # 2. opted in, not forced: the operator does not take the fields gitops-tool owns
    _annotate(apps, namespace, {ACCEPT_FROM: "other,optin"})
    create_search(custom, namespace, _search("optin"))
    obj = wait_search(custom, namespace, "optin", phases=("Failed",), timeout=120)
    failed = condition(obj, "Failed")
    assert failed["reason"] == "ApplyConflict", failed
    assert "gitops-tool" in failed["message"] and ACCEPT_FORCE in failed["message"]
    after = apps.read_namespaced_deployment("serving", namespace)
    assert after.spec.replicas == 5 and after.spec.template.spec.containers[0].image == (
        "prod/triton:1"
    )

    # 3. opted in with force: applied, the opted-in Deployment not marked as the operator's
    _annotate(apps, namespace, {ACCEPT_FROM: "forced", ACCEPT_FORCE: "true"})
    create_search(custom, namespace, _search("forced"))
    obj = wait_search(custom, namespace, "forced", timeout=120)
    assert obj["status"]["phase"] == "Succeeded", obj["status"].get("message")
    after = apps.read_namespaced_deployment("serving", namespace)
    assert after.spec.replicas == 1  # the recommendation's
    assert "falcon-operator" in {m.manager for m in after.metadata.managed_fields}
    assert CREATED_BY not in (after.metadata.annotations or {})


def test_apply_creates_then_updates_its_own_deployment(
    api_client: client.ApiClient,
    custom: client.CustomObjectsApi,
    namespace: str,
    model: str,
    operator: OperatorProcess,
) -> None:
    apps = client.AppsV1Api(api_client)
    create_search(custom, namespace, _search("mine"))
    obj = wait_search(custom, namespace, "mine", timeout=120)
    assert obj["status"]["phase"] == "Succeeded", obj["status"].get("message")
    dep = apps.read_namespaced_deployment("serving", namespace)
    assert dep.metadata.annotations[CREATED_BY] == "mine"
    # the same search again (deleted and created anew, same name): its own Deployment
    custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "mine")
    wait_for(
        lambda: "mine" not in {o["metadata"]["name"] for o in
                               custom.list_namespaced_custom_object(GROUP, VERSION, namespace,
                                                                    PLURAL)["items"]},
        timeout=60,
        what="search mine deleted",
    )  # fmt: skip
    create_search(custom, namespace, _search("mine"))
    obj = wait_search(custom, namespace, "mine", timeout=120)
    assert obj["status"]["phase"] == "Succeeded", obj["status"].get("message")
    dep = apps.read_namespaced_deployment("serving", namespace)
    assert dep.metadata.annotations[CREATED_BY] == "mine"
    assert obj["status"]["outputRef"] == "Deployment/serving"
