"""The recommendation: the best configuration as a Deployment, written where the spec says.

The manifests come from :mod:`falcon_operator.recommend.deployment`; this module adapts them to
the search: the spec's node selectors, its model-config overrides, its output labels and
replicas, and the init containers that fetch the model (as in the trial pods). Modes: Status
(status only), ConfigMap (``<search>-recommendation`` with manifests.yaml, owned by the search),
Apply (server-side apply of both objects, field manager falcon-operator, not owned: deleting
the search leaves the serving Deployment alone).
"""

from __future__ import annotations

from typing import Any

from falcon_operator.recommend.deployment import (
    DeploymentOptions,
    recommendation_manifests,
    to_yaml,
)
from falcon_operator.reconcile.kube import Kube
from falcon_operator.search.records import TrialRecord
from falcon_operator.spec.constants import POWER_LABEL
from falcon_operator.spec.resolve import ResolvedSearch
from falcon_operator.trials.manifest import SearchRef
from falcon_operator.trials.modelconfig import model_config, to_pbtxt
from falcon_operator.trials.naming import common_labels, recommendation_configmap
from falcon_operator.trials.source import model_init

Obj = dict[str, Any]


def recommendation(rs: ResolvedSearch, ref: SearchRef, best: TrialRecord) -> tuple[Obj, Obj]:
    """(model-config ConfigMap, Deployment) for the best trial."""
    spec, out = rs.spec, rs.spec.output
    name = out.deployment_name or ref.name
    options = DeploymentOptions(
        name=name,
        model_name=spec.model.name,
        namespace=ref.namespace,
        replicas=out.replicas,
        image=spec.model.triton_image,
    )
    configmap, deployment = recommendation_manifests(
        best.config, rs.catalog, options, objective=best.objective
    )
    pbtxt = to_pbtxt(
        model_config(spec.model.name, int(best.config["batchsize"]), extra=spec.model.model_config)
    )
    configmap["data"]["config.pbtxt"] = pbtxt
    init, volumes = model_init(spec.model, pbtxt)
    for c in init:
        if c["name"] == "prepare-model":
            c["env"] = [
                {
                    "name": "FALCON_MODEL_CONFIG",
                    "valueFrom": {
                        "configMapKeyRef": {
                            "name": configmap["metadata"]["name"],
                            "key": "config.pbtxt",
                        }
                    },
                }
            ]
    pod = deployment["spec"]["template"]["spec"]
    pod["nodeSelector"] = dict(rs.choice(best.config).node_selector) | {
        POWER_LABEL: str(best.config["gpupower"])
    }
    pod["initContainers"] = init
    pod["volumes"] = volumes
    pod["containers"][0]["volumeMounts"] = [{"name": "models", "mountPath": "/models"}]
    pod["securityContext"] = {
        "runAsNonRoot": True,
        "runAsUser": 1000,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    for obj in (configmap, deployment):
        obj["metadata"]["labels"] = dict(out.labels) | obj["metadata"]["labels"]
    deployment["spec"]["template"]["metadata"]["labels"] = (
        dict(out.labels) | deployment["spec"]["template"]["metadata"]["labels"]
    )
    return configmap, deployment


async def write_output(
    kube: Kube, rs: ResolvedSearch, ref: SearchRef, manifests: tuple[Obj, Obj]
) -> str:
    """Write the recommendation per spec.output.mode; returns where it went ("" for Status)."""
    mode = rs.spec.output.mode
    configmap, deployment = manifests
    if mode == "ConfigMap":
        name = recommendation_configmap(ref.name)
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": name,
                "namespace": ref.namespace,
                "labels": common_labels(ref.name, "recommendation"),
                "ownerReferences": [ref.owner_reference()],
            },
            "data": {"manifests.yaml": to_yaml([configmap, deployment])},
        }
        await kube.apply(body)
        return f"ConfigMap/{name}"
    if mode == "Apply":
        await kube.apply(configmap)
        await kube.apply(deployment)
        return f"Deployment/{deployment['metadata']['name']}"
    return ""
