"""The trials of one search that are running now: one asyncio task each, by trial index.

How a trial task that raised ends (``reap``):

- :class:`TransientError` (API server unreachable, throttled, a conflict): no record; the same
  launch runs again after the error's ``delay``, under the same index (its pod, if created, is
  adopted), so the strategy keeps it pending and no other trial takes its place meanwhile.
- :class:`PermanentError` (pod creation forbidden: RBAC, a ResourceQuota that allows no pod):
  retrying cannot help, and every other trial would hit it too: ``reap`` raises it, with the
  trial's name, and the search ends Failed with its reason (reconcile/search.py).
- anything else is a bug: recorded as a failed trial (failure ``internal``), so that a broken
  trial cannot be retried forever.
"""

from __future__ import annotations

import asyncio
import logging

from falcon_operator import telemetry
from falcon_operator.core.errors import PermanentError, TransientError
from falcon_operator.core.records import FailureKind
from falcon_operator.core.space import Config
from falcon_operator.reconcile.plan import Launch
from falcon_operator.reconcile.status import now_iso
from falcon_operator.reconcile.store import HistoryStore
from falcon_operator.reconcile.trial import TrialRunner
from falcon_operator.trials.history import TrialEntry
from falcon_operator.trials.outcome import failed
from falcon_operator.trials.readback import PodView

log = logging.getLogger(__name__)


class ActiveTrials:
    """Running trial tasks of one search."""

    def __init__(self, runner: TrialRunner, store: HistoryStore) -> None:
        self.runner, self.store = runner, store
        self._tasks: dict[int, tuple[Launch, PodView | None, asyncio.Task[TrialEntry]]] = {}

    def __len__(self) -> int:
        return len(self._tasks)

    def __contains__(self, index: object) -> bool:
        return index in self._tasks

    def indices(self) -> set[int]:
        return set(self._tasks)

    def start(self, launch: Launch, reused: PodView | None = None, *, delay: float = 0.0) -> None:
        """Run ``launch`` in a task (after ``delay`` seconds: a retry)."""
        ref = self.runner.ctx.ref
        task = asyncio.create_task(
            self._run(launch, reused, delay), name=f"trial {ref.namespace}/{launch.name}"
        )
        self._tasks[launch.index] = (launch, reused, task)

    async def _run(self, launch: Launch, reused: PodView | None, delay: float) -> TrialEntry:
        if delay > 0:
            await asyncio.sleep(delay)
        return await self.runner.run(launch, reused_view=reused)

    def pending(self) -> list[Config]:
        """Configurations of the running trials, in index order (the strategy's pending)."""
        return [launch.config for _, (launch, _, _) in sorted(self._tasks.items())]

    def busy(self) -> set[str]:
        """Pods in use: each trial's own pod, or the pod it reuses."""
        return {launch.reuse_pod or launch.name for launch, _, _ in self._tasks.values()}

    async def reap(self) -> None:
        """Forget finished tasks; retry a transient failure after its delay; record a crashed
        one as failed; raise a permanent one (the search cannot go on)."""
        for index, (launch, reused, task) in list(self._tasks.items()):
            if not task.done():
                continue
            del self._tasks[index]
            exc = task.exception()
            if exc is None:
                entry = task.result()
                telemetry.trial_finished(entry.record.outcome.value)
                if entry.reused:  # counted once recorded: the counter sums the records
                    telemetry.pod_reuse_saved(entry.saved_s)
            elif isinstance(exc, TransientError):
                log.warning("trial %s: %s (retried in %g s)", launch.name, exc, exc.delay)
                self.start(launch, reused, delay=exc.delay)
            elif isinstance(exc, PermanentError):
                raise PermanentError(f"trial {launch.name}: {exc}", reason=exc.reason) from exc
            else:
                log.error("trial %s crashed", launch.name, exc_info=exc)
                record = failed(launch.config, FailureKind.INTERNAL, f"internal error: {exc}")
                entry = TrialEntry(launch.index, launch.name, record, pod=launch.name,
                                   finished_at=now_iso())  # fmt: skip
                await self.store.append(entry)

    async def wait(self, timeout: float) -> None:
        """Until a trial finishes, or ``timeout`` seconds."""
        tasks = [t for _, _, t in self._tasks.values()]
        if tasks:
            await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        else:
            await asyncio.sleep(timeout)

    async def cancel_all(self) -> None:
        tasks = [t for _, _, t in self._tasks.values()]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
