"""The pieces of the recommended Deployment that do not depend on the model: its placement.

The Deployment schedules onto the right GPU pool through GPU Feature Discovery labels
(``nvidia.com/gpu.product``) and the knobs' node labels (the power-limit pool label); its Triton
container (resources, MPS memory cap) is the trial pods' own
(:mod:`falcon_operator.trials.container`). The whole
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
from falcon_operator.core.knobs import GPU, PRODUCT_LABEL, render
from falcon_operator.core.space import Value


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


def node_selector(
    config: Mapping[str, Value], catalog: Catalog, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """``base`` (default: the GPU product label) plus the power-limit pool label."""
    selector = dict(base) if base is not None else {}
    if base is None:
        selector[PRODUCT_LABEL] = catalog.slice(str(config[GPU])).gpu.product
    return selector | render(config).node_selector


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
