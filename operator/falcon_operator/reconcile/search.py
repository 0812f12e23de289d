"""Run one search from its CR body: prepare, loop, finish; or fail it with a clear condition.

A search in a terminal phase is left alone. An invalid spec (or a model that cannot be
analysed) ends as phase Failed with condition SpecValid=False and the one-line reason; a model
ConfigMap that does not exist yet is retried (phase Pending, SpecValid=False, the error's reason:
ConfigMapNotFound). Any other error while preparing (a bug included) ends it Failed too, never
retried forever. A permanent error while trials run (trial pods forbidden, e.g. by a
ResourceQuota) ends the search Failed through its finish, condition reason the API's (Forbidden).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from falcon_operator import telemetry
from falcon_operator.core.errors import (
    DataError,
    FalconError,
    PermanentError,
    SpecError,
    TransientError,
)
from falcon_operator.reconcile.kube import Kube
from falcon_operator.reconcile.loop import SearchLoop, StopSignal
from falcon_operator.reconcile.plan import Finish
from falcon_operator.reconcile.prepare import prepare
from falcon_operator.reconcile.settings import ControllerSettings
from falcon_operator.reconcile.status import now_iso, set_condition
from falcon_operator.trials.manifest import SearchRef
from falcon_operator.trials.naming import search_selector

log = logging.getLogger(__name__)
TERMINAL = ("Succeeded", "Failed")
#: the first status of a new search, written before the model is read
PREPARING = {"phase": "Pending", "message": "preparing: reading and analysing the model"}


def search_ref(body: Mapping[str, Any]) -> SearchRef:
    meta = body.get("metadata") or {}
    return SearchRef(str(meta["name"]), str(meta["namespace"]), str(meta["uid"]))


async def _not_ready(
    kube: Kube,
    ref: SearchRef,
    status: Mapping[str, Any],
    generation: int,
    exc: Exception,
    *,
    final: bool,
) -> None:
    reason = "InvalidSpec" if isinstance(exc, SpecError) else getattr(exc, "reason", "Error")
    now = now_iso()
    conds = set_condition(
        status.get("conditions") or [],
        "SpecValid",
        False,
        reason,
        str(exc),
        generation=generation,
        now=now,
    )
    patch: dict[str, Any] = {"observedGeneration": generation, "message": str(exc)[:1000]}
    if final:
        conds = set_condition(
            conds, "Failed", True, reason, str(exc), generation=generation, now=now
        )
        conds = set_condition(
            conds, "Ready", False, reason, "no recommendation", generation=generation, now=now
        )
        patch.update(phase="Failed", finishedAt=now)
    else:
        patch["phase"] = "Pending"
    patch["conditions"] = conds
    await kube.patch_search_status(ref.namespace, ref.name, patch)
    telemetry.set_phase(ref.namespace, ref.name, patch["phase"])
    await kube.event(ref, "Warning", reason, str(exc))


async def run_search(
    kube: Kube,
    settings: ControllerSettings,
    body: Mapping[str, Any],
    *,
    stop: StopSignal,
    preparing: asyncio.Semaphore | None = None,
) -> Finish | None:
    """Run the search of ``body`` until it ends (its Finish) or ``stop`` is set (None);
    ``preparing`` bounds how many searches prepare at once."""
    ref = search_ref(body)
    status = body.get("status") or {}
    generation = int((body.get("metadata") or {}).get("generation") or 1)
    if status.get("phase") in TERMINAL:
        telemetry.set_phase(ref.namespace, ref.name, str(status["phase"]))
        return None
    if "observedGeneration" not in status:
        # a new search (its status at most the CRD's default, Pending / waiting for the
        # operator): say Pending, preparing, at once (reading and analysing the model takes
        # seconds)
        await kube.patch_search_status(ref.namespace, ref.name, PREPARING)
        telemetry.set_phase(ref.namespace, ref.name, "Pending")
    try:
        async with preparing or contextlib.nullcontext():
            ctx = await prepare(kube, settings, ref, body, observe=telemetry.suggestion_took)
    except TransientError as exc:
        await _not_ready(kube, ref, status, generation, exc, final=False)
        raise
    except FalconError as exc:  # a spec, model or knowledge the search cannot start from
        await _not_ready(kube, ref, status, generation, exc, final=True)
        raise
    except Exception as exc:  # a bug: end the search with it rather than retry it forever
        log.exception("search %s/%s: preparing failed", ref.namespace, ref.name)
        error = PermanentError(
            f"internal error while preparing the search: {type(exc).__name__}: {exc} "
            f"(a bug of the operator; its log has the traceback)",
            reason="InternalError",
        )
        await _not_ready(kube, ref, status, generation, error, final=True)
        raise error from None
    try:
        loop = SearchLoop(kube, ctx, settings, stop=stop, status=status, generation=generation)
        try:
            fin = await loop.run()
        except PermanentError as exc:
            # a trial cannot run, nor can any other (pod creation forbidden: a ResourceQuota
            # that allows no pod, RBAC): end the search like any other, with the API's reason
            fin = Finish("Failed", exc.reason, str(exc))
            fin = await loop.finisher.finish(fin, await loop.store.load())
    except (SpecError, PermanentError, DataError) as exc:
        await _not_ready(kube, ref, status, generation, exc, final=True)
        raise
    finally:
        await ctx.close()
    if fin is not None:
        log.info(
            "search %s/%s: %s (%s): %s", ref.namespace, ref.name, fin.phase, fin.reason, fin.message
        )
    return fin


async def cleanup_search(kube: Kube, ref: SearchRef) -> int:
    """Delete every trial pod of a deleted search (owner references would too, more slowly)."""
    pods = await kube.list_pods(ref.namespace, search_selector(ref.name))
    for pod in pods:
        await kube.delete_pod(ref.namespace, pod["metadata"]["name"])
    telemetry.forget(ref.namespace, ref.name)
    # a last status write: its watch event lets the finalizer go without waiting for a re-check
    await kube.patch_search_status(
        ref.namespace, ref.name, {"message": f"deleted; {len(pods)} trial pods deleted"}
    )
    return len(pods)
