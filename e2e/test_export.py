"""``falcon export``: a finished search's recommendation, printed and accepted by the API server.

One small search (2 trials, output.mode Status) runs to Succeeded with the operator in simulated
mode; ``falcon export`` prints its ConfigMap and Deployment as YAML and as JSON, and
``kubectl apply --dry-run=server`` accepts both; ``-o FILE`` writes the same YAML, and no file
when the export fails. A missing search and an unfinished one are one-line errors with exit
code 2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from falcon_e2e.cluster import Cluster
from falcon_e2e.operator import EXAMPLE, OperatorProcess, create_search, wait_search
from kubernetes import client

NAME = "resnet-mini-export"


def falcon_export(cluster: Cluster, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "falcon_operator.cli.main", "export", *args]
    cmd += ["--kubeconfig", str(cluster.kubeconfig)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


def dry_run_apply(cluster: Cluster, namespace: str, manifests: str) -> str:
    kubectl = str(cluster.binary("kubectl"))
    env = dict(os.environ, KUBECONFIG=str(cluster.kubeconfig))
    proc = subprocess.run(
        [kubectl, "apply", "--dry-run=server", "-n", namespace, "-f", "-"],
        input=manifests,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def assert_one_line_error(proc: subprocess.CompletedProcess[str], text: str) -> None:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("falcon: error: "), proc.stderr
    assert text in lines[0]


def test_export_prints_manifests_the_api_server_accepts(
    cluster: Cluster,
    custom: client.CustomObjectsApi,
    namespace: str,
    model: str,
    operator: OperatorProcess,
    tmp_path: Path,
) -> None:
    assert_one_line_error(
        falcon_export(cluster, NAME, "-n", namespace),
        f"InferenceConfigSearch {namespace}/{NAME} not found",
    )
    saved = tmp_path / "rec.yaml"
    failed = falcon_export(cluster, NAME, "-n", namespace, "-o", str(saved))
    assert failed.returncode == 2 and not saved.exists()  # a failed export writes no file
    body = yaml.safe_load(EXAMPLE.read_text())
    body["metadata"]["name"] = NAME
    body["spec"]["budget"]["maxTrials"] = 2
    body["spec"]["output"]["mode"] = "Status"
    create_search(custom, namespace, body)
    # a 2-trial search takes several seconds (warm-up and three 1 s windows per trial)
    assert_one_line_error(falcon_export(cluster, NAME, "-n", namespace), "has not finished yet")

    obj = wait_search(custom, namespace, NAME, timeout=120)
    assert obj["status"]["phase"] == "Succeeded", obj["status"].get("message")

    out = falcon_export(cluster, NAME, "-n", namespace)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"# recommendation of InferenceConfigSearch {namespace}/{NAME}")
    docs = [d for d in yaml.safe_load_all(out.stdout) if d is not None]
    assert [d["kind"] for d in docs] == ["ConfigMap", "Deployment"]
    configmap, deployment = docs
    assert deployment == obj["status"]["recommendation"]
    assert configmap == obj["status"]["recommendedModelConfig"]
    assert "max_batch_size" in configmap["data"]["config.pbtxt"]
    applied = dry_run_apply(cluster, namespace, out.stdout)
    assert f"configmap/{configmap['metadata']['name']} created (server dry run)" in applied
    assert f"deployment.apps/{NAME} created (server dry run)" in applied

    as_json = falcon_export(cluster, NAME, "-n", namespace, "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)["items"] == docs
    assert "deployment.apps" in dry_run_apply(cluster, namespace, as_json.stdout)

    written = falcon_export(cluster, NAME, "-n", namespace, "-o", str(saved))
    assert written.returncode == 0 and written.stdout == "", written.stderr
    assert saved.read_text() == out.stdout
