"""The recommended Triton Deployment with its model: the one builder of every recommendation.

``falcon search`` (offline) and the operator (``status.recommendation``, the ConfigMap and Apply
outputs, hence ``falcon export``) both call :func:`recommendation_manifests`. It returns the
model-config ConfigMap (``config.pbtxt``: dynamic batching towards the chosen batch size, with
``spec.model.modelConfig`` merged, exactly as trial pods get it) and a Deployment whose init
containers fetch the model as trial pods do (:func:`falcon_operator.trials.source.model_init`:
from a ConfigMap, a storage URI or a PVC) and leave ``/models/<name>/{config.pbtxt,1/model.onnx}``
for Triton. Its Triton container is the trial pods' own
(:func:`falcon_operator.trials.container.triton_container`, without the trial-only parts) and
its config.pbtxt the one renderer's (:func:`falcon_operator.trials.modelconfig.model_config`);
placement comes from :mod:`falcon_operator.recommend.deployment`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from falcon_operator.core.catalog import Catalog
from falcon_operator.core.space import Value
from falcon_operator.recommend.deployment import DeploymentOptions, node_selector
from falcon_operator.spec.model import ModelSpec
from falcon_operator.trials.container import triton_container
from falcon_operator.trials.modelconfig import model_config as json_model_config
from falcon_operator.trials.modelconfig import to_pbtxt
from falcon_operator.trials.source import SourceImages, model_init

Obj = dict[str, Any]
CONFIG_KEY = "config.pbtxt"


def model_config(
    model_name: str, config: Mapping[str, Value], *, extra: Mapping[str, Any] | None = None
) -> str:
    """The recommendation's config.pbtxt (the trial pods' own, so what was measured is served)."""
    return to_pbtxt(json_model_config(model_name, config, extra=extra))


def recommendation_manifests(
    config: Mapping[str, Value],
    catalog: Catalog,
    model: ModelSpec,
    options: DeploymentOptions,
    *,
    objective: float | None = None,
    images: SourceImages | None = None,
) -> list[Obj]:
    """[the model-config ConfigMap, the Deployment] that serve ``model`` in ``config``."""
    labels = dict(options.labels) | {
        "app.kubernetes.io/name": options.name,
        "app.kubernetes.io/managed-by": "falcon-operator",
    }
    configmap_name = f"{options.name}-model-config"
    pbtxt = model_config(model.name, config, extra=model.model_config)
    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": configmap_name,
            "namespace": options.namespace,
            "labels": dict(labels),
        },
        "data": {CONFIG_KEY: pbtxt},
    }
    init, volumes = model_init(model, pbtxt, images=images)
    for c in init:
        if c["name"] == "prepare-model":  # config.pbtxt from the ConfigMap: one place to edit it
            c["env"] = [
                {
                    "name": "FALCON_MODEL_CONFIG",
                    "valueFrom": {"configMapKeyRef": {"name": configmap_name, "key": CONFIG_KEY}},
                }
            ]
    annotations = {"autoconfig.falcon.io/configuration": json.dumps(dict(config), sort_keys=True)}
    if objective is not None:
        annotations["autoconfig.falcon.io/objective"] = f"{objective:.6g}"
    pod = {
        "nodeSelector": node_selector(config, catalog, options.node_selector),
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 1000,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "initContainers": init,
        "containers": [
            triton_container(config, image=model.triton_image, host_memory=options.host_memory)
        ],
        "volumes": volumes,
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
            "template": {"metadata": {"labels": dict(labels)}, "spec": pod},
        },
    }
    return [configmap, deployment]
