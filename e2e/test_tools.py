"""The pinned CLI tools run from the cache and talk to the cluster."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from falcon_e2e.cluster import Cluster, versions
from kubernetes import client


def _kubectl(cluster: Cluster, *args: str) -> str:
    return _run(str(cluster.binary("kubectl")), "--kubeconfig", str(cluster.kubeconfig), *args)


def _run(*cmd: str) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"{cmd} failed: {proc.stderr}"
    return proc.stdout


def test_binaries_come_from_the_version_keyed_cache(cluster: Cluster) -> None:
    v = versions()
    for name, key in [
        ("kube-apiserver", "KUBERNETES_VERSION"),
        ("kubectl", "KUBERNETES_VERSION"),
        ("etcd", "ETCD_VERSION"),
        ("kwokctl", "KWOK_VERSION"),
        ("helm", "HELM_VERSION"),
    ]:
        path = cluster.binary(name)
        assert path.is_file()
        assert path.parent.name == f"{name}-{v[key]}"


def test_kubectl_version_reports_client_and_server(cluster: Cluster) -> None:
    out = _kubectl(cluster, "version", "-o", "json")
    got = json.loads(out)
    want = versions()["KUBERNETES_VERSION"]
    assert got["clientVersion"]["gitVersion"] == want
    assert got["serverVersion"]["gitVersion"] == want


def test_kubectl_sees_the_node_pools(cluster: Cluster) -> None:
    out = _kubectl(cluster, "get", "nodes", "-l", "nvidia.com/gpu.product=Tesla-T4", "-o", "name")
    assert len(out.split()) >= 1
    # KWOK's t4-* pools and the real node real-0 (test_real_node.py)
    assert all(line.startswith("node/t4-") or line == "node/real-0" for line in out.split())


def test_helm_version(cluster: Cluster) -> None:
    out = _run(str(cluster.binary("helm")), "version", "--short")
    assert out.strip().startswith(versions()["HELM_VERSION"])


def test_helm_talks_to_the_cluster(cluster: Cluster, namespace: str) -> None:
    helm = str(cluster.binary("helm"))
    out = _run(helm, "--kubeconfig", str(cluster.kubeconfig), "list", "-n", namespace, "-o", "json")
    assert json.loads(out) == []


def test_helm_installs_a_chart(
    cluster: Cluster, core: client.CoreV1Api, namespace: str, tmp_path: Path
) -> None:
    chart = tmp_path / "probe"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: probe\nversion: 0.1.0\n")
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cfg\n"
        "data:\n  gpu: {{ .Values.gpu | quote }}\n"
    )
    helm = str(cluster.binary("helm"))
    kube = ["--kubeconfig", str(cluster.kubeconfig), "-n", namespace]
    _run(helm, *kube, "install", "probe", str(chart), "--set", "gpu=Tesla-T4", "--wait")
    assert core.read_namespaced_config_map("probe-cfg", namespace).data == {"gpu": "Tesla-T4"}
    releases = json.loads(_run(helm, *kube, "list", "-o", "json"))
    assert [(r["name"], r["status"]) for r in releases] == [("probe", "deployed")]
