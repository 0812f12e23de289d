"""Pieces of ``make bench-operator`` (e2e/bench_operator.py): roomy KWOK pools, the API server's
request counters and its pause, and what a finished search left behind (history, sizes).

- :func:`roomy_pools`: extra KWOK nodes for the GPU pools the bench uses (8 GPUs each), so that
  trials never queue for a GPU and the bench measures the operator, not the pools.
- :class:`ApiRequests`: ``apiserver_request_total`` from the API server's own ``/metrics``
  (Prometheus text, prometheus-client's parser), by group, resource, subresource and verb; the
  difference of two snapshots is what was asked in between.
- :func:`paused`: SIGSTOP / SIGCONT of the kube-apiserver process (nothing answers meanwhile).
- :func:`search_report`: a finished search's trials, duplicate configurations and the JSON
  size of the search object and of its history ConfigMap.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from kubernetes import client
from prometheus_client.parser import text_string_to_metric_families

from falcon_e2e.cluster import Cluster, wait_for
from falcon_e2e.nodepools import Gpu, Pool, load

Key = tuple[str, str, str, str]  # (group, resource, subresource, verb)
#: the API objects the operator reads and writes on a search's behalf (docs/operator.md, RBAC):
#: its requests are those to these, less the bench's own
OPERATOR_RESOURCES = {
    ("autoconfig.falcon.io", "inferenceconfigsearches"),
    ("", "pods"),
    ("", "configmaps"),
    ("", "events"),
    ("apps", "deployments"),
}
#: subresources other components write (the scheduler's binding, KWOK's pod status); the
#: operator writes the search's status, which is kept
OTHERS_SUBRESOURCES = {"binding", "eviction", "ephemeralcontainers"}


#: the pools of the GPUs the bench's searches use (the example's, and H100 for the long one)
BENCH_POOLS = ("t4-pl100", "v100", "a100", "h100")


def roomy_pools(nodes_per_pool: int, names: tuple[str, ...] = BENCH_POOLS) -> list[Pool]:
    """``bench-<pool>`` copies of the pools ``names``: ``nodes_per_pool`` nodes of 8 GPUs."""
    out = []
    for pool in load():
        if pool.name not in names or pool.gpu is None or pool.mig:
            continue
        out.append(
            replace(
                pool,
                name=f"bench-{pool.name}",
                count=nodes_per_pool,
                cpu="256",
                memory="2Ti",
                pods="250",
                gpu=Gpu(pool.gpu.product, pool.gpu.memory_mib, 8),
            )
        )
    return out


@dataclass
class ApiRequests:
    """``apiserver_request_total`` at one moment, by (group, resource, subresource, verb)."""

    counts: Counter[Key]

    @classmethod
    def snapshot(cls, cluster: Cluster) -> ApiRequests:
        text = cluster.tool("kubectl", "get", "--raw", "/metrics")
        counts: Counter[Key] = Counter()
        for family in text_string_to_metric_families(text):
            if family.name != "apiserver_request":
                continue
            for s in family.samples:
                if s.name != "apiserver_request_total":
                    continue
                lb = s.labels
                key = (lb.get("group", ""), lb.get("resource", ""), lb.get("subresource", ""),
                       lb.get("verb", ""))  # fmt: skip
                counts[key] += s.value
        if not counts:
            raise RuntimeError("the API server's /metrics has no apiserver_request_total")
        return cls(counts)

    def since(self, before: ApiRequests) -> Counter[Key]:
        return Counter({k: v - before.counts.get(k, 0.0) for k, v in self.counts.items()
                        if v - before.counts.get(k, 0.0) > 0})  # fmt: skip


def operator_requests(delta: Counter[Key], *, own: Counter[Key]) -> Counter[str]:
    """The requests to the operator's objects, less ``own`` (the bench's), as
    ``resource[/subresource] VERB`` -> count."""
    out: Counter[str] = Counter()
    for (group, resource, sub, verb), n in delta.items():
        if (group, resource) not in OPERATOR_RESOURCES or sub in OTHERS_SUBRESOURCES:
            continue
        if (group, resource) == ("", "pods") and sub == "status":
            continue  # KWOK, the fake kubelet, writes pod status
        if verb == "WATCH" and group != "autoconfig.falcon.io":
            continue  # the operator watches searches only (kopf); the rest are informers
        n -= own.get((group, resource, sub, verb), 0.0)
        if n > 0:
            out[f"{resource}{'/' + sub if sub else ''} {verb}"] += round(n)
    return out


def apiserver_pid(cluster: Cluster) -> int:
    """The pid of the cluster's kube-apiserver."""
    found = cluster.process("kube-apiserver")
    if found is None:
        raise RuntimeError(f"no kube-apiserver process of {cluster.kubeconfig.parent}")
    return found[0]


@contextlib.contextmanager
def paused(pid: int) -> Iterator[None]:
    """The process stopped (SIGSTOP) for the block, then continued: nothing answers on its port
    meanwhile, connections hang rather than fail."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def wait_ready(core: client.CoreV1Api, timeout: float = 60.0) -> float:
    """Seconds until the API server answers again."""

    def answers() -> bool:
        try:
            core.list_namespace(limit=1, _request_timeout=5)
        except Exception:  # anything but an answer: not yet
            return False
        return True

    t0 = time.monotonic()
    wait_for(answers, timeout=timeout, interval=0.5, what="the API server to answer")
    return time.monotonic() - t0


def search_report(core: client.CoreV1Api, obj: dict[str, Any]) -> dict[str, Any]:
    """One finished search: trials, duplicate configurations, object sizes (JSON bytes)."""
    meta, status = obj["metadata"], obj.get("status") or {}
    ns, name = meta["namespace"], meta["name"]
    cm_name = (status.get("history") or {}).get("configMap") or f"{name}-trials"
    cm = core.read_namespaced_config_map(cm_name, ns)
    data = cm.data or {}
    entries = [json.loads(v) for v in data.values()]
    configs = Counter(json.dumps(e.get("config"), sort_keys=True) for e in entries)
    indices = Counter(e.get("index") for e in entries)
    cm_json = json.dumps(client.ApiClient().sanitize_for_serialization(cm))
    return {
        "search": f"{ns}/{name}",
        "phase": status.get("phase"),
        "trials": len(entries),
        "duplicate_configs": sum(n - 1 for n in configs.values()),
        "duplicate_indices": sum(n - 1 for n in indices.values()),
        "search_bytes": len(json.dumps(obj)),
        "history_bytes": len(cm_json),
        "picked_up": "observedGeneration" in status,
    }
