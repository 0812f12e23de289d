"""The recommended Triton Deployment (and its model config) for one configuration.

The Deployment schedules onto the right GPU pool through GPU Feature Discovery labels
(``nvidia.com/gpu.product``) and the power-limit pool label, asks for a whole GPU
(``nvidia.com/gpu``) or a MIG slice (``nvidia.com/mig-<profile>``), caps GPU memory through
MPS (``CUDA_MPS_PINNED_DEVICE_MEM_LIMIT``) when the configuration limits it, and ships the
Triton model configuration (``max_batch_size``, dynamic batching) in a ConfigMap.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from falcon_operator.fleet.catalog import Catalog
from falcon_operator.search.space import Value

TRITON_IMAGE = "nvcr.io/nvidia/tritonserver:24.08-py3"
POWER_LABEL = "autoconfig.falcon.io/gpu-power-limit"


@dataclass(frozen=True)
class DeploymentOptions:
    """What the recommended Deployment is called and how it gets its model."""

    name: str
    model_name: str
    namespace: str = "default"
    replicas: int = 1
    image: str = TRITON_IMAGE
    model_repository: str = "/models"
    host_memory: str = "4Gi"


def model_config(model_name: str, batch: int) -> str:
    """Triton's config.pbtxt for the chosen batch size (dynamic batching on)."""
    return (
        f'name: "{model_name}"\nplatform: "onnxruntime_onnx"\nmax_batch_size: {batch}\n'
        f"dynamic_batching {{ max_queue_delay_microseconds: 2000 }}\n"
    )


def recommendation_manifests(
    config: Mapping[str, Value],
    catalog: Catalog,
    options: DeploymentOptions,
    *,
    objective: float | None = None,
) -> list[dict[str, Any]]:
    """A ConfigMap with the Triton model config and the Deployment, as plain dicts."""
    sl = catalog.slice(str(config["gputype"]))
    batch = int(config["batchsize"])
    labels = {
        "app.kubernetes.io/name": options.name,
        "app.kubernetes.io/managed-by": "falcon-operator",
    }
    gpu_resource = f"nvidia.com/mig-{sl.profile}" if sl.profile else "nvidia.com/gpu"
    cpus = str(config["cpus"])
    resources = {
        "requests": {"cpu": cpus, "memory": options.host_memory, gpu_resource: "1"},
        "limits": {"cpu": cpus, "memory": options.host_memory, gpu_resource: "1"},
    }
    env = [{"name": "FALCON_MAX_BATCH_SIZE", "value": str(batch)}]
    gpumem = float(config.get("gpumem", 0.0))
    if gpumem > 0:
        env.append({"name": "CUDA_MPS_PINNED_DEVICE_MEM_LIMIT", "value": f"0={gpumem:g}G"})
    selector = {"nvidia.com/gpu.product": sl.gpu.product}
    if "gpupower" in config:
        selector[POWER_LABEL] = str(config["gpupower"])
    annotations = {"autoconfig.falcon.io/configuration": json.dumps(dict(config), sort_keys=True)}
    if objective is not None:
        annotations["autoconfig.falcon.io/objective"] = f"{objective:.6g}"
    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": f"{options.name}-model-config",
            "namespace": options.namespace,
            "labels": labels,
        },
        "data": {"config.pbtxt": model_config(options.model_name, batch)},
    }
    container = {
        "name": "triton",
        "image": options.image,
        "args": ["tritonserver", f"--model-repository={options.model_repository}"],
        "env": env,
        "ports": [
            {"name": "http", "containerPort": 8000},
            {"name": "grpc", "containerPort": 8001},
            {"name": "metrics", "containerPort": 8002},
        ],
        "resources": resources,
        "readinessProbe": {"httpGet": {"path": "/v2/health/ready", "port": "http"}},
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 1000,
            "allowPrivilegeEscalation": False,
        },
        "volumeMounts": [
            {
                "name": "model-config",
                "mountPath": f"{options.model_repository}/{options.model_name}/config.pbtxt",
                "subPath": "config.pbtxt",
            }
        ],
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": options.name,
            "namespace": options.namespace,
            "labels": labels,
            "annotations": annotations,
        },
        "spec": {
            "replicas": options.replicas,
            "selector": {"matchLabels": {"app.kubernetes.io/name": options.name}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "nodeSelector": selector,
                    "containers": [container],
                    "volumes": [
                        {
                            "name": "model-config",
                            "configMap": {"name": f"{options.name}-model-config"},
                        }
                    ],
                },
            },
        },
    }
    return [configmap, deployment]


class _Dumper(yaml.SafeDumper):
    """Plain YAML for Git: no anchors/aliases, multi-line strings as literal blocks."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def to_yaml(manifests: list[dict[str, Any]]) -> str:
    return str(yaml.dump_all(manifests, Dumper=_Dumper, sort_keys=False, default_flow_style=False))
