"""GitOps: a search applied from a file and re-applied unchanged does not restart, and the
operator owns nothing a GitOps diff compares (spec, labels, annotations)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import yaml
from falcon_e2e.cluster import Cluster
from falcon_e2e.operator import (
    EXAMPLE,
    GROUP,
    PLURAL,
    VERSION,
    OperatorProcess,
    history,
    wait_search,
)
from kubernetes import client


def test_reapplying_an_unchanged_search_changes_nothing(
    cluster: Cluster,
    core: client.CoreV1Api,
    custom: client.CustomObjectsApi,
    namespace: str,
    model: str,
    operator: OperatorProcess,
    tmp_path: Path,
) -> None:
    body = yaml.safe_load(EXAMPLE.read_text())
    body["spec"]["budget"]["maxTrials"] = 2
    manifest = tmp_path / "search.yaml"
    manifest.write_text(yaml.safe_dump(body))
    cluster.tool("kubectl", "apply", "-n", namespace, "-f", str(manifest))  # as a GitOps tool would
    name = body["metadata"]["name"]
    before = wait_search(custom, namespace, name, timeout=180)
    assert before["status"]["phase"] == "Succeeded", before["status"].get("message")

    diff = subprocess.run(
        [str(cluster.binary("kubectl")), "diff", "-n", namespace, "-f", str(manifest)],
        env=dict(os.environ, KUBECONFIG=str(cluster.kubeconfig)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert diff.returncode == 0, diff.stdout + diff.stderr  # 0: no drift a GitOps tool would see
    cluster.tool("kubectl", "apply", "-n", namespace, "-f", str(manifest))
    time.sleep(3)  # give a (wrong) restart time to show
    after = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
    assert after["metadata"]["generation"] == before["metadata"]["generation"]
    assert after["status"]["phase"] == "Succeeded"
    assert after["status"]["trials"] == before["status"]["trials"]
    assert len(history(core, namespace, name)) == 2  # no trial was run again
    assert after["metadata"].get("labels") == before["metadata"].get("labels")
    # only the applier owns spec, labels and annotations; the operator owns status (and its
    # finalizer), nothing a GitOps diff shows
    for entry in after["metadata"]["managedFields"]:
        if entry["manager"].startswith("kubectl"):
            continue
        owned = entry.get("fieldsV1", {})
        meta = owned.get("f:metadata", {})
        assert "f:spec" not in owned, f"{entry['manager']} owns spec fields"
        for field in ("f:labels", "f:annotations"):
            assert field not in meta, f"{entry['manager']} owns metadata {field}: {meta[field]}"
