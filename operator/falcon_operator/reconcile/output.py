"""The recommendation: the best configuration as a Deployment, written where the spec says.

The manifests come from :func:`falcon_operator.recommend.serving.recommendation_manifests`, the
builder ``falcon search`` uses too; this module gives it the search's model, GPU node selector,
output name, labels and replicas (with a throughput target, those that serve it). Modes: Status
(status only), ConfigMap (``<search>-recommendation`` with manifests.yaml, owned by the search),
Apply (server-side apply of both objects, field manager falcon-operator, not forced, not owned:
deleting the search leaves the serving Deployment alone; only objects the search created or whose
owner opted in are written, see :mod:`falcon_operator.reconcile.ownership`).
"""

from __future__ import annotations

from typing import Any

from falcon_operator.core.errors import PermanentError
from falcon_operator.core.records import TrialRecord
from falcon_operator.recommend.deployment import DeploymentOptions, to_yaml
from falcon_operator.recommend.serving import recommendation_manifests
from falcon_operator.reconcile.kube import Kube
from falcon_operator.reconcile.ownership import APPLY_CONFLICT, conflict, marked, plan_writes
from falcon_operator.spec.resolve import ResolvedSearch
from falcon_operator.trials.manifest import SearchRef
from falcon_operator.trials.naming import common_labels, recommendation_configmap

Obj = dict[str, Any]


def recommendation(rs: ResolvedSearch, ref: SearchRef, best: TrialRecord) -> tuple[Obj, Obj]:
    """(model-config ConfigMap, Deployment) for the best trial."""
    out = rs.spec.output
    options = DeploymentOptions(
        name=out.deployment_name or ref.name,
        namespace=ref.namespace,
        # with a throughput target, the replicas that serve it (spec.output.replicas otherwise)
        replicas=rs.objective.deployment_replicas(
            best.metrics.get("rps", 0.0), otherwise=out.replicas
        ),
        host_memory=f"{rs.spec.search_space.host_memory_gib:g}Gi",  # what the trials measured
        labels=out.labels,
        node_selector=rs.choice(best.config).node_selector,
    )
    configmap, deployment = recommendation_manifests(
        best.config, rs.catalog, rs.spec.model, options, objective=best.objective
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
        await apply_owned(kube, ref, configmap, deployment)
        return f"Deployment/{deployment['metadata']['name']}"
    return ""


async def apply_owned(kube: Kube, ref: SearchRef, configmap: Obj, deployment: Obj) -> None:
    """Apply the model-config ConfigMap, then the Deployment, where ownership allows it."""
    ns, cm_name = ref.namespace, configmap["metadata"]["name"]
    dep_name = deployment["metadata"]["name"]
    cm_plan, dep_plan = plan_writes(
        ref.name,
        deployment=await kube.get_deployment(ns, dep_name),
        configmap=await kube.get_configmap(ns, cm_name),
        deployment_name=dep_name,
        configmap_name=cm_name,
        namespace=ns,
    )
    try:
        await kube.apply(marked(configmap, cm_plan, ref.name), force=cm_plan.force)
        await kube.apply(marked(deployment, dep_plan, ref.name), force=dep_plan.force)
    except PermanentError as exc:
        if exc.reason != APPLY_CONFLICT:
            raise
        raise conflict(str(exc)) from None
