"""The recommended manifests are valid Kubernetes objects: a server-side dry run accepts them."""

from __future__ import annotations

from pathlib import Path

import yaml
from kubernetes import client

from falcon_operator.cli.main import main
from falcon_operator.fleet.catalog import load_catalog
from falcon_operator.recommend.deployment import DeploymentOptions, recommendation_manifests

MODEL = Path(__file__).resolve().parent.parent / "operator/falcon_operator/data/models"


def _dry_run(api_client: client.ApiClient, namespace: str, docs: list[dict[str, object]]) -> None:
    configmap, deployment = docs
    configmap["metadata"]["namespace"] = namespace  # type: ignore[index]
    deployment["metadata"]["namespace"] = namespace  # type: ignore[index]
    core, apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)
    core.create_namespaced_config_map(namespace, configmap, dry_run="All")
    created = apps.create_namespaced_deployment(namespace, deployment, dry_run="All")
    assert created.metadata.name == deployment["metadata"]["name"]  # type: ignore[index]
    assert (
        created.spec.template.spec.node_selector
        == deployment["spec"]["template"]["spec"][  # type: ignore[index]
            "nodeSelector"
        ]
    )


def test_search_output_passes_server_side_dry_run(
    api_client: client.ApiClient, namespace: str, tmp_path: Path
) -> None:
    out = tmp_path / "rec.yaml"
    argv = ["search", str(MODEL / "resnet-mini.onnx"), "--trials", "3", "--output", str(out)]
    assert main(argv) == 0
    _dry_run(api_client, namespace, list(yaml.safe_load_all(out.read_text())))


def test_mig_recommendation_passes_server_side_dry_run(
    api_client: client.ApiClient, namespace: str
) -> None:
    config = {"batchsize": 8, "cpus": 2, "gpumem": 4.0, "gpupower": 100, "gputype": "H100/1g.10gb"}
    docs = recommendation_manifests(config, load_catalog(), DeploymentOptions("mig", "resnet"))
    _dry_run(api_client, namespace, docs)
