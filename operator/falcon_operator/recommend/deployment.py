"""The pieces of the recommended Deployment that do not depend on the model: placement, resources.

The Deployment schedules onto the right GPU pool through GPU Feature Discovery labels
(``nvidia.com/gpu.product``) and the power-limit pool label, asks for a whole GPU
(``nvidia.com/gpu``) or a MIG slice (``nvidia.com/mig-<profile>``) and caps GPU memory through
MPS (``CUDA_MPS_PINNED_DEVICE_MEM_LIMIT``) when the configuration limits it. The whole
Deployment, model included, is built by :mod:`falcon_operator.recommend.serving` (the one builder
of ``falcon search`` and the operator); this module stays free of heavy imports so that
``falcon export`` can use :func:`to_yaml` cheaply. The default Triton image is the spec's
(:data:`falcon_operator.spec.constants.TRITON_IMAGE`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from falcon_operator.core.catalog import Catalog
from falcon_operator.core.space import Value

POWER_LABEL = "autoconfig.falcon.io/gpu-power-limit"
PRODUCT_LABEL = "nvidia.com/gpu.product"


@dataclass(frozen=True)
class DeploymentOptions:
    """What the recommended Deployment is called, where it goes, and its extra labels."""

    name: str
    namespace: str = "default"
    replicas: int = 1
    host_memory: str = "4Gi"
    #: added to the labels of every object and of the pod template (the builder's own win)
    labels: Mapping[str, str] = field(default_factory=dict)
    #: None: the GPU type's product label; the power-limit label is always added
    node_selector: Mapping[str, str] | None = None


def resources(config: Mapping[str, Value], catalog: Catalog, host_memory: str) -> dict[str, Any]:
    """Requests = limits: the configuration's CPU cores, host memory and GPU or MIG slice."""
    sl = catalog.slice(str(config["gputype"]))
    gpu = f"nvidia.com/mig-{sl.profile}" if sl.profile else "nvidia.com/gpu"
    cpus = str(config["cpus"])
    return {
        "requests": {"cpu": cpus, "memory": host_memory, gpu: "1"},
        "limits": {"cpu": cpus, "memory": host_memory, gpu: "1"},
    }


def node_selector(
    config: Mapping[str, Value], catalog: Catalog, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """``base`` (default: the GPU product label) plus the power-limit pool label."""
    selector = dict(base) if base is not None else {}
    if base is None:
        selector[PRODUCT_LABEL] = catalog.slice(str(config["gputype"])).gpu.product
    if "gpupower" in config:
        selector[POWER_LABEL] = str(config["gpupower"])
    return selector


def triton_env(config: Mapping[str, Value]) -> list[dict[str, str]]:
    """The batch size, and the MPS memory cap when the configuration limits GPU memory."""
    env = [{"name": "FALCON_MAX_BATCH_SIZE", "value": str(int(config["batchsize"]))}]
    gpumem = float(config.get("gpumem", 0.0))
    if gpumem > 0:
        env.append({"name": "CUDA_MPS_PINNED_DEVICE_MEM_LIMIT", "value": f"0={gpumem:g}G"})
    return env


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
