"""The recommended manifests: right pool, right resources, the model fetched, plain YAML."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from falcon_operator.core.catalog import load_catalog
from falcon_operator.core.space import Value
from falcon_operator.recommend.deployment import DeploymentOptions, to_yaml
from falcon_operator.recommend.serving import recommendation_manifests
from falcon_operator.spec.model import ConfigMapKeyRef, ModelSpec

IN_CONFIGMAP = ModelSpec("resnet", config_map_ref=ConfigMapKeyRef("resnet-onnx", "model.onnx"))


def _manifests(
    gpu: str, gpumem: float = 0.0, model: ModelSpec = IN_CONFIGMAP, **options: Any
) -> list[dict[str, Any]]:
    config: dict[str, Value] = {
        "batchsize": 16,
        "cpus": 4,
        "gpumem": gpumem,
        "gpupower": 75,
        "gputype": gpu,
    }
    return recommendation_manifests(
        config, load_catalog(), model, DeploymentOptions("svc", **options), objective=42.0
    )


def _pod(deployment: dict[str, Any]) -> dict[str, Any]:
    return deployment["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def test_whole_gpu_deployment() -> None:
    configmap, deployment = _manifests("T4")
    spec = _pod(deployment)
    assert spec["nodeSelector"] == {
        "nvidia.com/gpu.product": "Tesla-T4",
        "autoconfig.falcon.io/gpu-power-limit": "75",
    }
    (triton,) = spec["containers"]
    assert triton["resources"]["limits"] == {"cpu": "4", "memory": "4Gi", "nvidia.com/gpu": "1"}
    assert "max_batch_size: 16" in configmap["data"]["config.pbtxt"]
    assert "preferred_batch_size: [16]" in configmap["data"]["config.pbtxt"]
    env = {e["name"]: e["value"] for e in triton["env"]}
    assert "CUDA_MPS_PINNED_DEVICE_MEM_LIMIT" not in env
    annotations = deployment["metadata"]["annotations"]
    assert json.loads(annotations["autoconfig.falcon.io/configuration"])["gputype"] == "T4"


def test_the_model_reaches_the_repository_through_an_init_container() -> None:
    configmap, deployment = _manifests("T4")
    spec = _pod(deployment)
    (prepare,) = spec["initContainers"]
    script = prepare["command"][2]
    assert "cp /model-src/model.onnx /models/resnet/1/model.onnx" in script
    assert "/models/resnet/config.pbtxt" in script
    (env,) = prepare["env"]  # config.pbtxt comes from the ConfigMap: one place to edit it
    assert env["valueFrom"]["configMapKeyRef"] == {
        "name": configmap["metadata"]["name"],
        "key": "config.pbtxt",
    }
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["model-src"]["configMap"] == {
        "name": "resnet-onnx",
        "items": [{"key": "model.onnx", "path": "model.onnx"}],
    }
    assert volumes["models"] == {"name": "models", "emptyDir": {}}
    (triton,) = spec["containers"]
    assert triton["args"] == ["tritonserver", "--model-repository=/models"]
    assert triton["volumeMounts"] == [{"name": "models", "mountPath": "/models"}]


def test_a_storage_uri_is_downloaded_with_its_credentials() -> None:
    model = ModelSpec("bert", storage_uri="s3://bucket/m/bert.onnx", credentials_secret="s3")
    _, deployment = _manifests("T4", model=model)
    fetch, prepare = _pod(deployment)["initContainers"]
    assert fetch["args"] == ["s3://bucket/m/bert.onnx", "/model-src"]
    assert fetch["envFrom"] == [{"secretRef": {"name": "s3"}}]
    assert "cp /model-src/bert.onnx /models/bert/1/model.onnx" in prepare["command"][2]


def test_a_pvc_is_mounted_read_only() -> None:
    model = ModelSpec("bert", storage_uri="pvc://models/bert/model.onnx")
    _, deployment = _manifests("T4", model=model)
    volumes = {v["name"]: v for v in _pod(deployment)["volumes"]}
    assert volumes["model-src"]["persistentVolumeClaim"] == {
        "claimName": "models",
        "readOnly": True,
    }
    (prepare,) = _pod(deployment)["initContainers"]
    assert "cp /model-src/bert/model.onnx " in prepare["command"][2]


def test_options_set_selector_labels_and_replicas() -> None:
    configmap, deployment = _manifests(
        "T4", node_selector={"pool": "t4"}, labels={"team": "a"}, replicas=3
    )
    assert _pod(deployment)["nodeSelector"] == {
        "pool": "t4",
        "autoconfig.falcon.io/gpu-power-limit": "75",
    }
    for labels in (
        configmap["metadata"]["labels"],
        deployment["metadata"]["labels"],
        deployment["spec"]["template"]["metadata"]["labels"],
    ):
        assert labels["team"] == "a" and labels["app.kubernetes.io/name"] == "svc"
    assert deployment["spec"]["replicas"] == 3


def test_mig_slice_and_mps_limit() -> None:
    _, deployment = _manifests("A100/3g.20gb", gpumem=8.0)
    (triton,) = _pod(deployment)["containers"]
    limits = triton["resources"]["limits"]
    assert limits["nvidia.com/mig-3g.20gb"] == "1" and "nvidia.com/gpu" not in limits
    env = {e["name"]: e["value"] for e in triton["env"]}
    assert env["CUDA_MPS_PINNED_DEVICE_MEM_LIMIT"] == "0=8G"


def test_yaml_is_plain_and_round_trips() -> None:
    text = to_yaml(_manifests("V100"))
    assert "&id" not in text and "*id" not in text  # no anchors for GitOps diffs
    assert "config.pbtxt: |" in text
    docs = list(yaml.safe_load_all(text))
    assert [d["kind"] for d in docs] == ["ConfigMap", "Deployment"]
    assert docs == _manifests("V100")


def test_unknown_gpu_is_an_error() -> None:
    from falcon_operator.core.errors import DataError

    with pytest.raises(DataError):
        _manifests("TPU")
