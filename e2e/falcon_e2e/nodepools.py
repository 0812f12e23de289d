"""Turn ``e2e/cluster/nodepools.yaml`` into KWOK nodes and keep a cluster in sync with it.

``python -m falcon_e2e.nodepools --kubeconfig PATH`` (run by ``e2e/cluster/cluster.sh up``)
creates the nodes that are missing, updates labels, taints and capacity of the others, deletes
nodes of pools that are gone, and waits until every node is Ready with the declared allocatable
resources.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config
from kubernetes.client.rest import ApiException
from kubernetes.utils import parse_quantity

CLUSTER_DIR = Path(__file__).resolve().parents[1] / "cluster"
DEFAULT_POOLS = CLUSTER_DIR / "nodepools.yaml"

POOL_LABEL = "falcon.io/node-pool"
POWER_LIMIT_LABEL = "autoconfig.falcon.io/gpu-power-limit"
GPU_RESOURCE = "nvidia.com/gpu"
MIG_RESOURCE_PREFIX = "nvidia.com/mig-"
KWOK_ANNOTATION = "kwok.x-k8s.io/node"
GPU_TAINT = {"key": GPU_RESOURCE, "value": "present", "effect": "NoSchedule"}

_POOL_KEYS = {
    "name",
    "count",
    "instanceType",
    "cpu",
    "memory",
    "pods",
    "gpu",
    "powerLimit",
    "mig",
    "labels",
    "taints",
}


@dataclass(frozen=True)
class Gpu:
    product: str
    memory_mib: int
    count: int


@dataclass(frozen=True)
class Pool:
    name: str
    count: int
    instance_type: str
    cpu: str
    memory: str
    pods: str = "110"
    zone: str = "e2e-zone-a"
    gpu: Gpu | None = None
    power_limit: int | None = None
    mig: dict[str, int] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    taints: list[dict[str, str]] | None = None

    def node_names(self) -> list[str]:
        return [f"{self.name}-{i}" for i in range(self.count)]

    def allocatable(self) -> dict[str, str]:
        res = {"cpu": self.cpu, "memory": self.memory, "pods": self.pods}
        res["ephemeral-storage"] = "200Gi"
        if self.gpu is not None:
            # with the mixed MIG strategy a fully partitioned GPU is not offered whole
            res[GPU_RESOURCE] = "0" if self.mig else str(self.gpu.count)
        for profile, n in self.mig.items():
            res[MIG_RESOURCE_PREFIX + profile] = str(n)
        return res

    def node_labels(self, node: str) -> dict[str, str]:
        labels = {
            "kubernetes.io/arch": "amd64",
            "kubernetes.io/os": "linux",
            "kubernetes.io/hostname": node,
            "type": "kwok",
            POOL_LABEL: self.name,
            "node.kubernetes.io/instance-type": self.instance_type,
            "topology.kubernetes.io/zone": self.zone,
        }
        if self.gpu is not None:
            labels |= {
                "nvidia.com/gpu.present": "true",
                "nvidia.com/gpu.product": self.gpu.product,
                "nvidia.com/gpu.memory": str(self.gpu.memory_mib),
                "nvidia.com/gpu.count": str(self.gpu.count),
            }
        if self.power_limit is not None:
            labels[POWER_LIMIT_LABEL] = str(self.power_limit)
        if self.mig:
            labels |= {"nvidia.com/mig.strategy": "mixed", "nvidia.com/mig.capable": "true"}
            for profile, n in self.mig.items():
                labels[f"nvidia.com/mig-{profile}.count"] = str(n)
        return labels | self.labels

    def node_taints(self) -> list[dict[str, str]]:
        if self.taints is not None:
            return self.taints
        return [dict(GPU_TAINT)] if self.gpu is not None and not self.mig else []

    def nodes(self) -> list[dict[str, Any]]:
        return [
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": node,
                    "labels": self.node_labels(node),
                    # KWOK manages (fakes the kubelet of) nodes with this annotation
                    "annotations": {KWOK_ANNOTATION: "fake", "node.alpha.kubernetes.io/ttl": "0"},
                },
                "spec": {"taints": self.node_taints()},
                "status": {"capacity": self.allocatable(), "allocatable": self.allocatable()},
            }
            for node in self.node_names()
        ]


def load(path: Path = DEFAULT_POOLS) -> list[Pool]:
    """Parse and check nodepools.yaml; raises ValueError naming the offending pool."""
    doc = yaml.safe_load(path.read_text())
    defaults = doc.get("defaults") or {}
    pools: list[Pool] = []
    for raw in doc.get("pools") or []:
        name = raw.get("name", "?")
        unknown = set(raw) - _POOL_KEYS
        if unknown:
            raise ValueError(f"{path}: pool {name!r}: unknown keys {sorted(unknown)}")
        missing = {"name", "count", "instanceType", "cpu", "memory"} - set(raw)
        if missing:
            raise ValueError(f"{path}: pool {name!r}: missing keys {sorted(missing)}")
        gpu = raw.get("gpu")
        if raw.get("mig") and not gpu:
            raise ValueError(f"{path}: pool {name!r}: mig needs a gpu entry")
        pools.append(
            Pool(
                name=str(raw["name"]),
                count=int(raw["count"]),
                instance_type=str(raw["instanceType"]),
                cpu=str(raw["cpu"]),
                memory=str(raw["memory"]),
                pods=str(raw.get("pods", "110")),
                zone=str(defaults.get("zone", "e2e-zone-a")),
                gpu=None
                if not gpu
                else Gpu(str(gpu["product"]), int(gpu["memoryMiB"]), int(gpu["count"])),
                power_limit=None if raw.get("powerLimit") is None else int(raw["powerLimit"]),
                mig={str(k): int(v) for k, v in (raw.get("mig") or {}).items()},
                labels={str(k): str(v) for k, v in (raw.get("labels") or {}).items()},
                taints=raw.get("taints"),
            )
        )
    names = [p.name for p in pools]
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: duplicate pool names in {names}")
    return pools


def _ready(node: client.V1Node) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in node.status.conditions or [])


def same_resources(got: dict[str, str] | None, want: dict[str, str]) -> bool:
    """Whether ``got`` has every resource of ``want`` in the same quantity (2048Gi == 2Ti)."""
    got = got or {}
    return all(k in got and parse_quantity(got[k]) == parse_quantity(v) for k, v in want.items())


def sync(api: client.CoreV1Api, pools: list[Pool], timeout: float = 60.0) -> None:
    """Make the cluster's pool nodes exactly those of ``pools``; wait until all are Ready."""
    wanted = {n["metadata"]["name"]: n for p in pools for n in p.nodes()}
    # only KWOK's fake nodes: a real node (node.sh's real-0) carries a pool label too
    existing = {
        n.metadata.name: n
        for n in api.list_node(label_selector=POOL_LABEL).items
        if (n.metadata.annotations or {}).get(KWOK_ANNOTATION) == "fake"
    }
    for name in existing:
        if name not in wanted:
            print(f"[nodepools] delete node {name}", file=sys.stderr)
            api.delete_node(name)
    for name, body in wanted.items():
        if name in existing:
            old = existing[name].metadata.labels or {}
            labels: dict[str, str | None] = {
                k: None for k in old if k not in body["metadata"]["labels"]
            }
            labels |= body["metadata"]["labels"]
            meta = {"labels": labels, "annotations": body["metadata"]["annotations"]}
            api.patch_node(name, {"metadata": meta, "spec": body["spec"]})
        else:
            print(f"[nodepools] create node {name}", file=sys.stderr)
            api.create_node(body)
        # capacity lives in the status subresource: set it explicitly (create may drop it)
        for attempt in range(5):
            try:
                api.patch_node_status(name, {"status": body["status"]})
                break
            except ApiException as e:  # KWOK updates the status at the same time
                if e.status != 409 or attempt == 4:
                    raise
                time.sleep(0.2)
    deadline = time.monotonic() + timeout
    while True:
        nodes = {n.metadata.name: n for n in api.list_node(label_selector=POOL_LABEL).items}
        pending = [
            name
            for name, body in wanted.items()
            if name not in nodes
            or not _ready(nodes[name])
            or not same_resources(nodes[name].status.allocatable, body["status"]["allocatable"])
        ]
        if not pending:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"nodes not Ready with their allocatable after {timeout}s: {pending}"
            )
        time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kubeconfig", required=True)
    ap.add_argument("--pools", type=Path, default=DEFAULT_POOLS)
    args = ap.parse_args(argv)
    pools = load(args.pools)
    api = client.CoreV1Api(config.new_client_from_config(config_file=args.kubeconfig))
    t0 = time.monotonic()
    sync(api, pools)
    n = sum(p.count for p in pools)
    print(
        f"[nodepools] {len(pools)} pools, {n} nodes Ready ({time.monotonic() - t0:.1f} s)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
