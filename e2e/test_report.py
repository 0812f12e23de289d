"""A search explained, on the test cluster: the example search (operator, simulated trials)
ends with ``status.best.why``, events and printer columns print the same numbers, ``falcon
report`` writes its page with every plot, and a search whose SLO nothing meets says so with
the lowest p99 measured and where."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml
from falcon_e2e.cluster import Cluster
from falcon_e2e.operator import EXAMPLE, OperatorProcess, create_search, wait_search
from kubernetes import client

from falcon_operator.core.numbers import plain


def _events(core: client.CoreV1Api, namespace: str, reason: str) -> list[str]:
    items = core.list_namespaced_event(namespace).items
    return [str(e.message) for e in items if e.reason == reason]


def test_the_example_search_says_why_and_gets_its_report(
    cluster: Cluster,
    core: client.CoreV1Api,
    custom: client.CustomObjectsApi,
    namespace: str,
    model: str,
    operator: OperatorProcess,
    tmp_path: Path,
) -> None:
    body = yaml.safe_load(EXAMPLE.read_text())
    body["spec"]["output"]["mode"] = "Status"
    create_search(custom, namespace, body)
    obj = wait_search(custom, namespace, "resnet-mini", timeout=180)
    status = obj["status"]
    assert status["phase"] == "Succeeded", status.get("message")
    best = status["best"]
    why = best["why"]
    print(f"status.best.why: {why}")
    assert re.match(rf"{best['gpu']} b\d+: best measured of \d+ ok trials", why), why
    succeeded = _events(core, namespace, "SearchSucceeded")
    assert succeeded and succeeded[0].endswith(f"; why: {why}"), succeeded

    # one number format: the printer column, the status and the events agree
    kubectl = str(cluster.binary("kubectl"))
    env = dict(os.environ, KUBECONFIG=str(cluster.kubeconfig))
    cmd = [kubectl, "get", "ics", "-n", namespace, "resnet-mini"]
    table = subprocess.run(
        cmd, env=env, capture_output=True, text=True, timeout=30, check=True
    ).stdout
    print(table)
    assert plain(best["objective"]) in table.split()
    finished = _events(core, namespace, "TrialFinished")
    assert any(f"{plain(best['objective'])} req/s per $/h" in m for m in finished), finished
    assert not any("e+0" in m for m in finished)

    out = tmp_path / "report"
    proc = subprocess.run(
        [sys.executable, "-m", "falcon_operator.cli.main", "report", "resnet-mini", "-n",
         namespace, "--out", str(out), "--kubeconfig", str(cluster.kubeconfig)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    print(proc.stdout)
    assert f"why: {why}" in proc.stdout
    page = (out / "index.html").read_text()
    images = re.findall(r'<img src="([^"]+)"', page)
    assert len(images) == 5
    assert all((out / name).stat().st_size > 1000 for name in images)


def test_an_slo_nothing_meets_says_so_with_the_lowest_p99(
    custom: client.CustomObjectsApi,
    namespace: str,
    model: str,
    operator: OperatorProcess,
) -> None:
    body = yaml.safe_load(EXAMPLE.read_text())
    body["metadata"]["name"] = "too-fast"
    body["spec"]["objective"]["sloP99Ms"] = 0.01
    body["spec"]["budget"]["maxTrials"] = 2
    create_search(custom, namespace, body)
    obj = wait_search(custom, namespace, "too-fast", timeout=120)
    status = obj["status"]
    assert status["phase"] == "Failed"
    message = status["message"]
    print(message)
    assert re.match(
        r"no configuration meets the 0\.01 ms p99 SLO: the lowest p99 measured is [\d.]+ ms "
        r"\(too-fast-t00\d, \S+ b\d+ .*\) over 2 trials \(0 infeasible, 2 failed\)$",
        message,
    ), message
