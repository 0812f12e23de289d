"""Node pools, scheduling onto them, pod lifecycle stages and pod IPs on loopback."""

from __future__ import annotations

import http.server
import ipaddress
import threading
import urllib.request
from collections.abc import Iterator

import pytest
from falcon_e2e.cluster import wait_for
from falcon_e2e.nodepools import (
    GPU_RESOURCE,
    POOL_LABEL,
    POWER_LIMIT_LABEL,
    load,
    same_resources,
)
from falcon_e2e.pods import condition, gpu_pod, wait_phase, wait_unschedulable
from falcon_e2e.realnode import NODE_NAME as REAL_NODE
from kubernetes import client

POOLS = load()


def _pool_of(core: client.CoreV1Api, node_name: str) -> str:
    return str(core.read_node(node_name).metadata.labels[POOL_LABEL])


def test_node_pools_have_their_labels_and_allocatable(core: client.CoreV1Api) -> None:
    nodes = {
        n.metadata.name: n
        for n in core.list_node(label_selector=POOL_LABEL).items
        if n.metadata.name != REAL_NODE  # the kubelet's node (test_real_node.py)
    }
    assert set(nodes) == {name for p in POOLS for name in p.node_names()}
    products = set()
    for pool in POOLS:
        for name in pool.node_names():
            node = nodes[name]
            labels = node.metadata.labels
            assert node.metadata.annotations["kwok.x-k8s.io/node"] == "fake"
            assert labels[POOL_LABEL] == pool.name
            assert labels["node.kubernetes.io/instance-type"] == pool.instance_type
            ready = next(c for c in node.status.conditions if c.type == "Ready")
            assert ready.status == "True", name
            assert same_resources(node.status.allocatable, pool.allocatable()), name
            if pool.gpu is None:
                assert "nvidia.com/gpu.product" not in labels
                continue
            products.add(labels["nvidia.com/gpu.product"])
            assert labels["nvidia.com/gpu.product"] == pool.gpu.product
            assert labels["nvidia.com/gpu.memory"] == str(pool.gpu.memory_mib)
            assert labels["nvidia.com/gpu.count"] == str(pool.gpu.count)
            assert labels[POWER_LIMIT_LABEL] == str(pool.power_limit)
            if pool.mig:
                assert labels["nvidia.com/mig.strategy"] == "mixed"
                assert node.status.allocatable[GPU_RESOURCE] == "0"
            else:
                taints = {(t.key, t.effect) for t in node.spec.taints or []}
                assert (GPU_RESOURCE, "NoSchedule") in taints
    assert products >= {
        "Tesla-T4",
        "Tesla-V100-SXM2-16GB",
        "Tesla-M60",
        "Tesla-K80",
        "NVIDIA-A100-SXM4-40GB",
        "NVIDIA-H100-80GB-HBM3",
    }
    power_limits = {p.power_limit for p in POOLS if p.gpu and p.gpu.product == "Tesla-T4"}
    assert power_limits == {50, 75, 100}


def test_t4_pod_is_scheduled_on_a_t4_node_and_runs(core: client.CoreV1Api, namespace: str) -> None:
    pod = gpu_pod(
        "t4-trial",
        resources={GPU_RESOURCE: "1"},
        node_selector={"nvidia.com/gpu.product": "Tesla-T4"},
    )
    core.create_namespaced_pod(namespace, pod)
    running = wait_phase(core, namespace, "t4-trial", "Running")
    node = core.read_node(running.spec.node_name)
    assert node.metadata.labels["nvidia.com/gpu.product"] == "Tesla-T4"
    # the GPU taint was tolerated through the ExtendedResourceToleration admission plugin
    assert any(t.key == GPU_RESOURCE for t in running.spec.tolerations)
    assert condition(running, "Ready").status == "True"
    assert running.status.container_statuses[0].state.running is not None


def test_power_limit_pool_is_selectable(core: client.CoreV1Api, namespace: str) -> None:
    pod = gpu_pod(
        "t4-pl50",
        resources={GPU_RESOURCE: "1"},
        node_selector={"nvidia.com/gpu.product": "Tesla-T4", POWER_LIMIT_LABEL: "50"},
    )
    core.create_namespaced_pod(namespace, pod)
    running = wait_phase(core, namespace, "t4-pl50", "Running")
    assert _pool_of(core, running.spec.node_name) == "t4-pl50"


def test_too_many_gpus_stay_pending_unschedulable(core: client.CoreV1Api, namespace: str) -> None:
    most = max(int(p.allocatable().get(GPU_RESOURCE, "0")) for p in POOLS)
    core.create_namespaced_pod(
        namespace, gpu_pod("greedy", resources={GPU_RESOURCE: str(most + 1)})
    )
    pod = wait_unschedulable(core, namespace, "greedy")
    assert pod.status.phase == "Pending"
    assert pod.spec.node_name is None
    assert "nvidia.com/gpu" in condition(pod, "PodScheduled").message


def test_mig_pod_lands_only_on_the_mig_pool(core: client.CoreV1Api, namespace: str) -> None:
    mig_pools = {p.name for p in POOLS if "1g.10gb" in p.mig}
    assert mig_pools, "nodepools.yaml has no pool with nvidia.com/mig-1g.10gb"
    for i in range(3):
        core.create_namespaced_pod(
            namespace, gpu_pod(f"mig-{i}", resources={"nvidia.com/mig-1g.10gb": "1"})
        )
    for i in range(3):
        running = wait_phase(core, namespace, f"mig-{i}", "Running")
        assert _pool_of(core, running.spec.node_name) in mig_pools
    # a MIG node offers no whole GPU
    core.create_namespaced_pod(
        namespace,
        gpu_pod(
            "whole-gpu-on-mig",
            resources={GPU_RESOURCE: "1"},
            node_selector={"nvidia.com/mig.strategy": "mixed"},
        ),
    )
    wait_unschedulable(core, namespace, "whole-gpu-on-mig")


@pytest.mark.parametrize(
    ("fault", "exit_code", "reason"), [("crash", 1, "Error"), ("oom", 137, "OOMKilled")]
)
def test_fault_label_fails_a_running_pod(
    core: client.CoreV1Api, namespace: str, fault: str, exit_code: int, reason: str
) -> None:
    core.create_namespaced_pod(
        namespace,
        gpu_pod(
            "faulty",
            resources={GPU_RESOURCE: "1"},
            labels={"falcon.io/fault": fault},
            annotations={"falcon.io/fault-after": "2s"},
        ),
    )
    wait_phase(core, namespace, "faulty", "Running")
    failed = wait_phase(core, namespace, "faulty", "Failed")
    term = failed.status.container_statuses[0].state.terminated
    assert term.exit_code == exit_code
    assert term.reason == reason
    assert failed.status.reason == reason


@pytest.fixture
def running_pod(core: client.CoreV1Api, namespace: str) -> client.V1Pod:
    core.create_namespaced_pod(namespace, gpu_pod("server", resources={GPU_RESOURCE: "1"}))
    return wait_phase(core, namespace, "server", "Running")


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"hello from {self.server.server_address[0]}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server_on(running_pod: client.V1Pod) -> Iterator[tuple[str, int]]:
    ip = running_pod.status.pod_ip
    srv = http.server.ThreadingHTTPServer((ip, 0), _Hello)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield ip, srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def test_pod_ip_is_loopback_and_dialable(
    running_pod: client.V1Pod, server_on: tuple[str, int]
) -> None:
    ip, port = server_on
    assert ipaddress.ip_address(ip).is_loopback
    assert ip != "127.0.0.1"
    assert [p.ip for p in running_pod.status.pod_ips] == [ip]
    with urllib.request.urlopen(f"http://{ip}:{port}/", timeout=5) as resp:
        assert resp.read().decode() == f"hello from {ip}"


def test_pod_ips_are_distinct(core: client.CoreV1Api, namespace: str) -> None:
    for i in range(4):
        core.create_namespaced_pod(namespace, gpu_pod(f"p{i}"))
    ips = [wait_phase(core, namespace, f"p{i}", "Running").status.pod_ip for i in range(4)]
    assert len(set(ips)) == 4
    assert all(ipaddress.ip_address(ip) in ipaddress.ip_network("127.0.0.0/8") for ip in ips)


def test_deleted_pod_goes_away(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, gpu_pod("short"))
    wait_phase(core, namespace, "short", "Running")
    core.delete_namespaced_pod("short", namespace)

    def gone() -> bool:
        return all(p.metadata.name != "short" for p in core.list_namespaced_pod(namespace).items)

    wait_for(gone, what="pod short deleted")
