"""The shipped example search reaches Succeeded on the test cluster (simulated trials).

The operator runs as a subprocess (``falcon operator run --simulate-trials``): every trial pod
is scheduled by the real scheduler onto a KWOK GPU node, and once it is ready the operator
records the simulated fleet's measurement of its configuration -- the very numbers ``falcon
search --seed 0`` gives. The recommended Deployment must pass a server-side dry run.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.request

import yaml
from falcon_e2e.cluster import wait_for
from falcon_e2e.operator import (
    EXAMPLE,
    MODEL,
    OperatorProcess,
    condition,
    create_search,
    history,
    trial_pods,
    wait_search,
)
from kubernetes import client

from falcon_operator.core.catalog import load_catalog
from falcon_operator.core.objective import Objective
from falcon_operator.fleet.backend import FleetBackend
from falcon_operator.fleet.performance import FleetModel
from falcon_operator.fleet.workload import workload_from_onnx


def test_example_search_succeeds_with_a_valid_recommendation(
    api_client: client.ApiClient,
    core: client.CoreV1Api,
    custom: client.CustomObjectsApi,
    namespace: str,
    model: str,
    operator: OperatorProcess,
) -> None:
    body = yaml.safe_load(EXAMPLE.read_text())
    t0 = time.monotonic()
    create_search(custom, namespace, body)
    obj = wait_search(custom, namespace, "resnet-mini", timeout=180)
    elapsed = time.monotonic() - t0
    status = obj["status"]
    assert status["phase"] == "Succeeded", status.get("message")
    assert condition(obj, "Ready")["status"] == "True"
    assert condition(obj, "Failed")["status"] == "False"
    assert condition(obj, "Progressing")["reason"] == "BudgetExhausted"
    assert status["trials"]["done"] == 6 and status["trials"]["progress"] == "6/6"
    assert status["observedGeneration"] == obj["metadata"]["generation"]
    # one record per trial, in the history ConfigMap the status points to
    assert status["history"] == {"configMap": "resnet-mini-trials", "records": 6}
    records = [json.loads(v) for _, v in sorted(history(core, namespace, "resnet-mini").items())]
    assert [r["index"] for r in records] == list(range(6))
    configs = [json.dumps(r["config"], sort_keys=True) for r in records]
    assert len(set(configs)) == 6
    # each measured trial holds falcon search's measurement (seed 0, SLO 50 ms), no time scale
    catalog = load_catalog()
    fleet = FleetBackend(
        workload_from_onnx(MODEL)[0],
        FleetModel(catalog),
        objective=Objective.of(catalog, slo_p99_ms=50),
        seed=0,
    )
    measured = [r for r in records if r["outcome"] == "ok"]
    assert measured
    for r in measured:
        expected = fleet.measure(r["config"])
        assert r["metrics"]["rps"] == expected.rps
        assert r["metrics"]["p99_ms"] == expected.p99_ms
        assert "time_scale" not in r["metrics"]
    best = status["best"]
    assert (
        best["objective"] == max(r.get("objective", 0) for r in records)
        or abs(best["objective"] - max(r.get("objective", 0) for r in records))
        < 1e-3 * best["objective"]
    )
    # the recommendation: a Deployment of the best configuration that the API server accepts
    deployment = status["recommendation"]
    assert deployment["kind"] == "Deployment"
    annotations = deployment["metadata"]["annotations"]
    assert json.loads(annotations["autoconfig.falcon.io/configuration"]) == best["config"]
    apps = client.AppsV1Api(api_client)
    core.create_namespaced_config_map(namespace, status["recommendedModelConfig"], dry_run="All")
    created = apps.create_namespaced_deployment(namespace, deployment, dry_run="All")
    assert created.spec.template.spec.node_selector == {
        "nvidia.com/gpu.product": load_catalog().slice(best["gpu"]).gpu.product,
        "autoconfig.falcon.io/gpu-power-limit": str(best["config"]["gpupower"]),
    }
    pbtxt = status["recommendedModelConfig"]["data"]["config.pbtxt"]
    assert f"max_batch_size: {best['config']['batchsize']}" in pbtxt, pbtxt
    # output.mode ConfigMap
    out = core.read_namespaced_config_map("resnet-mini-recommendation", namespace)
    assert list(yaml.safe_load_all(out.data["manifests.yaml"]))[1]["kind"] == "Deployment"
    assert status["outputRef"] == "ConfigMap/resnet-mini-recommendation"
    # every trial pod is gone; events tell the story
    wait_for(lambda: not trial_pods(core, namespace, "resnet-mini"), timeout=30, what="no pods")
    reasons = {e.reason for e in core.list_namespaced_event(namespace).items}
    assert {"TrialStarted", "TrialFinished", "SearchSucceeded"} <= reasons
    # the search's own metadata was never written (spec, labels, annotations)
    assert obj["metadata"].get("labels") is None
    assert "kopf.zalando.org/last-handled-configuration" not in (
        obj["metadata"].get("annotations") or {}
    )
    # the operator's own Prometheus metrics
    url = f"http://127.0.0.1:{operator.metrics_port}/metrics"
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    trials = sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("falcon_trials_total{")
    )
    assert trials == 6
    assert 'falcon_searches{phase="Succeeded"} 1.0' in text
    assert f'falcon_best_objective{{namespace="{namespace}",search="resnet-mini"}}' in text
    assert "falcon_suggestion_seconds_count 6.0" in text
    usage = operator.sample()
    print(
        f"\n[e2e] example search: 6 trials in {elapsed:.1f} s; best {best['gpu']} "
        f"{best['objective']:.0f} req/s per $/h; operator CPU {usage.cpu_s:.1f} s, "
        f"peak RSS {usage.peak_rss_mb:.0f} MB",
        file=sys.stderr,
    )
