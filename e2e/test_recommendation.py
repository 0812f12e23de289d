"""The recommended manifests are valid Kubernetes objects: a server-side dry run accepts them
(the model ConfigMap `falcon search` writes included)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from kubernetes import client

from falcon_operator.cli.main import main
from falcon_operator.core.catalog import load_catalog
from falcon_operator.core.space import Value
from falcon_operator.recommend.deployment import DeploymentOptions
from falcon_operator.recommend.serving import recommendation_manifests
from falcon_operator.spec.model import ModelSpec

MODEL = Path(__file__).resolve().parent.parent / "operator/falcon_operator/data/models"


def _dry_run(api_client: client.ApiClient, namespace: str, docs: list[dict[str, Any]]) -> None:
    *configmaps, deployment = docs
    core, apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)
    for configmap in configmaps:
        configmap["metadata"]["namespace"] = namespace
        core.create_namespaced_config_map(namespace, configmap, dry_run="All")
    deployment["metadata"]["namespace"] = namespace
    created = apps.create_namespaced_deployment(namespace, deployment, dry_run="All")
    assert created.metadata.name == deployment["metadata"]["name"]
    spec = deployment["spec"]["template"]["spec"]
    assert created.spec.template.spec.node_selector == spec["nodeSelector"]
    assert [c.name for c in created.spec.template.spec.init_containers] == [
        c["name"] for c in spec["initContainers"]
    ]


def test_search_output_passes_server_side_dry_run(
    api_client: client.ApiClient, namespace: str, tmp_path: Path
) -> None:
    out = tmp_path / "rec.yaml"
    argv = ["search", str(MODEL / "resnet-mini.onnx"), "--trials", "3", "--output", str(out)]
    assert main(argv) == 0
    docs = list(yaml.safe_load_all(out.read_text()))
    assert [d["kind"] for d in docs] == ["ConfigMap", "ConfigMap", "Deployment"]
    _dry_run(api_client, namespace, docs)


def test_mig_recommendation_passes_server_side_dry_run(
    api_client: client.ApiClient, namespace: str
) -> None:
    config: dict[str, Value] = {
        "batchsize": 8, "cpus": 2, "gpumem": 4.0, "gpupower": 100, "gputype": "H100/1g.10gb"
    }  # fmt: skip
    model = ModelSpec("resnet", storage_uri="s3://bucket/resnet.onnx", credentials_secret="s3")
    docs = recommendation_manifests(config, load_catalog(), model, DeploymentOptions("mig"))
    _dry_run(api_client, namespace, docs)
