"""Trial outcomes on the test cluster: unschedulable and OOM → infeasible (not counted against
maxFailedTrials), crashes → failed (and too many of them fail the search), batch-size-only
changes reuse the running pod.
"""

from __future__ import annotations

import urllib.request
from typing import Any

from falcon_e2e.operator import (
    OperatorProcess,
    condition,
    create_search,
    history_records,
    search_manifest,
    wait_search,
)
from kubernetes import client

FAST = {
    "measurementSeconds": 1,
    "warmupSeconds": 0.5,
    "windows": 3,
    "pendingTimeoutSeconds": 20,
    "readyTimeoutSeconds": 30,
}


def _search(
    name: str, space: dict[str, Any], budget: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return search_manifest(name, {"searchSpace": space, "budget": FAST | budget, **extra})


def test_configuration_without_a_pool_is_infeasible_and_the_search_goes_on(
    core: client.CoreV1Api,
    custom: client.CustomObjectsApi,
    namespace: str,
    model: str,
    operator: OperatorProcess,
) -> None:
    # T4 comes capped at 50 % (pool t4-pl50); no V100 pool is: V100@50 can never be scheduled
    space = {
        "gpus": [{"type": "T4"}, {"type": "V100"}],
        "cpus": [2],
        "batchSizes": [4],
        "powerLimits": [50],
    }
    create_search(custom, namespace, _search("nopool", space, {"maxTrials": 2}))
    obj = wait_search(custom, namespace, "nopool")
    assert obj["status"]["phase"] == "Succeeded", obj["status"].get("message")
    by_gpu = {r["config"]["gputype"]: r for r in history_records(core, namespace, "nopool")}
    assert by_gpu["V100"]["outcome"] == "infeasible"
    assert "node affinity/selector" in by_gpu["V100"]["reason"]  # the scheduler's own words
    assert by_gpu["T4"]["outcome"] == "ok"
    assert obj["status"]["best"]["gpu"] == "T4"
    assert obj["status"]["trials"]["infeasible"] == 1
    reasons = {e.reason for e in core.list_namespaced_event(namespace).items}
    assert "TrialInfeasible" in reasons


def test_oom_trials_are_infeasible_and_do_not_use_up_the_failure_budget(
    core: client.CoreV1Api,
    custom: client.CustomObjectsApi,
    namespace: str,
    model: str,
    operator: OperatorProcess,
) -> None:
    # ResNet-mini needs about 0.35 GB at batch 1: a 0.25 GB MPS limit runs out of memory
    space = {"gpus": [{"type": "T4"}], "cpus": [2, 4], "batchSizes": [1, 4], "gpuMemoryGB": [0.25]}
    # maxFailedTrials 0: a single counted failure would end the search at once (as OOM did
    # before one policy); infeasible trials go on until every configuration was tried
    create_search(custom, namespace, _search("oom", space, {"maxTrials": 4, "maxFailedTrials": 0}))
    obj = wait_search(custom, namespace, "oom")
    assert obj["status"]["phase"] == "Failed"
    failed = condition(obj, "Failed")
    assert failed["status"] == "True" and failed["reason"] == "NoFeasibleConfiguration"
    assert "(4 infeasible, 0 failed)" in failed["message"]
    records = history_records(core, namespace, "oom")
    assert len(records) == 4
    assert all(r["outcome"] == "infeasible" and r["failure"] == "oom" for r in records)
    assert all("OOMKilled" in r["reason"] for r in records)
    assert obj["status"]["trials"]["infeasible"] == 4
    assert obj["status"]["trials"]["failedCounted"] == 0
    assert condition(obj, "Ready")["status"] == "False"
    assert "recommendation" not in obj["status"]
    reasons = {e.reason for e in core.list_namespaced_event(namespace).items}
    assert "TrialInfeasible" in reasons and "TrialFailed" not in reasons


def test_a_crashing_trial_is_failed_and_the_search_still_succeeds(
    core: client.CoreV1Api,
    custom: client.CustomObjectsApi,
    namespace: str,
    model: str,
    operator: OperatorProcess,
) -> None:
    space = {"gpus": [{"type": "T4"}], "cpus": [2, 4], "batchSizes": [4]}
    body = _search("crash", space, {"maxTrials": 2, "maxFailedTrials": 1})
    body["metadata"]["annotations"] = {"autoconfig.falcon.io/simulated-fault": "crash@0"}
    create_search(custom, namespace, body)
    obj = wait_search(custom, namespace, "crash")
    assert obj["status"]["phase"] == "Succeeded", obj["status"].get("message")
    first, second = history_records(core, namespace, "crash")
    assert first["outcome"] == "failed" and first["failure"] == "crash"
    assert "exit 1" in first["reason"]
    assert second["outcome"] == "ok"
    assert obj["status"]["trials"]["failed"] == 1


def test_batch_size_changes_reuse_the_running_pod(
    core: client.CoreV1Api,
    custom: client.CustomObjectsApi,
    namespace: str,
    model: str,
    operator: OperatorProcess,
) -> None:
    space = {"gpus": [{"type": "T4"}], "cpus": [4], "batchSizes": [1, 4, 8]}
    create_search(custom, namespace, _search("reuse", space, {"maxTrials": 3}))
    obj = wait_search(custom, namespace, "reuse")
    assert obj["status"]["phase"] == "Succeeded", obj["status"].get("message")
    records = history_records(core, namespace, "reuse")
    assert len(records) == 3 and all(r["outcome"] == "ok" for r in records)
    reused = [r for r in records if r["reused"]]
    assert reused, records
    assert all(r["pod"] == "reuse-t000" for r in reused)  # one pod for every batch size
    assert obj["status"]["reuse"]["trials"] == len(reused)
    # each reuse saves the start-up its pod's first trial waited for (create to Ready on KWOK)
    assert all(r["savedSeconds"] > 0 for r in reused), reused
    saved = obj["status"]["reuse"]["savedSeconds"]
    assert abs(saved - sum(r["savedSeconds"] for r in reused)) < 0.01 * len(reused) + 0.01
    assert "PodReused" in {e.reason for e in core.list_namespaced_event(namespace).items}
    # the operator's counter of saved start-up time sums the reused trials' records
    url = f"http://127.0.0.1:{operator.metrics_port}/metrics"
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    counter = next(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("falcon_pod_reuse_saved_seconds_total ")
    )
    assert abs(counter - sum(r["savedSeconds"] for r in reused)) < 0.01 * len(reused)


def test_output_mode_apply_server_side_applies_the_deployment(
    api_client: client.ApiClient,
    core: client.CoreV1Api,
    custom: client.CustomObjectsApi,
    namespace: str,
    model: str,
    operator: OperatorProcess,
) -> None:
    space = {"gpus": [{"type": "T4"}], "cpus": [2], "batchSizes": [4]}
    output = {
        "mode": "Apply",
        "deploymentName": "resnet-serving",
        "replicas": 2,
        "labels": {"team": "vision"},
    }
    create_search(custom, namespace, _search("apply", space, {"maxTrials": 1}, output=output))
    obj = wait_search(custom, namespace, "apply")
    assert obj["status"]["phase"] == "Succeeded", obj["status"].get("message")
    assert obj["status"]["outputRef"] == "Deployment/resnet-serving"
    dep = client.AppsV1Api(api_client).read_namespaced_deployment("resnet-serving", namespace)
    assert dep.spec.replicas == 2 and dep.metadata.labels["team"] == "vision"
    assert {m.manager for m in dep.metadata.managed_fields} >= {"falcon-operator"}
    assert any(m.operation == "Apply" for m in dep.metadata.managed_fields)
    assert dep.metadata.owner_references is None  # outlives the search
    config = core.read_namespaced_config_map("resnet-serving-model-config", namespace)
    assert "max_batch_size: 4" in config.data["config.pbtxt"]
