"""Who may be overwritten by output.mode Apply: the operator's own objects and opted-in ones.

A search in Apply mode writes two objects: the recommended Deployment and its model-config
ConfigMap. The operator writes an object only when

- it does not exist yet (the operator creates it and marks it with the annotation
  ``autoconfig.falcon.io/created-by-search: <search>``), or
- this search created it (the same annotation names it), or
- its owner opted in: the Deployment carries ``autoconfig.falcon.io/accept-recommendation-from``
  naming this search (a comma-separated list of search names in the namespace, or ``*`` for any
  search). The Deployment's opt-in covers its model-config ConfigMap, which the Deployment
  mounts.

Anything else is refused with a :class:`PermanentError` (reason ``DeploymentNotOwned``) that
names the object and the annotation that opts in. The apply is never forced: a field that
another field manager owns (a GitOps tool's ``spec.replicas``, say) makes the API server answer
409 and the search fail (reason ``ApplyConflict``), unless the Deployment also carries
``autoconfig.falcon.io/accept-recommendation-force: "true"``. Pure functions: the kube calls are
in :mod:`falcon_operator.reconcile.output`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from falcon_operator.core.errors import PermanentError
from falcon_operator.spec.constants import (
    ACCEPT_FORCE_ANNOTATION,
    ACCEPT_FROM_ANNOTATION,
    CREATED_BY_ANNOTATION,
)

Obj = dict[str, Any]
#: condition reason of a refused write
NOT_OWNED = "DeploymentNotOwned"
#: condition reason of an apply that would take fields another field manager owns
APPLY_CONFLICT = "ApplyConflict"
#: the reasons a search fails with when ownership stops its write
OWNERSHIP_REASONS = (NOT_OWNED, APPLY_CONFLICT)


@dataclass(frozen=True)
class WritePlan:
    """How to write one object: mark it as created by the search, force the apply or not."""

    #: keep (or put) the created-by annotation in the applied object: the operator created it.
    #: Server-side apply removes a field its manager stops applying, so an object this search
    #: created must keep getting the annotation.
    mark: bool
    #: force fields other managers own (only with the Deployment's force opt-in)
    force: bool


def _annotations(obj: Mapping[str, Any] | None) -> Mapping[str, str]:
    return ((obj or {}).get("metadata") or {}).get("annotations") or {}


def opted_in(deployment: Mapping[str, Any] | None, search: str) -> bool:
    """The Deployment's owner let ``search`` update it."""
    names = _annotations(deployment).get(ACCEPT_FROM_ANNOTATION, "")
    return any(n.strip() in (search, "*") for n in names.split(",") if n.strip())


def force_accepted(deployment: Mapping[str, Any] | None) -> bool:
    """The Deployment's owner let the operator take over fields other managers own."""
    return _annotations(deployment).get(ACCEPT_FORCE_ANNOTATION, "").lower() == "true"


def created_by(obj: Mapping[str, Any] | None, search: str) -> bool:
    return _annotations(obj).get(CREATED_BY_ANNOTATION) == search


def plan_writes(
    search: str,
    *,
    deployment: Mapping[str, Any] | None,
    configmap: Mapping[str, Any] | None,
    deployment_name: str,
    configmap_name: str,
    namespace: str,
) -> tuple[WritePlan, WritePlan]:
    """(ConfigMap plan, Deployment plan) given the objects as they exist now (None: absent);
    PermanentError (reason DeploymentNotOwned) when either may not be written."""
    accepted = opted_in(deployment, search)
    force = accepted and force_accepted(deployment)
    plans = []
    for kind, name, existing in (
        ("ConfigMap", configmap_name, configmap),
        ("Deployment", deployment_name, deployment),
    ):
        if existing is None or created_by(existing, search):
            plans.append(WritePlan(mark=True, force=force))
        elif accepted:
            plans.append(WritePlan(mark=False, force=force))
        else:
            text = refusal(f"{kind} {namespace}/{name}", namespace, deployment_name, search)
            raise PermanentError(text, reason=NOT_OWNED)
    return plans[0], plans[1]


def refusal(what: str, namespace: str, deployment: str, search: str) -> str:
    """The one-line message of a refused write, with the way to opt in."""
    return (
        f"{what} exists and was not created by search {search}; the operator does not take "
        f"over objects it does not own. To let this search update it, annotate the Deployment: "
        f"kubectl -n {namespace} annotate deployment {deployment} "
        f"{ACCEPT_FROM_ANNOTATION}={search} (docs/security.md), or choose another "
        f"spec.output.deploymentName"
    )


def conflict(api_message: str) -> PermanentError:
    """An ApplyConflict with the way out: the force opt-in, or the other manager backing off."""
    return PermanentError(
        f"{api_message}; another field manager owns these fields. Let the operator take them "
        f"over by annotating the Deployment {ACCEPT_FORCE_ANNOTATION}=true, or stop the other "
        f"manager from setting them (docs/security.md)",
        reason=APPLY_CONFLICT,
    )


def marked(body: Obj, plan: WritePlan, search: str) -> Obj:
    """``body`` with the created-by annotation when ``plan`` says so (a copy)."""
    if not plan.mark:
        return body
    meta = dict(body["metadata"])
    meta["annotations"] = {**(meta.get("annotations") or {}), CREATED_BY_ANNOTATION: search}
    return {**body, "metadata": meta}
