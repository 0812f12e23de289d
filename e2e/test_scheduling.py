"""The operator's trial pods on the GPU node pools: each lands where its configuration says.

A search over every GPU of the test cluster (T4 at three power caps, V100, M60, K80, A100,
H100 whole and as two MIG slices) is accepted by the API server and resolved by the operator's
own resolver; the operator's trial-pod builder (``trials.manifest.trial_pod``) renders one pod per
configuration, owned by that search, and the real kube-scheduler must place each on the pool of
its GPU product, power cap and MIG profile (the knobs ``gputype`` and ``gpupower`` rendered as
node selector and extended resource): a whole H100 never on the MIG-partitioned pool, a slice
never on a whole-GPU one, no trial on the real node real-0. A configuration with more CPUs
than its pool's nodes (the ``cpus`` knob rendered as requests) stays Pending with the
scheduler's reason, which is what the operator records as infeasible.
"""

from __future__ import annotations

import copy
from typing import Any

from falcon_e2e.cluster import wait_for
from falcon_e2e.nodepools import KWOK_ANNOTATION, POOL_LABEL
from falcon_e2e.operator import GROUP, PLURAL, VERSION, create_search
from falcon_e2e.pods import wait_phase, wait_unschedulable
from falcon_e2e.realnode import NODE_NAME as REAL_NODE
from kubernetes import client

from falcon_operator.core.catalog import load_catalog
from falcon_operator.core.space import Value
from falcon_operator.spec.parse import parse_spec
from falcon_operator.spec.resolve import ResolvedSearch, resolve
from falcon_operator.trials.manifest import SearchRef, trial_pod

SEARCH = "placement"
BODY: dict[str, Any] = {
    "apiVersion": f"{GROUP}/{VERSION}",
    "kind": "InferenceConfigSearch",
    "metadata": {"name": SEARCH},
    "spec": {
        "model": {
            "name": "resnet-mini",
            "configMapRef": {"name": "resnet-mini-model", "key": "model.onnx"},
        },
        "searchSpace": {
            "gpus": [
                {"type": "T4"},
                {"type": "V100"},
                {"type": "M60"},
                {"type": "K80"},
                {"type": "A100"},
                {"type": "H100", "migProfiles": ["1g.10gb", "3g.40gb"]},
            ],
            "cpus": [2, 16],
            "batchSizes": [4],
            "powerLimits": [50, 75, 100],
        },
    },
}
#: (gputype, gpupower) -> the node pool (e2e/cluster/nodepools.yaml) its trial pod must land on
PLACEMENT: dict[tuple[str, int], str] = {
    ("T4", 50): "t4-pl50",
    ("T4", 75): "t4-pl75",
    ("T4", 100): "t4-pl100",
    ("V100", 100): "v100",
    ("M60", 100): "m60",
    ("K80", 100): "k80",
    ("A100", 100): "a100",
    ("H100", 100): "h100",
    ("H100/1g.10gb", 100): "h100-mig",
    ("H100/3g.40gb", 100): "h100-mig",
}


def _config(rs: ResolvedSearch, gputype: str, gpupower: int, cpus: int) -> dict[str, Value]:
    """A configuration of the resolved space with these knob values (the others: the first)."""
    return next(
        c
        for c in rs.space.configs()
        if (c["gputype"], c["gpupower"], c["cpus"]) == (gputype, gpupower, cpus)
    )


def _search(custom: client.CustomObjectsApi, namespace: str) -> tuple[ResolvedSearch, SearchRef]:
    """The search created (no operator runs here: it only owns the pods) and resolved."""
    create_search(custom, namespace, copy.deepcopy(BODY))
    obj = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, SEARCH)
    rs = resolve(parse_spec(obj["spec"]), load_catalog())
    return rs, SearchRef(SEARCH, namespace, obj["metadata"]["uid"])


def test_every_trial_pod_lands_on_the_pool_of_its_configuration(
    core: client.CoreV1Api, custom: client.CustomObjectsApi, namespace: str
) -> None:
    rs, ref = _search(custom, namespace)
    names: dict[str, tuple[str, int]] = {}
    for index, (gputype, gpupower) in enumerate(PLACEMENT):
        body = trial_pod(rs, ref, index, _config(rs, gputype, gpupower, 2))
        core.create_namespaced_pod(namespace, body)
        names[body["metadata"]["name"]] = (gputype, gpupower)
    landed: dict[tuple[str, int], str] = {}
    for name, key in names.items():
        pod = wait_phase(core, namespace, name, "Running", timeout=60)
        node = core.read_node(pod.spec.node_name)
        assert pod.spec.node_name != REAL_NODE, f"{key} ran on the real node"
        assert node.metadata.annotations[KWOK_ANNOTATION] == "fake", node.metadata.name
        landed[key] = node.metadata.labels[POOL_LABEL]
        owner = pod.metadata.owner_references[0]
        assert (owner.kind, owner.name, owner.uid) == ("InferenceConfigSearch", SEARCH, ref.uid)
    assert landed == PLACEMENT


def test_a_trial_pod_asking_more_cpus_than_its_pool_has_stays_unschedulable(
    core: client.CoreV1Api, custom: client.CustomObjectsApi, namespace: str
) -> None:
    rs, ref = _search(custom, namespace)
    body = trial_pod(rs, ref, 0, _config(rs, "T4", 100, 16))  # g4dn.2xlarge nodes: 8 cores
    core.create_namespaced_pod(namespace, body)
    name = body["metadata"]["name"]
    pod = wait_unschedulable(core, namespace, name)
    assert pod.spec.node_name is None
    message = next(c.message for c in pod.status.conditions if c.type == "PodScheduled")
    assert "Insufficient cpu" in message, message
    # deleting the search takes its trial pods with it (the owner reference)
    custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, SEARCH)
    wait_for(
        lambda: not core.list_namespaced_pod(namespace).items,
        timeout=30,
        what="the garbage collector deleting the search's trial pod",
    )
