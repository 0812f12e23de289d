"""The real node real-0: a kubelet + containerd + runc + CNI bridge on this machine.

Its pods run for real (a static C HTTP server image built by e2e/cluster/node.sh), get an
address on the falcon0 bridge (198.18.0.0/24) that the host reaches, their logs come through
the apiserver from the kubelet, and KWOK never touches them.
"""

from __future__ import annotations

import ipaddress
import subprocess
import urllib.request
import uuid
from pathlib import Path

from falcon_e2e.cluster import REPO, Cluster, wait_for
from falcon_e2e.nodepools import GPU_RESOURCE, GPU_TAINT, KWOK_ANNOTATION
from falcon_e2e.realnode import (
    NODE_NAME,
    POD_SUBNET,
    POOL,
    REAL_TAINT,
    apiserver_env,
    namespace_annotations,
    node_labels,
)
from falcon_e2e.staticimage import build
from kubernetes import client

ECHO_IMAGE = "docker.io/falcon/echo:e2e"


def _echo_pod(name: str, *, port: int, requests: int, image: str = ECHO_IMAGE) -> client.V1Pod:
    """A pod for a T4 node (nodeSelector, tolerations, one GPU) running falcon-echo."""
    res = {"cpu": "50m", "memory": "32Mi", GPU_RESOURCE: "1"}
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1PodSpec(
            containers=[
                client.V1Container(
                    name="echo",
                    image=image,
                    image_pull_policy="Never",
                    args=[str(port), str(requests), "120"],
                    ports=[client.V1ContainerPort(container_port=port)],
                    resources=client.V1ResourceRequirements(requests=res, limits=res),
                )
            ],
            node_selector={
                "nvidia.com/gpu.product": "Tesla-T4",
                "falcon.io/node-pool": POOL.name,
            },
            tolerations=[
                client.V1Toleration(key=t["key"], operator="Exists", effect=t["effect"])
                for t in (GPU_TAINT, REAL_TAINT)
            ],
            restart_policy="Never",
            termination_grace_period_seconds=1,
            automount_service_account_token=False,
        ),
    )


def test_real_node_is_ready_with_t4_labels_and_gpu_capacity(core: client.CoreV1Api) -> None:
    node = core.read_node(NODE_NAME)
    assert KWOK_ANNOTATION not in (node.metadata.annotations or {})
    labels = node.metadata.labels
    for key, value in node_labels().items():
        assert labels.get(key) == value, key
    assert labels["nvidia.com/gpu.product"] == "Tesla-T4"
    assert labels["autoconfig.falcon.io/gpu-power-limit"] == "100"
    assert node.status.capacity[GPU_RESOURCE] == "1"
    assert node.status.allocatable[GPU_RESOURCE] == "1"
    taints = {(t.key, t.value, t.effect) for t in node.spec.taints or []}
    assert {(t["key"], t["value"], t["effect"]) for t in (GPU_TAINT, REAL_TAINT)} <= taints
    ready = next(c for c in node.status.conditions if c.type == "Ready")
    assert ready.status == "True", ready.message
    info = node.status.node_info
    assert info.kubelet_version == "v1.35.4"
    assert info.container_runtime_version.startswith("containerd://1.6")
    addresses = {a.type: a.address for a in node.status.addresses}
    assert addresses["InternalIP"] == "198.18.1.1"


def _logs(cluster: Cluster, namespace: str, pod: str) -> str:
    return cluster.tool("kubectl", "logs", "-n", namespace, pod)


def test_pod_runs_on_real_node_serves_the_host_and_completes(
    cluster: Cluster, core: client.CoreV1Api, namespace: str
) -> None:
    core.create_namespaced_pod(namespace, _echo_pod("echo", port=8080, requests=1))

    def running() -> client.V1Pod | None:
        pod = core.read_namespaced_pod("echo", namespace)
        return pod if pod.status.phase == "Running" and pod.status.pod_ip else None

    pod = wait_for(running, timeout=90, interval=0.5, what="pod echo Running with an IP")
    assert pod.spec.node_name == NODE_NAME
    ip = ipaddress.ip_address(pod.status.pod_ip)
    assert ip in ipaddress.ip_network(POD_SUBNET)
    assert pod.status.container_statuses[0].image == ECHO_IMAGE
    assert pod.status.container_statuses[0].container_id.startswith("containerd://")

    # kubectl logs: apiserver -> kubelet (client certificate, webhook authorization) -> file
    wait_for(
        lambda: "listening on :8080" in _logs(cluster, namespace, "echo"),
        timeout=30,
        what="falcon-echo's first log line through kubectl logs",
    )
    with urllib.request.urlopen(f"http://{ip}:8080/", timeout=10) as resp:
        assert resp.status == 200
        assert resp.read().decode() == "hello from falcon-echo 1\n"

    def finished() -> client.V1Pod | None:
        pod = core.read_namespaced_pod("echo", namespace)
        return pod if pod.status.phase in ("Succeeded", "Failed") else None

    done = wait_for(finished, timeout=60, interval=0.5, what="pod echo to complete")
    assert done.status.phase == "Succeeded"
    assert done.status.container_statuses[0].state.terminated.exit_code == 0
    logs = _logs(cluster, namespace, "echo")
    assert "served request 1: GET / HTTP/1.1" in logs
    assert logs.rstrip().endswith("falcon-echo done")

    # the pod's status was written by the kubelet only, never by KWOK's controller
    writers = {f.manager for f in done.metadata.managed_fields or [] if f.subresource == "status"}
    assert writers == {"kubelet"}, writers
    assert not any("kwok" in (f.manager or "") for f in done.metadata.managed_fields or [])


def test_kwok_pod_is_kept_off_the_real_node(core: client.CoreV1Api, namespace: str) -> None:
    """A T4 pod without the real node's toleration goes to a KWOK T4 node (KWOK runs it)."""
    res = {"cpu": "50m", "memory": "32Mi", GPU_RESOURCE: "1"}
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="fake-t4"),
        spec=client.V1PodSpec(
            containers=[
                client.V1Container(
                    name="c",
                    image="registry.invalid/falcon/trial:e2e",
                    resources=client.V1ResourceRequirements(requests=res, limits=res),
                )
            ],
            node_selector={"nvidia.com/gpu.product": "Tesla-T4"},
            restart_policy="Never",
        ),
    )
    core.create_namespaced_pod(namespace, pod)

    def running() -> client.V1Pod | None:
        got = core.read_namespaced_pod("fake-t4", namespace)
        return got if got.status.phase == "Running" else None

    got = wait_for(running, timeout=60, interval=0.5, what="pod fake-t4 Running")
    assert got.spec.node_name != NODE_NAME
    assert core.read_node(got.spec.node_name).metadata.annotations[KWOK_ANNOTATION] == "fake"


def test_imported_oci_archive_runs_as_a_pod(
    cluster: Cluster, core: client.CoreV1Api, namespace: str, tmp_path: Path
) -> None:
    """Cluster.import_image: an OCI archive built here runs on real-0 by its normalised name."""
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir()
    src = REPO / "e2e" / "cluster" / "node" / "echo.c"
    subprocess.run(
        ["gcc", "-static", "-Os", "-o", str(rootfs / "falcon-echo"), str(src)], check=True
    )
    name = f"docker.io/falcon/import-test:{uuid.uuid4().hex[:8]}"
    archive = tmp_path / "image.tar"
    build(rootfs, name=name, out=archive, entrypoint=["/falcon-echo"])
    assert cluster.import_image(archive) == [name]

    core.create_namespaced_pod(namespace, _echo_pod("imported", port=8081, requests=0, image=name))

    def finished() -> client.V1Pod | None:
        pod = core.read_namespaced_pod("imported", namespace)
        return pod if pod.status.phase in ("Succeeded", "Failed") else None

    done = wait_for(finished, timeout=60, interval=0.5, what="pod imported to complete")
    assert done.status.phase == "Succeeded", done.status
    assert done.spec.node_name == NODE_NAME
    assert "falcon-echo done" in cluster.tool("kubectl", "logs", "-n", namespace, "imported")


def test_namespace_default_toleration_lets_pods_without_tolerations_on(
    cluster: Cluster, core: client.CoreV1Api, namespace: str
) -> None:
    """Pods made by others (the operator's trials) get onto real-0 by their namespace."""
    core.patch_namespace(namespace, {"metadata": {"annotations": namespace_annotations()}})
    pod = _echo_pod("plain", port=8082, requests=0)
    pod.spec.tolerations = None
    core.create_namespaced_pod(namespace, pod)

    def finished() -> client.V1Pod | None:
        got = core.read_namespaced_pod("plain", namespace)
        return got if got.status.phase in ("Succeeded", "Failed") else None

    done = wait_for(finished, timeout=60, interval=0.5, what="pod plain to complete")
    assert done.status.phase == "Succeeded"
    assert done.spec.node_name == NODE_NAME
    tolerated = {t.key for t in done.spec.tolerations or []}
    assert {GPU_TAINT["key"], REAL_TAINT["key"]} <= tolerated


def test_host_network_pod_serves_on_the_host_and_gets_the_apiserver_address(
    cluster: Cluster, core: client.CoreV1Api, namespace: str
) -> None:
    """How the operator runs on real-0: hostNetwork, apiserver address from apiserver_env."""
    pod = _echo_pod("hostnet", port=18089, requests=1)
    pod.spec.host_network = True
    env = apiserver_env(cluster.kubeconfig)
    pod.spec.containers[0].env = [client.V1EnvVar(name=k, value=v) for k, v in env.items()]
    core.create_namespaced_pod(namespace, pod)

    def running() -> client.V1Pod | None:
        got = core.read_namespaced_pod("hostnet", namespace)
        return got if got.status.phase == "Running" else None

    got = wait_for(running, timeout=60, interval=0.5, what="pod hostnet Running")
    assert got.spec.node_name == NODE_NAME
    assert got.status.pod_ip == "198.18.1.1"  # a hostNetwork pod has the node's address
    body = wait_for(
        lambda: _get("http://127.0.0.1:18089/"), timeout=30, what="falcon-echo on 127.0.0.1"
    )
    assert body == "hello from falcon-echo 1\n"
    assert env["KUBERNETES_SERVICE_HOST"] == "127.0.0.1"
    port = env["KUBERNETES_SERVICE_PORT"]
    assert f"server: https://127.0.0.1:{port}" in cluster.kubeconfig.read_text()
    wait_for(
        lambda: core.read_namespaced_pod("hostnet", namespace).status.phase == "Succeeded",
        timeout=30,
        what="pod hostnet to complete",
    )


def _get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return str(resp.read().decode())
    except OSError:
        return None


def test_node_up_fails_with_the_reason_without_cap_net_admin() -> None:
    """Where the host cannot run the node, `node.sh up` says why (and changes nothing)."""
    drop = ["setpriv", "--inh-caps=-net_admin", "--bounding-set=-net_admin"]
    node_sh = REPO / "e2e" / "cluster" / "node.sh"
    proc = subprocess.run(
        [*drop, str(node_sh), "up"], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 1
    assert "error: no CAP_NET_ADMIN: cannot create the pod bridge falcon0" in proc.stderr
