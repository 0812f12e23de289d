"""Malformed searches: the API server rejects each with a readable message (the CRD's schema,
CEL rules, list types); what only the operator can judge ends as a clear condition. The
operator survives all of them.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from falcon_e2e.operator import (
    GROUP,
    PLURAL,
    VERSION,
    OperatorProcess,
    condition,
    create_search,
    wait_search,
)
from kubernetes import client

Body = dict[str, Any]
BASE: Body = {
    "apiVersion": "autoconfig.falcon.io/v1alpha1",
    "kind": "InferenceConfigSearch",
    "metadata": {"name": "bad"},
    "spec": {
        "model": {
            "name": "resnet-mini",
            "configMapRef": {"name": "resnet-mini-model", "key": "model.onnx"},
        },
        "searchSpace": {"gpus": [{"type": "T4"}]},
    },
}


def _set(path: str, value: Any) -> Callable[[Body], None]:
    def mutate(body: Body) -> None:
        *parents, last = path.split(".")
        node = body
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node.setdefault(p, {})
        if value is DELETE:
            del node[last]
        else:
            node[last] = value

    return mutate


DELETE = object()
S, M, SP = "spec", "spec.model", "spec.searchSpace"

# (id, mutation, a fragment the API server's message must contain)
REJECTED: list[tuple[str, Callable[[Body], None], str]] = [
    ("no-spec", _set("spec", DELETE), "spec: Required value"),
    ("no-model", _set(f"{S}.model", DELETE), "spec.model: Required value"),
    ("no-search-space", _set(f"{S}.searchSpace", DELETE), "spec.searchSpace: Required value"),
    ("empty-model-name", _set(f"{M}.name", ""), "spec.model.name"),
    ("model-name-chars", _set(f"{M}.name", "bad name!"), "spec.model.name"),
    ("format-not-onnx", _set(f"{M}.format", "tensorrt"), 'supported values: "onnx"'),
    ("both-sources", _set(f"{M}.storageUri", "s3://b/m.onnx"), "exactly one of"),
    ("no-source", _set(f"{M}.configMapRef", DELETE), "exactly one of"),
    (
        "bad-uri-scheme",
        lambda b: (
            _set(f"{M}.configMapRef", DELETE)(b),
            _set(f"{M}.storageUri", "ftp://x/m.onnx")(b),
        ),
        "storageUri",
    ),
    ("configmap-without-key", _set(f"{M}.configMapRef", {"name": "m"}), "key: Required value"),
    ("configmap-bad-name", _set(f"{M}.configMapRef.name", "Bad_Name"), "configMapRef.name"),
    ("secret-without-name", _set(f"{M}.credentialsSecretRef", {}), "name: Required value"),
    (
        "model-config-chooses-the-backend",
        _set(f"{M}.modelConfig", {"backend": "python", "default_model_filename": "model.onnx"}),
        "spec.model.modelConfig may not set platform, backend",
    ),
    ("profile-share-above-1", _set(f"{M}.operatorProfile", {"conv2d": 1.5}), "operatorProfile"),
    ("no-gpus", _set(f"{SP}.gpus", []), "spec.searchSpace.gpus"),
    ("gpu-without-type", _set(f"{SP}.gpus", [{"wholeGpu": True}]), "type: Required value"),
    ("duplicate-gpu", _set(f"{SP}.gpus", [{"type": "T4"}, {"type": "T4"}]), "Duplicate value"),
    (
        "bad-mig-profile",
        _set(f"{SP}.gpus", [{"type": "H100", "migProfiles": ["3g"]}]),
        "migProfiles",
    ),
    (
        "mig-only-without-profiles",
        _set(f"{SP}.gpus", [{"type": "A100", "wholeGpu": False}]),
        "needs at least one MIG profile",
    ),
    (
        "negative-mps-memory",
        _set(f"{SP}.gpus", [{"type": "T4", "mpsMemoryGB": [-1]}]),
        "mpsMemoryGB",
    ),
    ("zero-cpus", _set(f"{SP}.cpus", [0]), "spec.searchSpace.cpus"),
    ("duplicate-cpus", _set(f"{SP}.cpus", [2, 2]), "Duplicate value"),
    ("fractional-cpus", _set(f"{SP}.cpus", [1.5]), "cpus"),
    ("duplicate-gpu-memory", _set(f"{SP}.gpuMemoryGB", [1, 1]), "must be distinct"),
    ("zero-batch", _set(f"{SP}.batchSizes", [0]), "batchSizes"),
    ("huge-batch", _set(f"{SP}.batchSizes", [8192]), "batchSizes"),
    ("power-above-100", _set(f"{SP}.powerLimits", [120]), "powerLimits"),
    ("zero-host-memory", _set(f"{SP}.hostMemoryGiB", 0), "hostMemoryGiB"),
    (
        "space-too-large",
        lambda b: b[S]["searchSpace"].update(
            gpus=[{"type": "T4"}, {"type": "V100"}],
            cpus=list(range(1, 17)),
            batchSizes=list(range(1, 17)),
            powerLimits=list(range(50, 66)),
            gpuMemoryGB=list(range(16)),
        ),
        "too large",
    ),
    ("unknown-metric", _set(f"{S}.objective.metric", "Latency"), "objective.metric"),
    ("zero-slo", _set(f"{S}.objective.sloP99Ms", 0), "sloP99Ms"),
    (
        "two-price-sources",
        _set(
            f"{S}.objective", {"prices": {"cpuCoreHour": 0.1}, "pricesConfigMapRef": {"name": "p"}}
        ),
        "at most one of",
    ),
    ("negative-price", _set(f"{S}.objective.prices", {"gpuHour": {"T4": -1}}), "gpuHour"),
    ("zero-trials", _set(f"{S}.budget.maxTrials", 0), "maxTrials"),
    ("too-many-trials", _set(f"{S}.budget.maxTrials", 100000), "maxTrials"),
    (
        "parallel-over-trials",
        _set(f"{S}.budget", {"maxTrials": 2, "maxParallelTrials": 3}),
        "must not exceed",
    ),
    ("negative-failures", _set(f"{S}.budget.maxFailedTrials", -1), "maxFailedTrials"),
    ("zero-pending-timeout", _set(f"{S}.budget.pendingTimeoutSeconds", 0), "pendingTimeout"),
    ("negative-warmup", _set(f"{S}.budget.warmupSeconds", -1), "warmupSeconds"),
    ("zero-windows", _set(f"{S}.budget.windows", 0), "windows"),
    ("unknown-algorithm", _set(f"{S}.algorithm.name", "annealing"), "algorithm.name"),
    ("kop-threshold-above-1", _set(f"{S}.algorithm.kopThreshold", 1.5), "kopThreshold"),
    ("negative-seed", _set(f"{S}.algorithm.seed", -1), "seed"),
    ("unknown-output-mode", _set(f"{S}.output.mode", "Git"), "output.mode"),
    ("bad-deployment-name", _set(f"{S}.output.deploymentName", "Not_A_Name"), "deploymentName"),
    ("negative-replicas", _set(f"{S}.output.replicas", -1), "replicas"),
    # label keys and values: the CRD's CEL rules, at admission (an invalid key would otherwise
    # reach the recommended Deployment)
    (
        "label-key-with-a-space",
        _set(f"{S}.output.labels", {"a b": "x"}),
        "every key of spec.output.labels must be a valid label key",
    ),
    (
        "label-key-too-long",
        _set(f"{S}.output.labels", {"x" * 64: "x"}),
        "every key of spec.output.labels must be a valid label key",
    ),
    (
        "label-prefix-not-a-domain",
        _set(f"{S}.output.labels", {"Team_A/app": "x"}),
        "every key of spec.output.labels must be a valid label key",
    ),
    (
        "label-value-with-a-slash",
        _set(f"{S}.output.labels", {"team": "a/b"}),
        "every value of spec.output.labels must be a valid label value",
    ),
    (
        "node-selector-bad-key",
        _set(f"{SP}.gpus", [{"type": "T4", "nodeSelector": {"pool name": "a"}}]),
        "every key of nodeSelector must be a valid label key",
    ),
    ("unknown-field", _set(f"{S}.budgets", {}), 'unknown field "spec.budgets"'),
    ("wrong-type", _set(f"{S}.budget.maxTrials", "six"), "maxTrials"),
    ("name-too-long", _set("metadata.name", "x" * 60), "at most 52 characters"),
]


@pytest.mark.parametrize(
    ("mutate", "fragment"), [(m, f) for _, m, f in REJECTED], ids=[i for i, _, _ in REJECTED]
)
def test_malformed_search_is_rejected_with_a_readable_message(
    custom: client.CustomObjectsApi, namespace: str, mutate: Callable[[Body], None], fragment: str
) -> None:
    body = copy.deepcopy(BASE)
    mutate(body)
    with pytest.raises(client.ApiException) as err:
        custom.create_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, body, field_validation="Strict"
        )
    assert err.value.status in (400, 422)
    message = json.loads(err.value.body)["message"]
    assert fragment in message, message


def test_spec_is_immutable_except_budget_and_output(
    custom: client.CustomObjectsApi, namespace: str
) -> None:
    create_search(custom, namespace, copy.deepcopy(BASE))
    before = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "bad")["spec"]
    for field, change in [
        ("model", {"name": "other"}),
        ("searchSpace", {"cpus": [8]}),
        ("objective", {"sloP99Ms": 20}),
        ("algorithm", {"seed": 7}),
    ]:
        with pytest.raises(client.ApiException) as err:
            custom.patch_namespaced_custom_object(
                GROUP, VERSION, namespace, PLURAL, "bad", {"spec": {field: change}}
            )
        message = json.loads(err.value.body)["message"]
        assert f"spec.{field} is immutable" in message, message
    custom.patch_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, "bad",
        {"spec": {"budget": {"maxTrials": 3}, "output": {"mode": "ConfigMap", "replicas": 2}}},
    )  # fmt: skip
    spec = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "bad")["spec"]
    assert spec["budget"]["maxTrials"] == 3
    assert (spec["output"]["mode"], spec["output"]["replicas"]) == ("ConfigMap", 2)
    for field in ("model", "searchSpace", "objective", "algorithm"):
        assert spec[field] == before[field], field


# what the schema cannot know: judged by the operator, ending in a clear condition
OPERATOR_REJECTED: list[tuple[str, Callable[[Body], None], str, str]] = [
    (
        "unknown-gpu-type",
        _set(f"{SP}.gpus", [{"type": "Z100"}]),
        "InvalidSpec",
        "unknown GPU type 'Z100'",
    ),
    (
        "mig-on-a-t4",
        _set(f"{SP}.gpus", [{"type": "T4", "migProfiles": ["1g.5gb"]}]),
        "InvalidSpec",
        "T4 has no MIG profile",
    ),
    (
        "price-for-unknown-gpu",
        _set(f"{S}.objective.prices", {"gpuHour": {"Z100": 1}}),
        "InvalidSpec",
        "unknown GPU types ['Z100']",
    ),
    (
        "model-key-missing",
        _set(f"{M}.configMapRef.key", "missing.onnx"),
        "ModelUnavailable",
        "has no key 'missing.onnx'",
    ),
    (
        "not-an-onnx-file",
        _set(f"{M}.configMapRef", {"name": "not-onnx", "key": "model.onnx"}),
        "InvalidModel",
        "cannot analyse the model",
    ),
    (
        "absurd-input-size",
        _set(f"{M}.configMapRef", {"name": "absurd", "key": "model.onnx"}),
        "InvalidModel",
        "input 'pixels' declares 1,099,511,627,776 elements per request",
    ),
    (
        "disallowed-triton-image",
        _set(f"{M}.tritonImage", "docker.io/attacker/miner:latest"),
        "ImageNotAllowed",
        "spec.model.tritonImage 'docker.io/attacker/miner:latest' matches none of the "
        "operator's allowed images",
    ),
]


def _absurd_model() -> bytes:
    """A valid ONNX graph whose input declares 2^40 elements per request."""
    from onnx import TensorProto
    from onnx import helper as oh

    dims = ["N", 1 << 20, 1 << 20]
    graph = oh.make_graph(
        [oh.make_node("Relu", ["pixels"], ["y"])],
        "absurd",
        [oh.make_tensor_value_info("pixels", TensorProto.FLOAT, dims)],
        [oh.make_tensor_value_info("y", TensorProto.FLOAT, dims)],
    )
    model = oh.make_model(graph, opset_imports=[oh.make_opsetid("", 13)])
    return model.SerializeToString()


@pytest.mark.parametrize(
    ("mutate", "reason", "fragment"),
    [(m, r, f) for _, m, r, f in OPERATOR_REJECTED],
    ids=[i for i, *_ in OPERATOR_REJECTED],
)
def test_invalid_search_ends_in_a_clear_condition(
    core: client.CoreV1Api,
    custom: client.CustomObjectsApi,
    namespace: str,
    model: str,
    operator: OperatorProcess,
    mutate: Callable[[Body], None],
    reason: str,
    fragment: str,
) -> None:
    core.create_namespaced_config_map(
        namespace,
        client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="not-onnx"), data={"model.onnx": "not a model"}
        ),
    )
    absurd = base64.b64encode(_absurd_model()).decode()
    core.create_namespaced_config_map(
        namespace,
        client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="absurd"), binary_data={"model.onnx": absurd}
        ),
    )
    body = copy.deepcopy(BASE)
    mutate(body)
    create_search(custom, namespace, body)
    obj = wait_search(custom, namespace, "bad", phases=("Failed",), timeout=60)
    spec_valid = condition(obj, "SpecValid")
    assert spec_valid["status"] == "False" and spec_valid["reason"] == reason
    assert fragment in spec_valid["message"], spec_valid["message"]
    assert condition(obj, "Failed")["status"] == "True"
    assert operator.alive()
