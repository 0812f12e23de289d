"""The whole mission on the real node real-0: nothing simulated but the GPU's timing.

The operator runs as a pod that ``helm install`` made (the locally built operator image, the
release's ServiceAccount and RBAC, hostNetwork on real-0); an InferenceConfigSearch of the
shipped ResNet-mini runs real trial pods there (CPU Triton 2.51 with the simulated-GPU
onnxruntime backend, the falcon-trial runner, the busybox init container); the search ends
Succeeded with a recommendation, every trial measured by the runner and cross-checked against
Triton's counters, and a batch-size change runs on the first trial's pod, reloaded through
Triton's repository API by the operator pod. Run with ``-s`` to see the pods' phases, a runner
report, the recorded request counts and the recommendation.
"""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from falcon_e2e.cluster import REPO, Cluster, wait_for
from falcon_e2e.mission import (
    NODE_SELECTOR,
    TRITON_IMAGE,
    PodWatcher,
    diagnostics,
    import_images,
    log,
    operator_values,
)
from falcon_e2e.operator import (
    create_search,
    delete_searches,
    history_records,
    wait_search,
)
from falcon_e2e.realnode import NODE_NAME, namespace_annotations
from kubernetes import client

CHART = REPO / "charts" / "falcon-operator"
#: unique per run: the chart's cluster-scoped objects are named after the release
RELEASE = f"fo-mission-{uuid.uuid4().hex[:6]}"
SERVICE_ACCOUNT = f"{RELEASE}-falcon-operator"
SEARCH = "resnet-mini-real"
BATCHES = [1, 4, 8]


@pytest.fixture(scope="session")
def real_images(cluster: Cluster) -> dict[str, Path]:
    return import_images(cluster)


def search_body(model: str) -> dict[str, Any]:
    return {
        "apiVersion": "autoconfig.falcon.io/v1alpha1",
        "kind": "InferenceConfigSearch",
        "metadata": {"name": SEARCH},
        "spec": {
            "model": {
                "name": "resnet-mini",
                "configMapRef": {"name": model, "key": "model.onnx"},
                "tritonImage": TRITON_IMAGE,
            },
            "searchSpace": {
                "gpus": [{"type": "T4", "nodeSelector": dict(NODE_SELECTOR)}],
                "cpus": [1],
                "batchSizes": BATCHES,
                "powerLimits": [100],
                "hostMemoryGiB": 1,
            },
            "budget": {
                "maxTrials": len(BATCHES),
                "maxFailedTrials": 0,
                "maxParallelTrials": 1,
                "pendingTimeoutSeconds": 120,
                "readyTimeoutSeconds": 240,  # the image's first start on a busy 2-core host
                "warmupSeconds": 1,
                "measurementSeconds": 1,
                "windows": 2,
                "reusePods": True,
            },
            "algorithm": {"name": "falcon", "seed": 0},
            "output": {"mode": "ConfigMap"},
        },
    }


def _operator_pod(core: client.CoreV1Api, namespace: str) -> client.V1Pod | None:
    pods = core.list_namespaced_pod(
        namespace, label_selector=f"app.kubernetes.io/instance={RELEASE}"
    ).items
    for pod in pods:
        ready = any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])
        if pod.status.phase == "Running" and ready:
            return pod
    return None


@pytest.fixture
def operator_release(
    cluster: Cluster,
    core: client.CoreV1Api,
    custom: client.CustomObjectsApi,
    namespace: str,
    real_images: dict[str, Path],
    tmp_path: Path,
) -> Iterator[tuple[client.V1Pod, dict[str, Any]]]:
    """The chart installed into the test's namespace: the operator pod (Running and Ready) and
    the chart values it was installed with."""
    core.patch_namespace(namespace, {"metadata": {"annotations": namespace_annotations()}})
    chart_values = operator_values(cluster, namespace)
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump(chart_values))
    t0 = time.monotonic()
    cluster.tool("helm", "install", RELEASE, str(CHART), "-n", namespace, "-f", str(values))
    try:
        pod = wait_for(
            lambda: _operator_pod(core, namespace),
            timeout=240,
            interval=1,
            what="the operator pod Running and Ready",
        )
        log(f"operator pod {pod.metadata.name} Running+Ready in {time.monotonic() - t0:.1f} s")
        yield pod, chart_values
    except BaseException:
        log("operator pod not ready:\n" + diagnostics(cluster, namespace))
        raise
    finally:
        if _operator_pod(core, namespace) is not None:
            delete_searches(custom, namespace)  # the operator releases their finalizers
        cluster.tool("helm", "uninstall", RELEASE, "-n", namespace)
        cluster.tool("kubectl", "delete", "clusterrole,clusterrolebinding", "-l",
            f"app.kubernetes.io/instance={RELEASE}", "--ignore-not-found")  # fmt: skip


def _operator_log(cluster: Cluster, namespace: str, pod: str) -> str:
    return cluster.tool("kubectl", "logs", "-n", namespace, pod)


def _events(core: client.CoreV1Api, namespace: str) -> list[client.CoreV1Event]:
    events = core.list_namespaced_event(
        namespace, field_selector=f"involvedObject.name={SEARCH}"
    ).items
    return sorted(events, key=lambda e: str(e.last_timestamp or e.event_time or ""))


def _check_operator_pod(pod: client.V1Pod, log_text: str) -> None:
    assert pod.spec.node_name == NODE_NAME
    assert pod.spec.service_account_name == SERVICE_ACCOUNT
    assert pod.spec.host_network is True
    (status,) = pod.status.container_statuses
    assert status.ready and status.restart_count == 0, status
    assert status.image.endswith("falcon-operator:0.1.0")
    # readiness (/metrics) passed; liveness (kopf's /healthz) has not restarted it
    probes = pod.spec.containers[0]
    assert probes.readiness_probe.http_get.path == "/metrics"
    assert probes.liveness_probe.http_get.path == "/healthz"
    assert "Forbidden" not in log_text and " 403 " not in log_text


def _check_operator_endpoints(values: dict[str, Any]) -> None:
    """What the probes see, from the host (the pod shares its network): 200 on both."""
    port, live = values["metrics"]["port"], values["liveness"]["port"]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
        assert resp.status == 200 and b"falcon_" in resp.read()
    with urllib.request.urlopen(f"http://127.0.0.1:{live}/healthz", timeout=10) as resp:
        assert resp.status == 200


def _check_trials(records: list[dict[str, Any]], reports: dict[str, str]) -> dict[str, Any]:
    """Every trial ok and measured; both request counts agree; one runner report returned."""
    assert len(records) == len(BATCHES), records
    assert sorted(r["config"]["batchsize"] for r in records) == BATCHES
    shown: dict[str, Any] = {}
    for r in records:
        m = r["metrics"]
        assert r["outcome"] == "ok" and r["failure"] == "", r
        assert r["node"] == NODE_NAME, r
        assert m["rps"] > 0 and m["p99_ms"] > 0 and m["p50_ms"] <= m["p99_ms"], m
        runner, triton = m["runner_requests"], m["triton_requests"]
        log(
            f"trial {r['name']} batch {r['config']['batchsize']} pod {r['pod']} "
            f"reused={r['reused']}: {m['rps']:.1f} req/s, p99 {m['p99_ms']:.1f} ms; "
            f"requests: runner {runner:.0f}, Triton delta {triton:.0f}; "
            f"Triton's average batch {m['avg_batch_size']:.2f}"
        )
        # Triton counts every request the runner saw succeed; it may count more only where the
        # runner gave up on a request (failed or unfinished) that the server still completed
        assert triton >= runner > 0, m
        # the batches Triton formed fit the configuration's max_batch_size: on a reused pod,
        # proof that the repository API reloaded the model with the new batch size
        assert 1.0 <= m["avg_batch_size"] <= r["config"]["batchsize"], m
        report = reports.get(r["pod"]) if not r["reused"] else None
        if report is not None:
            totals = json.loads(report)["totals"]
            assert totals["succeeded"] == runner, (totals, m)
            assert triton <= totals["succeeded"] + totals["failed"] + totals["unfinished"], totals
            shown = json.loads(report)
        else:  # the operator drove this load itself: the same two sources, an in-process runner
            assert triton - runner <= 0.01 * runner + 2, m
    return shown


def test_real_mission(
    cluster: Cluster,
    core: client.CoreV1Api,
    custom: client.CustomObjectsApi,
    namespace: str,
    model: str,
    operator_release: tuple[client.V1Pod, dict[str, Any]],
) -> None:
    t0 = time.monotonic()
    op_pod, chart_values = operator_release
    op = op_pod.metadata.name
    try:
        with PodWatcher(core, namespace) as watcher:
            create_search(custom, namespace, search_body(model))
            wait_for(
                lambda: (
                    f"search {namespace}/{SEARCH}: TrialStarted"
                    in _operator_log(cluster, namespace, op)
                ),
                timeout=60,
                what="the operator's log line about the search's first trial",
            )
            obj = wait_search(custom, namespace, SEARCH, timeout=900)
            status = obj["status"]
            assert status["phase"] == "Succeeded", status.get("message")
            time.sleep(1)  # the watcher's last look
        records = history_records(core, namespace, SEARCH)
        report = _check_trials(records, watcher.reports)
        assert report, f"no runner report among {sorted(watcher.reports)}"
        log("one trial runner's report (its termination message):\n" + json.dumps(report))

        reused = [r for r in records if r["reused"]]
        assert reused, "no trial reused a pod"
        first = records[0]
        assert all(r["pod"] == first["pod"] for r in reused), records
        events = _events(core, namespace)
        for e in events:
            log(f"event {e.type} {e.reason}: {e.message}")
        assert any(e.reason == "PodReused" for e in events)

        rec = status["recommendation"]
        best = status["best"]
        log(f"best: {json.dumps(best)}")
        pbtxt = status["recommendedModelConfig"]["data"]["config.pbtxt"]
        selector = rec["spec"]["template"]["spec"]["nodeSelector"]
        log(f"recommendation: Deployment {rec['metadata']['name']}, nodeSelector {selector}, "
            f"model config {pbtxt!r}")  # fmt: skip
        assert rec["kind"] == "Deployment"
        assert status["outputRef"].startswith("ConfigMap/")

        log_text = _operator_log(cluster, namespace, op)
        pod = core.read_namespaced_pod(op, namespace)
        _check_operator_pod(pod, log_text)
        _check_operator_endpoints(chart_values)
        lines = [ln for ln in log_text.splitlines() if f"search {namespace}/{SEARCH}" in ln]
        log("operator log lines about the search (kubectl logs):\n" + "\n".join(lines))
        assert f"search {namespace}/{SEARCH}: PodReused: " in log_text
        assert f"search {namespace}/{SEARCH}: Succeeded" in log_text
        phases = [f"{t:6.1f}s {name}: {text}" for t, name, text in watcher.history]
        log("pod phases as they changed:\n" + "\n".join(phases))
    except BaseException:
        log("FAILED; operator log:\n" + _operator_log(cluster, namespace, op)[-6000:])
        log(diagnostics(cluster, namespace))
        raise
    log(f"mission done in {time.monotonic() - t0:.1f} s")
