"""Smoke checks of the e2e environment itself, so that a broken one fails loudly and says why.

Every other e2e test tests the product (operator, chart, CRD, trials, recommendation) on top of
the environment; these few check only what those tests take for granted, each with a message
that names what is missing: the pinned tools from the version-keyed cache, the control plane's
controller manager and scheduler running without leader election (a busy host can make the
controller manager give up at start-up, then no namespace gets its ServiceAccount; with leader
election both exit when the API server pauses), every KWOK node pool of
``e2e/cluster/nodepools.yaml`` Ready as declared, the real node real-0 Ready as declared, and
``node.sh up`` refusing, with the reason, to run where the host cannot (no CAP_NET_ADMIN).
"""

from __future__ import annotations

import json
import subprocess

import pytest
from falcon_e2e.cluster import REPO, Cluster, versions
from falcon_e2e.nodepools import (
    GPU_RESOURCE,
    GPU_TAINT,
    KWOK_ANNOTATION,
    POOL_LABEL,
    POWER_LIMIT_LABEL,
    load,
    same_resources,
)
from falcon_e2e.realnode import NODE_NAME, REAL_TAINT, node_labels
from kubernetes import client

POOLS = load()
#: the GPU products the operator e2e tests search over (GPU Feature Discovery's names)
PRODUCTS = {
    "Tesla-T4",
    "Tesla-V100-SXM2-16GB",
    "Tesla-M60",
    "Tesla-K80",
    "NVIDIA-A100-SXM4-40GB",
    "NVIDIA-H100-80GB-HBM3",
}


def test_the_tools_are_the_pinned_versions(cluster: Cluster) -> None:
    v = versions()
    for name, key in [
        ("kube-apiserver", "KUBERNETES_VERSION"),
        ("kubectl", "KUBERNETES_VERSION"),
        ("etcd", "ETCD_VERSION"),
        ("kwokctl", "KWOK_VERSION"),
        ("helm", "HELM_VERSION"),
    ]:
        path = cluster.binary(name)
        assert path.is_file(), f"{name} is missing from the tool cache: {path}"
        assert path.parent.name == f"{name}-{v[key]}", f"{path} is not {key}={v[key]}"
    got = json.loads(cluster.tool("kubectl", "version", "-o", "json"))
    want = v["KUBERNETES_VERSION"]
    assert got["clientVersion"]["gitVersion"] == want, got["clientVersion"]
    assert got["serverVersion"]["gitVersion"] == want, f"the running apiserver is {got}"
    assert cluster.tool("helm", "version", "--short").strip().startswith(v["HELM_VERSION"])


@pytest.mark.parametrize("component", ["kube-controller-manager", "kube-scheduler"])
def test_the_control_plane_component_runs(cluster: Cluster, component: str) -> None:
    """Both run, without leader election: with it, an API server that stops answering for a
    lease period (``make bench-operator`` pauses it for 30 s) makes them exit for good."""
    found = cluster.process(component)
    log = cluster.kubeconfig.parent / "logs" / f"{component}.log"
    if found is None:
        pytest.fail(
            f"{component} is not running: see {log}; `make cluster-down cluster-up` starts a "
            f"fresh control plane",
            pytrace=False,
        )
    assert "--leader-elect=false" in found[1], (
        f"{component} runs with leader election (a cluster made by an older cluster.sh?): "
        f"`make cluster-down cluster-up`"
    )


def test_every_node_pool_is_ready_as_declared(core: client.CoreV1Api) -> None:
    nodes = {
        n.metadata.name: n
        for n in core.list_node(label_selector=POOL_LABEL).items
        if n.metadata.name != NODE_NAME  # the kubelet's node: the next test
    }
    declared = {name for p in POOLS for name in p.node_names()}
    assert set(nodes) == declared, (
        f"KWOK nodes missing {sorted(declared - set(nodes))}, unexpected "
        f"{sorted(set(nodes) - declared)}: run `make cluster-up` (docs/testing.md)"
    )
    for pool in POOLS:
        for name in pool.node_names():
            node = nodes[name]
            labels = node.metadata.labels
            assert node.metadata.annotations[KWOK_ANNOTATION] == "fake", name
            assert labels[POOL_LABEL] == pool.name, name
            assert labels["node.kubernetes.io/instance-type"] == pool.instance_type, name
            ready = next(c for c in node.status.conditions if c.type == "Ready")
            assert ready.status == "True", f"KWOK node {name} is not Ready: {ready.message}"
            assert same_resources(node.status.allocatable, pool.allocatable()), name
            if pool.gpu is None:
                assert "nvidia.com/gpu.product" not in labels, name
                continue
            assert labels["nvidia.com/gpu.product"] == pool.gpu.product, name
            assert labels["nvidia.com/gpu.memory"] == str(pool.gpu.memory_mib), name
            assert labels["nvidia.com/gpu.count"] == str(pool.gpu.count), name
            assert labels[POWER_LIMIT_LABEL] == str(pool.power_limit), name
            if pool.mig:
                assert labels["nvidia.com/mig.strategy"] == "mixed", name
                assert node.status.allocatable[GPU_RESOURCE] == "0", name
            else:
                taints = {(t.key, t.effect) for t in node.spec.taints or []}
                assert (GPU_RESOURCE, "NoSchedule") in taints, name
    products = {p.gpu.product for p in POOLS if p.gpu}
    assert products >= PRODUCTS, f"nodepools.yaml lost {sorted(PRODUCTS - products)}"
    power_limits = {p.power_limit for p in POOLS if p.gpu and p.gpu.product == "Tesla-T4"}
    assert power_limits == {50, 75, 100}


def test_the_real_node_is_ready_as_declared(core: client.CoreV1Api) -> None:
    node = core.read_node(NODE_NAME)
    ready = next(c for c in node.status.conditions if c.type == "Ready")
    assert ready.status == "True", f"{NODE_NAME} is not Ready: {ready.message} (node.sh status)"
    assert KWOK_ANNOTATION not in (node.metadata.annotations or {})
    labels = node.metadata.labels
    for key, value in node_labels().items():
        assert labels.get(key) == value, key
    assert labels["nvidia.com/gpu.product"] == "Tesla-T4"
    assert labels[POWER_LIMIT_LABEL] == "100"
    assert node.status.capacity[GPU_RESOURCE] == "1"
    assert node.status.allocatable[GPU_RESOURCE] == "1"
    taints = {(t.key, t.value, t.effect) for t in node.spec.taints or []}
    assert {(t["key"], t["value"], t["effect"]) for t in (GPU_TAINT, REAL_TAINT)} <= taints
    info = node.status.node_info
    assert info.kubelet_version == versions()["KUBERNETES_VERSION"]
    assert info.container_runtime_version.startswith("containerd://1.6")
    addresses = {a.type: a.address for a in node.status.addresses}
    assert addresses["InternalIP"] == "198.18.1.1"


def test_node_up_fails_with_the_reason_without_cap_net_admin() -> None:
    """Where the host cannot run the node, `node.sh up` says why (and changes nothing)."""
    drop = ["setpriv", "--inh-caps=-net_admin", "--bounding-set=-net_admin"]
    node_sh = REPO / "e2e" / "cluster" / "node.sh"
    proc = subprocess.run(
        [*drop, str(node_sh), "up"], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 1
    assert "error: no CAP_NET_ADMIN: cannot create the pod bridge falcon0" in proc.stderr
