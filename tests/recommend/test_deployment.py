"""The recommended manifests: right pool, right resources, Triton model config, plain YAML."""

from __future__ import annotations

import json

import pytest
import yaml

from falcon_operator.fleet.catalog import load_catalog
from falcon_operator.recommend.deployment import (
    DeploymentOptions,
    recommendation_manifests,
    to_yaml,
)


def _manifests(gpu: str, gpumem: float = 0.0) -> list[dict[str, object]]:
    config = {"batchsize": 16, "cpus": 4, "gpumem": gpumem, "gpupower": 75, "gputype": gpu}
    return recommendation_manifests(
        config, load_catalog(), DeploymentOptions("svc", "resnet"), objective=42.0
    )


def _container(deployment: dict[str, object]) -> dict[str, object]:
    return deployment["spec"]["template"]["spec"]["containers"][0]  # type: ignore[index,no-any-return]


def test_whole_gpu_deployment() -> None:
    configmap, deployment = _manifests("T4")
    spec = deployment["spec"]["template"]["spec"]  # type: ignore[index]
    assert spec["nodeSelector"] == {
        "nvidia.com/gpu.product": "Tesla-T4",
        "autoconfig.falcon.io/gpu-power-limit": "75",
    }
    resources = _container(deployment)["resources"]
    assert resources["limits"] == {"cpu": "4", "memory": "4Gi", "nvidia.com/gpu": "1"}  # type: ignore[index]
    assert "max_batch_size: 16" in configmap["data"]["config.pbtxt"]  # type: ignore[index]
    env = {e["name"]: e["value"] for e in _container(deployment)["env"]}  # type: ignore[attr-defined]
    assert "CUDA_MPS_PINNED_DEVICE_MEM_LIMIT" not in env
    annotations = deployment["metadata"]["annotations"]  # type: ignore[index]
    assert json.loads(annotations["autoconfig.falcon.io/configuration"])["gputype"] == "T4"


def test_mig_slice_and_mps_limit() -> None:
    _, deployment = _manifests("A100/3g.20gb", gpumem=8.0)
    limits = _container(deployment)["resources"]["limits"]  # type: ignore[index]
    assert limits["nvidia.com/mig-3g.20gb"] == "1" and "nvidia.com/gpu" not in limits
    env = {e["name"]: e["value"] for e in _container(deployment)["env"]}  # type: ignore[attr-defined]
    assert env["CUDA_MPS_PINNED_DEVICE_MEM_LIMIT"] == "0=8G"


def test_yaml_is_plain_and_round_trips() -> None:
    text = to_yaml(_manifests("V100"))
    assert "&id" not in text and "*id" not in text  # no anchors for GitOps diffs
    assert "config.pbtxt: |" in text
    docs = list(yaml.safe_load_all(text))
    assert [d["kind"] for d in docs] == ["ConfigMap", "Deployment"]
    assert docs == _manifests("V100")


def test_unknown_gpu_is_an_error() -> None:
    from falcon_operator.errors import DataError

    with pytest.raises(DataError):
        _manifests("TPU")
