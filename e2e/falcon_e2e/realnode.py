"""The e2e cluster's real node ``real-0`` (kubelet + containerd, see e2e/cluster/node.sh).

It is labelled and tainted like a node of a T4 GPU pool (pool ``real-t4``, labels from
``nodepools.Pool``) and advertises ``nvidia.com/gpu`` through its status capacity, the
documented way to advertise an extended resource the kubelet does not know. KWOK leaves it
alone (it has no ``kwok.x-k8s.io/node`` annotation). One more taint, ``REAL_TAINT``, keeps the
KWOK tests' pods (whose images exist nowhere) off it: a pod meant for it tolerates that too.

``python -m falcon_e2e.realnode --kubeconfig ADMIN`` (run by ``node.sh up``) waits for the
kubelet to register the node, applies the labels and the GPU capacity, and waits until the node
is Ready with them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from falcon_e2e.nodepools import GPU_RESOURCE, GPU_TAINT, Gpu, Pool

NODE_NAME = "real-0"
POOL = Pool(
    name="real-t4",
    count=1,
    instance_type="g4dn.2xlarge",
    cpu="8",
    memory="32Gi",
    gpu=Gpu("Tesla-T4", 15360, 1),
    power_limit=100,
)
#: only pods that tolerate this run on the real node (node.sh registers it with both taints)
REAL_TAINT = {"key": "falcon.io/real-node", "value": "present", "effect": "NoSchedule"}
TAINTS = [dict(GPU_TAINT), dict(REAL_TAINT)]
#: a namespace with this annotation gets REAL_TAINT's toleration on all its pods (admission
#: plugin PodTolerationRestriction): for pods made by others, e.g. the operator's trial pods
DEFAULT_TOLERATIONS_ANNOTATION = "scheduler.alpha.kubernetes.io/defaultTolerations"
#: the bridge subnet of the node's pods (e2e/cluster/node.sh)
POD_SUBNET = "198.18.0.0/24"


def node_labels(node: str = NODE_NAME) -> dict[str, str]:
    """The labels of a T4 pool node, except KWOK's ``type`` marker."""
    labels = POOL.node_labels(node)
    labels.pop("type", None)
    return labels


def namespace_annotations() -> dict[str, str]:
    """Annotations that let every pod of a namespace onto the real node (it still has to be
    selected, e.g. ``nodeSelector: {falcon.io/node-pool: real-t4}``)."""
    toleration = {"key": REAL_TAINT["key"], "operator": "Exists", "effect": REAL_TAINT["effect"]}
    return {DEFAULT_TOLERATIONS_ANNOTATION: json.dumps([toleration])}


def apiserver_env(kubeconfig: Path) -> dict[str, str]:
    """Environment for a ``hostNetwork`` pod on real-0 (e.g. the operator) to reach the apiserver.

    The ``kubernetes`` Service's ClusterIP (127.2.0.1) routes nowhere (no kube-proxy), so the
    in-cluster config must be pointed at the apiserver's own address (127.0.0.1, which its
    serving certificate names) through the variables it reads; a container's ``env`` wins over
    the ones the kubelet injects.
    """
    doc = yaml.safe_load(kubeconfig.read_text())
    url = urlsplit(doc["clusters"][0]["cluster"]["server"])
    return {"KUBERNETES_SERVICE_HOST": str(url.hostname), "KUBERNETES_SERVICE_PORT": str(url.port)}


def gpu_capacity() -> dict[str, str]:
    assert POOL.gpu is not None
    return {GPU_RESOURCE: str(POOL.gpu.count)}


def _ready(node: client.V1Node, since: float) -> bool:
    """Ready, as reported by a kubelet heartbeat at or after ``since`` (a Unix time)."""
    conditions = node.status.conditions if node.status else None
    return any(
        c.type == "Ready"
        and c.status == "True"
        and (c.last_heartbeat_time is None or c.last_heartbeat_time.timestamp() >= since)
        for c in conditions or []
    )


def _has_gpu(node: client.V1Node) -> bool:
    want = gpu_capacity()
    alloc = (node.status.allocatable if node.status else None) or {}
    return all(alloc.get(k) == v for k, v in want.items())


def apply(
    api: client.CoreV1Api, *, node: str = NODE_NAME, since: float = 0.0, timeout: float = 120.0
) -> None:
    """Label the registered node, advertise its GPU, wait until it is Ready with it.

    ``since``: the Unix time the kubelet started; a Ready condition from an earlier heartbeat
    (the node object outlives a stopped kubelet) does not count.
    """
    deadline = time.monotonic() + timeout
    current: client.V1Node | None = None
    while True:
        try:
            current = api.read_node(node)
        except ApiException as e:
            if e.status != 404:
                raise
        if current is not None:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"the kubelet did not register node {node} in {timeout:.0f}s")
        time.sleep(0.5)
    api.patch_node(node, {"metadata": {"labels": node_labels(node)}})
    taints = [
        {"key": t.key, "value": t.value, "effect": t.effect}
        for t in (current.spec.taints if current.spec else None) or []
    ]
    missing = [t for t in TAINTS if not any(t["key"] == have["key"] for have in taints)]
    if missing:
        api.patch_node(node, {"spec": {"taints": taints + missing}})
    while True:
        got = api.read_node(node)
        if not _has_gpu(got):
            try:
                api.patch_node_status(node, {"status": {"capacity": gpu_capacity()}})
            except ApiException as e:  # the kubelet updates the status at the same time
                if e.status != 409:
                    raise
        elif _ready(got, since - 1):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"node {node} not Ready with {gpu_capacity()} after {timeout:.0f}s "
                f"(allocatable {got.status.allocatable if got.status else None})"
            )
        time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--kubeconfig", required=True)
    ap.add_argument("--node", default=NODE_NAME)
    ap.add_argument("--since", type=float, default=0.0, help="Unix time the kubelet started")
    args = ap.parse_args(argv)
    api = client.CoreV1Api(
        config.new_client_from_config(config_file=args.kubeconfig)  # type: ignore[no-untyped-call]
    )
    t0 = time.monotonic()
    try:
        apply(api, node=args.node, since=args.since)
    except TimeoutError as exc:
        print(f"[realnode] error: {exc}", file=sys.stderr)
        return 1
    print(f"[realnode] node {args.node} Ready ({time.monotonic() - t0:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
