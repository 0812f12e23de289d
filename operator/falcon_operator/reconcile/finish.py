"""The end of a search: trial pods gone, the recommendation written, the final status.

On success the best trial becomes ``status.recommendation`` (the Deployment) and
``status.recommendedModelConfig``, and is written per ``spec.output.mode``; a failure to write
it fails the search (reason OutputFailed, or DeploymentNotOwned / ApplyConflict when Apply mode
may not write over an object, reconcile/ownership.py) with the recommendation still in the
status.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from falcon_operator.core.errors import FalconError
from falcon_operator.core.records import best_trial
from falcon_operator.reconcile import plan
from falcon_operator.reconcile.kube import Kube
from falcon_operator.reconcile.output import recommendation, write_output
from falcon_operator.reconcile.ownership import OWNERSHIP_REASONS
from falcon_operator.reconcile.prepare import SearchContext
from falcon_operator.reconcile.status import now_iso, progress_status
from falcon_operator.trials.history import TrialEntry, records
from falcon_operator.trials.naming import search_selector

if TYPE_CHECKING:
    from falcon_operator.reconcile.loop import SearchLoop


class Finisher:
    """Finishes one search."""

    def __init__(self, kube: Kube, ctx: SearchContext, loop: SearchLoop) -> None:
        self.kube, self.ctx, self.loop = kube, ctx, loop

    async def delete_trial_pods(self) -> None:
        ref = self.ctx.ref
        for pod in await self.kube.list_pods(ref.namespace, search_selector(ref.name)):
            await self.loop.delete_pod(pod["metadata"]["name"])

    async def finish(self, fin: plan.Finish, entries: list[TrialEntry]) -> plan.Finish:
        """End the search as ``fin`` says; returns how it really ended (OutputFailed when the
        recommendation could not be written)."""
        ref, rs = self.ctx.ref, self.ctx.resolved
        await self.loop.cancel_all()
        await self.delete_trial_pods()
        status: dict[str, Any] = progress_status(
            entries,
            plan.count(entries, running=0),
            max_trials=rs.spec.budget.max_trials,
            recent=self.loop.settings.recent_trials,
            history_configmap=self.loop.store.name,
        )
        best = best_trial(records(entries))
        why = ""
        if best is not None and "best" in status:
            why = await asyncio.to_thread(self.ctx.engine.why, records(entries))
            if why:
                status["best"]["why"] = why
        if fin.phase == "Succeeded" and best is not None:
            configmap, deployment = recommendation(rs, ref, best)
            status.update(recommendation=deployment, recommendedModelConfig=configmap)
            try:
                where = await write_output(self.kube, rs, ref, (configmap, deployment))
            except FalconError as exc:
                # refused by ownership (DeploymentNotOwned, ApplyConflict): that reason; any
                # other failure (RBAC, the API server): OutputFailed
                reason = getattr(exc, "reason", "")
                fin = plan.Finish(
                    "Failed",
                    reason if reason in OWNERSHIP_REASONS else "OutputFailed",
                    f"cannot write the recommendation ({rs.spec.output.mode}): {exc}",
                )
            else:
                if where:
                    status["outputRef"] = where
        ok = fin.phase == "Succeeded"
        self.loop.condition("Progressing", False, fin.reason, fin.message)
        self.loop.condition(
            "Ready",
            ok,
            "RecommendationReady" if ok else fin.reason,
            fin.message if ok else "no recommendation",
        )
        self.loop.condition("Failed", not ok, fin.reason if not ok else "Succeeded", fin.message)
        status.update(
            phase=fin.phase,
            message=fin.message,
            finishedAt=now_iso(),
            startedAt=self.loop.started_at,
            observedGeneration=self.loop.generation,
            conditions=self.loop.conditions,
        )
        await self.loop.patch_status(status)
        event = ("Normal", "SearchSucceeded") if ok else ("Warning", "SearchFailed")
        await self.kube.event(
            ref, *event, f"{fin.message}; why: {why}" if ok and why else fin.message
        )
        return fin
