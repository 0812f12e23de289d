"""The typed spec: defaults equal the CRD's, every field parsed, one-line errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from falcon_operator.core.errors import SpecError
from falcon_operator.spec import parse_spec
from falcon_operator.spec.model import (
    AlgorithmSpec,
    BudgetSpec,
    ModelSpec,
    ObjectiveSpec,
    OutputSpec,
    SearchSpaceSpec,
)

CRD = Path(__file__).resolve().parents[2] / "crds/autoconfig.falcon.io_inferenceconfigsearches.yaml"
MINIMAL: dict[str, Any] = {
    "model": {"name": "resnet", "configMapRef": {"name": "m", "key": "model.onnx"}},
    "searchSpace": {"gpus": [{"type": "T4"}]},
}


def _snake(name: str) -> str:
    special = {
        "storageUri": "storage_uri",
        "gpuMemoryGB": "gpu_memory_gb",
        "hostMemoryGiB": "host_memory_gib",
        "mpsMemoryGB": "mps_memory_gb",
        "pendingTimeoutSeconds": "pending_timeout_s",
        "sloP99Ms": "slo_p99_ms",
        "readyTimeoutSeconds": "ready_timeout_s",
        "measurementSeconds": "measurement_s",
        "warmupSeconds": "warmup_s",
    }
    return special.get(name) or "".join("_" + c.lower() if c.isupper() else c for c in name)


def _crd_defaults() -> dict[str, dict[str, Any]]:
    doc = yaml.safe_load(CRD.read_text())
    spec = doc["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    out: dict[str, dict[str, Any]] = {}
    for section, schema in spec["properties"].items():
        props = schema.get("properties", {})
        out[section] = {k: v["default"] for k, v in props.items() if "default" in v}
        if section == "searchSpace":
            item = props["gpus"]["items"]["properties"]
            out["gpus[]"] = {k: v["default"] for k, v in item.items() if "default" in v}
    return out


@pytest.mark.parametrize(
    ("section", "cls"),
    [
        ("model", ModelSpec),
        ("searchSpace", SearchSpaceSpec),
        ("objective", ObjectiveSpec),
        ("budget", BudgetSpec),
        ("algorithm", AlgorithmSpec),
        ("output", OutputSpec),
    ],
)
def test_dataclass_defaults_equal_the_crd_defaults(section: str, cls: type) -> None:
    defaults = {f.name: f.default for f in dataclasses.fields(cls)}
    crd = _crd_defaults()[section]
    assert crd, section
    for key, value in crd.items():
        got = defaults[_snake(key)]
        want = tuple(value) if isinstance(value, list) else value
        assert got == want, f"{section}.{key}: CRD {value!r}, dataclass {got!r}"


def test_gpu_defaults_equal_the_crd() -> None:
    assert _crd_defaults()["gpus[]"] == {"wholeGpu": True}
    assert parse_spec(MINIMAL).search_space.gpus[0].whole_gpu is True


def test_minimal_spec_takes_every_default() -> None:
    spec = parse_spec(MINIMAL)
    assert spec.budget == BudgetSpec()
    assert spec.algorithm == AlgorithmSpec()
    assert spec.output == OutputSpec()
    assert spec.objective == ObjectiveSpec()
    assert spec.search_space.cpus == (2, 4)
    assert spec.model.config_map_ref is not None and spec.model.config_map_ref.key == "model.onnx"


def test_full_spec_is_parsed() -> None:
    raw = {
        "model": {
            "name": "bert",
            "storageUri": "s3://bucket/bert.onnx",
            "credentialsSecretRef": {"name": "aws"},
            "tritonImage": "triton:x",
            "modelConfig": {"instance_group": [{"count": 2}]},
            "operatorProfile": {"dense": 0.7, "softmax": 0.3},
        },
        "searchSpace": {
            "gpus": [
                {
                    "type": "H100",
                    "migProfiles": ["1g.10gb"],
                    "wholeGpu": False,
                    "nodeSelector": {"pool": "h100"},
                    "mpsMemoryGB": [0, 5],
                }
            ],
            "cpus": [4, 1],
            "gpuMemoryGB": [2, 0],
            "batchSizes": [8],
            "powerLimits": [50, 100],
            "hostMemoryGiB": 8,
        },
        "objective": {"sloP99Ms": 20, "prices": {"gpuHour": {"H100": 10}, "cpuCoreHour": 0.05}},
        "budget": {
            "maxTrials": 20,
            "maxParallelTrials": 4,
            "maxFailedTrials": 0,
            "pendingTimeoutSeconds": 10,
            "readyTimeoutSeconds": 20,
            "measurementSeconds": 2.5,
            "warmupSeconds": 0,
            "windows": 5,
            "reusePods": False,
        },
        "algorithm": {"name": "gp-bo", "seed": 7, "kopThreshold": 0.9, "stopOnConvergence": True},
        "output": {"deploymentName": "bert", "replicas": 3, "labels": {"a": "b"}, "mode": "Apply"},
    }
    spec = parse_spec(raw)
    assert spec.model.storage_uri == "s3://bucket/bert.onnx"
    assert spec.model.credentials_secret == "aws"
    assert spec.model.operator_profile == {"dense": 0.7, "softmax": 0.3}
    gpu = spec.search_space.gpus[0]
    assert (gpu.whole_gpu, gpu.mig_profiles, gpu.mps_memory_gb) == (False, ("1g.10gb",), (0, 5))
    assert spec.search_space.cpus == (1, 4) and spec.search_space.gpu_memory_gb == (0, 2)
    assert spec.objective.prices is not None and spec.objective.prices.gpu_hour == {"H100": 10}
    assert spec.budget.max_parallel_trials == 4 and spec.budget.reuse_pods is False
    assert spec.algorithm == AlgorithmSpec("gp-bo", 7, 0.9, True)
    assert spec.output.mode == "Apply" and spec.output.labels == {"a": "b"}


def _with(path: str, value: Any) -> dict[str, Any]:
    import copy

    raw = copy.deepcopy(MINIMAL)
    *parents, last = path.split(".")
    node = raw
    for p in parents:
        node = node.setdefault(p, {})
    node[last] = value
    return raw


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (None, "spec is required"),
        ({"searchSpace": {"gpus": [{"type": "T4"}]}}, "spec.model is required"),
        (_with("model.storageUri", "s3://b/k"), "exactly one of storageUri or configMapRef"),
        (_with("model.format", "tf"), "spec.model.format must be onnx"),
        (_with("searchSpace.gpus", []), "spec.searchSpace.gpus must be a non-empty list"),
        (_with("searchSpace.gpus", [{"type": "T4"}, {"type": "T4"}]), "GPU type twice"),
        (_with("searchSpace.gpus", [{"type": "A100", "wholeGpu": False}]), "MIG profile"),
        (_with("searchSpace.cpus", [0]), "spec.searchSpace.cpus[0] must be in [1, 256]"),
        (_with("searchSpace.cpus", [2, 2]), "repeated values"),
        (_with("searchSpace.cpus", [1.5]), "must hold integers"),
        (_with("searchSpace.batchSizes", "8"), "must be a non-empty list"),
        (_with("objective.metric", "Latency"), "spec.objective.metric must be one of"),
        (
            _with("objective.metric", "CostAtTargetThroughput"),
            "spec.objective.targetRequestsPerSecond: required by metric CostAtTargetThroughput",
        ),
        (_with("objective.targetRequestsPerSecond", 100), "only by it"),
        (
            _with("objective", {"metric": "CostAtTargetThroughput", "targetRequestsPerSecond": 0}),
            "spec.objective.targetRequestsPerSecond must be",
        ),
        (_with("budget.maxTrials", 0), "spec.budget.maxTrials must be in [1, 500]"),
        (_with("budget", {"maxTrials": 2, "maxParallelTrials": 3}), "must not exceed"),
        (_with("budget.reusePods", "yes"), "must be true or false"),
        (_with("algorithm.name", "annealing"), "spec.algorithm.name must be one of"),
        (_with("output.mode", "Git"), "spec.output.mode must be one of"),
        (_with("output.labels", {"a": 1}), "must map strings to strings"),
        (_with("model.modelConfig", {"backend": "python"}), "modelConfig may not set ['backend']"),
        (_with("model.operatorProfile", {"conv2d": 0, "dense": 0}), "every share is 0"),
        (
            _with("model.modelConfig", {"platform": "x", "default_model_filename": "model.py"}),
            "may not set ['default_model_filename', 'platform']",
        ),
        (_with("output.labels", {"a b": "x"}), "spec.output.labels: 'a b' is not a valid label"),
        (_with("output.labels", {"x" * 64: "x"}), "is not a valid label key"),
        (_with("output.labels", {"-a": "x"}), "is not a valid label key"),
        (_with("output.labels", {"Bad_Prefix/a": "x"}), "is not a valid label key"),
        (_with("output.labels", {"a" * 254 + "/b": "x"}), "is not a valid label key"),
        (_with("output.labels", {"team": "a b"}), "['team']: 'a b' is not a valid label value"),
        (_with("output.labels", {"team": "v" * 64}), "is not a valid label value"),
        (
            _with("searchSpace.gpus", [{"type": "T4", "nodeSelector": {"a/b/c": "x"}}]),
            "nodeSelector: 'a/b/c' is not a valid label key",
        ),
    ],
)
def test_invalid_specs_fail_with_the_field_path(raw: Any, message: str) -> None:
    with pytest.raises(SpecError) as err:
        parse_spec(raw)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_instance_counts_are_parsed_sorted_and_default_to_one() -> None:
    assert parse_spec(MINIMAL).search_space.instance_counts == (1,)
    raw = {**MINIMAL, "searchSpace": {**MINIMAL["searchSpace"], "instanceCounts": [4, 1, 2]}}
    assert parse_spec(raw).search_space.instance_counts == (1, 2, 4)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([0], r"spec.searchSpace.instanceCounts\[0\] must be in \[1, 8\], got 0"),
        ([9], r"must be in \[1, 8\], got 9"),
        ([1.5], "must hold integers"),
        ([1, 1], "repeated values"),
        ([], "must be a non-empty list"),
        (["two"], "must be a number"),
    ],
)
def test_bad_instance_counts_are_one_line_errors(value: object, message: str) -> None:
    raw = {**MINIMAL, "searchSpace": {**MINIMAL["searchSpace"], "instanceCounts": value}}
    with pytest.raises(SpecError, match=message) as info:
        parse_spec(raw)
    assert "\n" not in str(info.value)


def test_valid_label_keys_and_values_pass() -> None:
    labels = {"team": "", "app.kubernetes.io/part-of": "x.y_z-1", "a": "b", "A9": "9"}
    assert parse_spec(_with("output.labels", labels)).output.labels == labels


def test_the_crds_label_rules_use_the_parsers_patterns() -> None:
    """One source for what a label is: the CEL rules of the CRD carry the parser's regexes."""
    from falcon_operator.spec.fields import LABEL_KEY, LABEL_VALUE

    text = CRD.read_text().replace("\\\\", "\\")  # CEL's escaped backslash
    for schema in ("spec.output.labels", "nodeSelector"):
        assert f"every key of {schema} must be a valid label key" in CRD.read_text()
    assert text.count(f"k.matches('{LABEL_KEY.pattern}')") == 2
    assert text.count(f"self[k].matches('{LABEL_VALUE.pattern}')") == 2


def test_the_crds_model_config_rule_names_every_execution_field() -> None:
    from falcon_operator.spec.parse import EXECUTION_FIELDS

    doc = yaml.safe_load(CRD.read_text())
    spec = doc["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    (rule,) = spec["properties"]["model"]["properties"]["modelConfig"]["x-kubernetes-validations"]
    assert {f"!has(self.{name})" for name in EXECUTION_FIELDS} == {
        term.strip() for term in rule["rule"].split("&&")
    }


def test_a_hostile_nesting_of_model_config_is_one_line_error() -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(5000):
        node["a"] = {}
        node = node["a"]
    with pytest.raises(SpecError, match="modelConfig nests deeper than 16 levels"):
        parse_spec(_with("model.modelConfig", {"parameters": deep}))
    ok = {"dynamic_batching": {"priority_queue_policy": {"1": {"timeout_action": "REJECT"}}}}
    assert parse_spec(_with("model.modelConfig", ok)).model.model_config == ok


def test_prices_that_make_a_configuration_free_are_refused_at_resolution() -> None:
    from falcon_operator.core.catalog import load_catalog
    from falcon_operator.spec import resolve

    free = {"gpuHour": {"T4": 0}, "cpuCoreHour": 0, "memoryGiBHour": 0}
    with pytest.raises(SpecError, match=r"configurations on \['T4'\] would cost nothing"):
        resolve(parse_spec(_with("objective.prices", free)), load_catalog())
    free["cpuCoreHour"] = 0.01  # the cores cost something: every configuration does
    assert resolve(parse_spec(_with("objective.prices", free)), load_catalog())
