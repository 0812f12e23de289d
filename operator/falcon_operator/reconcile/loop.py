"""The loop of one search: history → plan → trial pods → records → … → recommendation.

Every step re-reads the history ConfigMap and the trial pods, so the loop holds nothing that a
restart would lose: recorded trials are final, a trial pod without a record is adopted and
finished, and the next trials get the next free indices. Each step asks the search's driver
(search/driver.py, the one ``falcon search``, ``replay`` and ``bench`` use) whether to stop and
what to start: it sees the history in index order and the running trials as pending, whether
or not the operator restarted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from falcon_operator import telemetry
from falcon_operator.core.errors import SpaceError
from falcon_operator.core.numbers import objective
from falcon_operator.core.space import Config
from falcon_operator.reconcile import plan
from falcon_operator.reconcile.active import ActiveTrials
from falcon_operator.reconcile.finish import Finisher
from falcon_operator.reconcile.kube import Kube
from falcon_operator.reconcile.prepare import SearchContext
from falcon_operator.reconcile.settings import ControllerSettings
from falcon_operator.reconcile.status import now_iso, progress_status, set_condition
from falcon_operator.reconcile.store import HistoryStore
from falcon_operator.reconcile.trial import TrialRunner
from falcon_operator.trials.history import TrialEntry, records
from falcon_operator.trials.naming import search_selector
from falcon_operator.trials.readback import PodState, PodView, read_pod

log = logging.getLogger(__name__)


class StopSignal(Protocol):
    """Set when the loop must return (search deleted, operator exiting)."""

    def is_set(self) -> bool: ...


class SearchLoop:
    """Runs one search to its end (or until stopped)."""

    def __init__(
        self,
        kube: Kube,
        ctx: SearchContext,
        settings: ControllerSettings,
        *,
        stop: StopSignal,
        status: Mapping[str, Any],
        generation: int,
        runner: TrialRunner | None = None,
    ) -> None:
        """``runner`` runs each trial (default: trial pods on the cluster, TrialRunner)."""
        self.kube, self.ctx, self.settings, self.stop = kube, ctx, settings, stop
        self.store = HistoryStore(kube, ctx.ref)
        runner = runner or TrialRunner(kube, ctx, settings, self.store)
        self.active = ActiveTrials(runner, self.store)
        self.conditions: list[dict[str, Any]] = list(status.get("conditions") or [])
        self.started_at = str(status.get("startedAt") or now_iso())
        self.generation = generation
        self._last: dict[str, Any] | None = None
        self.finisher = Finisher(kube, ctx, self)

    # -- public ----------------------------------------------------------------------------------
    async def run(self) -> plan.Finish | None:
        """The search's finish, or None when stopped before it ended."""
        await self.store.ensure()
        try:
            while not self.stop.is_set():
                fin = await self.step()
                if fin is not None:  # how it really ended (OutputFailed: not written)
                    return await self.finisher.finish(fin, await self.store.load())
                await self._wait()
            return None
        finally:
            await self.cancel_all()

    async def cancel_all(self) -> None:
        await self.active.cancel_all()

    async def patch_status(self, status: dict[str, Any]) -> None:
        if status != self._last:
            ref = self.ctx.ref
            await self.kube.patch_search_status(ref.namespace, ref.name, status)
            self._last = status
            if "phase" in status:
                telemetry.set_phase(ref.namespace, ref.name, str(status["phase"]))
            if "best" in status:
                telemetry.set_best(ref.namespace, ref.name, float(status["best"]["objective"]))

    def condition(self, type_: str, ok: bool, reason: str, message: str) -> None:
        self.conditions = set_condition(
            self.conditions, type_, ok, reason, message, generation=self.generation, now=now_iso()
        )

    # -- one step --------------------------------------------------------------------------------
    async def step(self) -> plan.Finish | None:
        ref, rs = self.ctx.ref, self.ctx.resolved
        await self.active.reap()
        entries = await self.store.load()
        views = [
            read_pod(p) for p in await self.kube.list_pods(ref.namespace, search_selector(ref.name))
        ]
        recorded = {e.index for e in entries}
        self._adopt(views, recorded)
        # the driver's decision: whether to stop, else what to start (the running trials pending)
        decision = await asyncio.to_thread(
            self.ctx.engine.driver.decide,
            records(entries),
            pending=self.active.pending(),
        )
        fin = plan.conclude(
            rs.spec.budget,
            entries,
            decision.stop,
            running=len(self.active),
            slo_p99_ms=rs.spec.objective.slo_p99_ms,
            goal=rs.objective,
        )
        if fin is None and decision.ask:
            self._launch(decision.ask, views, recorded)
        if fin is not None and fin.phase == "Failed":
            await self.cancel_all()
        await self._cleanup(views, recorded)
        await self._report(entries)
        return fin if fin is None or not self.active else None

    def _adopt(self, views: list[PodView], recorded: set[int]) -> None:
        """Trial pods without a record that no task runs (after a restart): finish them."""
        for v in sorted(views, key=lambda v: v.index or 0):
            if v.index is None or v.index in recorded or v.index in self.active:
                continue
            if v.state is PodState.DELETING or v.config is None:
                continue
            try:
                self.ctx.resolved.space.validate(v.config)
            except SpaceError:
                continue  # not one of ours: cleaned up below
            self.active.start(plan.Launch(v.index, v.name, dict(v.config)))

    def _launch(
        self, suggestions: Sequence[Config], views: list[PodView], recorded: set[int]
    ) -> None:
        """Start the driver's ``suggestions``: next free indices, idle pods reused."""
        budget = self.ctx.resolved.spec.budget
        used = recorded | self.active.indices() | {v.index for v in views if v.index is not None}
        busy = self.active.busy()
        idle = {
            v.name: v
            for v in views
            if v.index in recorded
            and v.name not in busy
            and v.state is PodState.READY
            and v.config is not None
        }
        launches = plan.assign(
            self.ctx.ref.name,
            suggestions,
            plan.next_indices(used, len(suggestions)),
            idle={p: v.config or {} for p, v in idle.items()},
            reuse=budget.reuse_pods,
        )
        for launch in launches:
            self.active.start(launch, idle.get(launch.reuse_pod or ""))

    async def _cleanup(self, views: list[PodView], recorded: set[int]) -> None:
        """Delete trial pods that are recorded (or not ours) and that no trial uses."""
        busy = self.active.busy()
        for v in views:
            if v.state is PodState.DELETING or v.name in busy:
                continue
            if v.index is None or v.index in recorded or v.index not in self.active:
                await self.delete_pod(v.name)

    async def delete_pod(self, name: str) -> None:
        await self.kube.delete_pod(self.ctx.ref.namespace, name)

    async def _report(self, entries: list[TrialEntry]) -> None:
        rs = self.ctx.resolved
        counts = plan.count(entries, running=len(self.active))
        status = progress_status(
            entries,
            counts,
            max_trials=rs.spec.budget.max_trials,
            recent=self.settings.recent_trials,
            history_configmap=self.store.name,
        )
        best = status.get("best")
        message = f"{counts.done}/{rs.spec.budget.max_trials} trials done, {counts.running} running"
        if best:
            message += f"; best so far {best['gpu']}: {objective(best['objective'], rs.objective)}"
        self.condition("SpecValid", True, "Valid", "the spec is valid")
        self.condition("Progressing", True, "TrialsRunning", message)
        status.update(
            phase="Running" if entries or self.active else "Pending",
            message=message,
            observedGeneration=self.generation,
            startedAt=self.started_at,
            conditions=self.conditions,
        )
        await self.patch_status(status)

    async def _wait(self) -> None:
        await self.active.wait(self.settings.poll_s)
