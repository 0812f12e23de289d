"""Two operator replicas: one holds the Lease and runs the searches; when it dies, the other
takes over and finishes them without repeating a trial.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from falcon_e2e.cluster import Cluster, wait_for
from falcon_e2e.operator import (
    EXAMPLE,
    OperatorProcess,
    create_search,
    delete_searches,
    history,
    trial_pods,
    wait_search,
)
from kubernetes import client

LEASE_S = 4


@pytest.fixture
def replicas(
    cluster: Cluster, namespace: str, custom: client.CustomObjectsApi, tmp_path: Path
) -> Iterator[dict[str, OperatorProcess]]:
    ops = {
        name: OperatorProcess(
            cluster.kubeconfig,
            [namespace],
            tmp_path / f"{name}.log",
            "--identity",
            name,
            "--lease-seconds",
            str(LEASE_S),
        ).start()
        for name in ("a", "b")
    }
    yield ops
    if not any(op.alive() for op in ops.values()):
        ops["a"].start()
    delete_searches(custom, namespace)
    for op in ops.values():
        op.stop()


def test_the_standby_replica_takes_over(
    api_client: client.ApiClient,
    core: client.CoreV1Api,
    custom: client.CustomObjectsApi,
    namespace: str,
    model: str,
    replicas: dict[str, OperatorProcess],
) -> None:
    leases = client.CoordinationV1Api(api_client)

    def holder() -> str | None:
        try:
            lease = leases.read_namespaced_lease("falcon-operator", namespace)
        except client.ApiException:
            return None
        return lease.spec.holder_identity or None

    # the first leader: includes both processes starting (imports take long on a busy host)
    leader = wait_for(holder, timeout=90, what="a leader")
    standby = "b" if leader == "a" else "a"
    create_search(custom, namespace, yaml.safe_load(EXAMPLE.read_text()))

    def two_done() -> bool:
        try:
            return len(history(core, namespace, "resnet-mini")) >= 2
        except client.ApiException:
            return False

    wait_for(two_done, timeout=120, interval=0.2, what="two trials recorded")
    replicas[leader].kill()
    t0 = time.monotonic()
    wait_for(lambda: holder() == standby, timeout=6 * LEASE_S, interval=0.2, what="takeover")
    takeover = time.monotonic() - t0
    obj = wait_search(custom, namespace, "resnet-mini", timeout=180)
    assert obj["status"]["phase"] == "Succeeded", obj["status"].get("message")
    records = [json.loads(v) for v in history(core, namespace, "resnet-mini").values()]
    assert sorted(r["index"] for r in records) == list(range(6))
    assert len({json.dumps(r["config"], sort_keys=True) for r in records}) == 6
    wait_for(lambda: not trial_pods(core, namespace, "resnet-mini"), timeout=30, what="no pods")
    # the standby did nothing for the search before it held the lease, and ran trials after
    log = replicas[standby].log.read_text()
    held = log.index(f"leader: {standby} holds lease {namespace}/falcon-operator")
    assert f"search {namespace}/resnet-mini: " not in log[:held], log[:held]
    assert f"search {namespace}/resnet-mini: TrialStarted: " in log[held:], log[held:]
    print(
        f"\n[e2e] replicas: {standby} took the lease {takeover:.1f} s after {leader} was "
        f"killed; 6 trials, none repeated",
        file=sys.stderr,
    )
