"""A namespace whose ResourceQuota allows no pod: the API server refuses every trial pod (403
Forbidden, "exceeded quota"), and the search ends Failed -- with a condition naming the quota --
within one pending timeout, instead of retrying the refused pod forever.
"""

from __future__ import annotations

from datetime import datetime

from falcon_e2e.operator import (
    OperatorProcess,
    condition,
    create_search,
    history_records,
    trial_pods,
    wait_search,
)
from kubernetes import client

PENDING_TIMEOUT_S = 20
QUOTA = "no-pods-at-all"


def test_a_quota_of_zero_pods_fails_the_search_naming_the_quota(
    core: client.CoreV1Api,
    custom: client.CustomObjectsApi,
    namespace: str,
    model: str,
    operator: OperatorProcess,
) -> None:
    quota = client.V1ResourceQuota(
        metadata=client.V1ObjectMeta(name=QUOTA),
        spec=client.V1ResourceQuotaSpec(hard={"pods": "0"}),
    )
    core.create_namespaced_resource_quota(namespace, quota)
    body = {
        "apiVersion": "autoconfig.falcon.io/v1alpha1",
        "kind": "InferenceConfigSearch",
        "metadata": {"name": "quota"},
        "spec": {
            "model": {
                "name": "resnet-mini",
                "configMapRef": {"name": model, "key": "model.onnx"},
            },
            "searchSpace": {"gpus": [{"type": "T4"}], "cpus": [2, 4], "batchSizes": [1, 4]},
            "budget": {
                "maxTrials": 4,
                "maxParallelTrials": 2,
                "pendingTimeoutSeconds": PENDING_TIMEOUT_S,
                "readyTimeoutSeconds": 30,
                "measurementSeconds": 1,
                "warmupSeconds": 0.5,
            },
        },
    }
    create_search(custom, namespace, body)
    obj = wait_search(custom, namespace, "quota", timeout=180)
    status = obj["status"]
    assert status["phase"] == "Failed", status
    failed = condition(obj, "Failed")
    assert failed["status"] == "True" and failed["reason"] == "Forbidden", failed
    assert "exceeded quota" in failed["message"] and QUOTA in failed["message"], failed
    assert condition(obj, "Ready")["status"] == "False"
    assert condition(obj, "SpecValid")["status"] == "True"  # the spec itself is fine
    # within one pending timeout of the loop's start (after the model was read and analysed)
    started = datetime.fromisoformat(status["startedAt"].replace("Z", "+00:00"))
    finished = datetime.fromisoformat(status["finishedAt"].replace("Z", "+00:00"))
    assert (finished - started).total_seconds() < PENDING_TIMEOUT_S, status
    assert trial_pods(core, namespace, "quota") == []
    assert history_records(core, namespace, "quota") == []  # nothing was measured
    events = core.list_namespaced_event(namespace).items
    failures = [e for e in events if e.reason == "SearchFailed"]
    assert failures and QUOTA in failures[0].message
