"""One trial, from pod creation (or adoption after a restart) to its recorded entry.

create the pod (an existing pod of that name is adopted) → wait until it is ready (too long
unschedulable: infeasible with the scheduler's reason; failed pod: failed with the container's
reason; not ready in time: failed) → measure → record in the history ConfigMap. The pod is not
deleted here: the search loop deletes it, or reuses it for a batch-size-only change.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from falcon_operator.core.numbers import objective, plain
from falcon_operator.core.records import FailureKind, Outcome, TrialRecord
from falcon_operator.reconcile import measure
from falcon_operator.reconcile.kube import Kube
from falcon_operator.reconcile.plan import Launch
from falcon_operator.reconcile.prepare import SearchContext
from falcon_operator.reconcile.settings import ControllerSettings
from falcon_operator.reconcile.status import now_iso
from falcon_operator.reconcile.store import HistoryStore
from falcon_operator.trials.history import TrialEntry
from falcon_operator.trials.manifest import trial_pod
from falcon_operator.trials.outcome import failed
from falcon_operator.trials.readback import (
    PodState,
    PodView,
    failure_reason,
    never_schedulable,
    read_pod,
)


@dataclass(frozen=True)
class Ran:
    """What running a trial produced, before it is recorded."""

    record: TrialRecord
    pod: str
    node: str = ""
    saved_s: float = 0.0


def _age(view: PodView) -> float:
    if view.created_at is None:
        return 0.0
    return (datetime.now(UTC) - view.created_at).total_seconds()


class TrialRunner:
    """Runs the trials of one search."""

    def __init__(
        self, kube: Kube, ctx: SearchContext, settings: ControllerSettings, store: HistoryStore
    ) -> None:
        self.kube, self.ctx, self.settings, self.store = kube, ctx, settings, store
        #: seconds each pod this runner created took from creation to ready, as it watched
        self.startup_s: dict[str, float] = {}

    async def run(self, launch: Launch, *, reused_view: PodView | None = None) -> TrialEntry:
        """Run ``launch`` and record it; returns the recorded entry."""
        started, t0 = now_iso(), time.monotonic()
        if launch.reuse_pod is not None and reused_view is not None:
            ran = await self._reuse(launch, reused_view)
        else:
            ran = await self._fresh(launch)
        entry = TrialEntry(
            index=launch.index,
            name=launch.name,
            record=ran.record,
            pod=ran.pod,
            reused=launch.reuse_pod is not None,
            started_at=started,
            finished_at=now_iso(),
            duration_s=time.monotonic() - t0,
            saved_s=ran.saved_s,
            node=ran.node,
        )
        await self.store.append(entry)
        await self._event(entry)
        return entry

    async def _event(self, entry: TrialEntry) -> None:
        r, ref = entry.record, self.ctx.ref
        where = f" on reused pod {entry.pod}" if entry.reused else ""
        if r.ok:
            m = r.metrics
            score = objective(r.objective or 0.0, self.ctx.resolved.objective)
            msg = (
                f"trial {entry.name}{where}: {plain(m.get('rps', 0))} req/s, p99 "
                f"{plain(m.get('p99_ms', 0))} ms, {score}"
            )
            await self.kube.event(ref, "Normal", "TrialFinished", msg)
        else:
            reason = "TrialInfeasible" if r.outcome is Outcome.INFEASIBLE else "TrialFailed"
            await self.kube.event(ref, "Warning", reason, f"trial {entry.name}{where}: {r.reason}")

    async def _fresh(self, launch: Launch) -> Ran:
        ctx, ns = self.ctx, self.ctx.ref.namespace
        fault = ctx.faults.fault(launch.index)
        if ctx.sim is not None and fault is None:
            fault = ctx.sim.fault_for(launch.config)
        body = trial_pod(
            ctx.resolved,
            ctx.ref,
            launch.index,
            launch.config,
            settings=self.settings.pods,
            fault=fault,
        )
        created = time.monotonic()
        if await self.kube.create_pod(ns, body):
            cfg = " ".join(f"{k}={v}" for k, v in launch.config.items())
            await self.kube.event(ctx.ref, "Normal", "TrialStarted", f"trial {launch.name}: {cfg}")
        view, record = await self._wait_ready(launch)
        if record is None:
            self.startup_s[launch.name] = time.monotonic() - created
        if record is not None:
            return Ran(record, launch.name, (view.node or "") if view else "")
        assert view is not None
        if ctx.sim is not None:
            record = await measure.simulated(self.kube, ctx, launch, view, self.settings)
        else:
            record = await measure.live(self.kube, ctx, launch, view, self.settings)
        return Ran(record, launch.name, view.node or "")

    def saved_seconds(self, view: PodView) -> float:
        """What reusing ``view`` saves: the start-up its fresh trial waited for (creation to
        ready as this runner watched it; after a restart, the pod's own timestamps)."""
        if view.name in self.startup_s:
            return self.startup_s[view.name]
        if view.created_at is not None and view.ready_at is not None:
            return max(0.0, (view.ready_at - view.created_at).total_seconds())
        return 0.0

    async def _reuse(self, launch: Launch, view: PodView) -> Ran:
        saved = self.saved_seconds(view)
        await self.kube.event(
            self.ctx.ref,
            "Normal",
            "PodReused",
            f"trial {launch.name} reuses pod {view.name} "
            f"(batch size {launch.config['batchsize']}; saves its {plain(saved)} s start-up)",
        )
        if self.ctx.sim is not None:  # bookkeeping: nothing to reload on a KWOK pod
            record = await measure.simulated(self.kube, self.ctx, launch, view, self.settings)
        else:
            record = await measure.reused(self.ctx, launch, view, self.settings)
        return Ran(record, view.name, view.node or "", saved)

    async def _wait_ready(self, launch: Launch) -> tuple[PodView | None, TrialRecord | None]:
        """The ready pod, or the failed record when it will not get ready."""
        budget, config = self.ctx.resolved.spec.budget, launch.config
        ns = self.ctx.ref.namespace
        scheduled_at: float | None = None
        while True:
            pod = await self.kube.get_pod(ns, launch.name)
            if pod is None:
                return None, failed(config, FailureKind.DELETED, "the trial pod disappeared")
            view = read_pod(pod)
            if view.state is PodState.FAILED:
                return view, failed(config, view.failure, failure_reason(view))
            if view.state in (PodState.SUCCEEDED, PodState.DELETING):
                why = f"the trial pod ended early ({view.state})"
                return view, failed(config, FailureKind.DELETED, why)
            if view.state is PodState.READY and not view.fault:
                return view, None
            if view.state is PodState.UNSCHEDULABLE and (
                never_schedulable(view.message) or _age(view) > budget.pending_timeout_s
            ):
                why = f"unschedulable: {view.message}"
                return view, failed(config, FailureKind.UNSCHEDULABLE, why)
            if view.state is PodState.PENDING and _age(view) > budget.pending_timeout_s:
                return view, failed(config, FailureKind.UNSCHEDULABLE, "not scheduled in time")
            if view.state in (PodState.STARTING, PodState.READY):
                scheduled_at = scheduled_at or time.monotonic()
                if time.monotonic() - scheduled_at > budget.ready_timeout_s:
                    why = f"not ready within {budget.ready_timeout_s} s"
                    return view, failed(config, FailureKind.TIMEOUT, why)
            await asyncio.sleep(self.settings.poll_s)
