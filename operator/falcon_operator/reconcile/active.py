"""The trials of one search that are running now: one asyncio task each, by trial index.

A task that ends with a deliberate, retryable error leaves no record: its pod (if any) is
adopted again by the next step. Any other error is a bug; it is recorded as a failed trial
(failure ``internal``) so that a broken trial cannot be retried forever.
"""

from __future__ import annotations

import asyncio
import logging

from falcon_operator import telemetry
from falcon_operator.core.errors import FalconError, SpaceError
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
        self._tasks: dict[int, tuple[Launch, asyncio.Task[TrialEntry]]] = {}

    def __len__(self) -> int:
        return len(self._tasks)

    def __contains__(self, index: object) -> bool:
        return index in self._tasks

    def indices(self) -> set[int]:
        return set(self._tasks)

    def start(self, launch: Launch, reused: PodView | None = None) -> None:
        ref = self.runner.ctx.ref
        task = asyncio.create_task(
            self.runner.run(launch, reused_view=reused),
            name=f"trial {ref.namespace}/{launch.name}",
        )
        self._tasks[launch.index] = (launch, task)

    def pending(self) -> list[Config]:
        """Configurations of the running trials, in index order (the strategy's pending)."""
        return [launch.config for _, (launch, _) in sorted(self._tasks.items())]

    def busy(self) -> set[str]:
        """Pods in use: each trial's own pod, or the pod it reuses."""
        return {launch.reuse_pod or launch.name for launch, _ in self._tasks.values()}

    async def reap(self) -> None:
        """Forget finished tasks; record a crashed one as failed."""
        for index, (launch, task) in list(self._tasks.items()):
            if not task.done():
                continue
            del self._tasks[index]
            exc = task.exception()
            if exc is None:
                telemetry.trial_finished(task.result().record.outcome.value)
            elif isinstance(exc, FalconError) and not isinstance(exc, SpaceError):
                log.warning("trial %s: %s (will be retried)", launch.name, exc)
            else:
                log.error("trial %s crashed", launch.name, exc_info=exc)
                record = failed(launch.config, FailureKind.INTERNAL, f"internal error: {exc}")
                entry = TrialEntry(launch.index, launch.name, record, pod=launch.name,
                                   finished_at=now_iso())  # fmt: skip
                await self.store.append(entry)

    async def wait(self, timeout: float) -> None:
        """Until a trial finishes, or ``timeout`` seconds."""
        tasks = [t for _, t in self._tasks.values()]
        if tasks:
            await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        else:
            await asyncio.sleep(timeout)

    async def cancel_all(self) -> None:
        tasks = [t for _, t in self._tasks.values()]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
