"""Triton's dynamic batcher: a queue, batches formed when an instance is free, N instances.

When an instance is free it takes queued requests in order until the batch reaches the target
(the largest preferred batch size, else ``max_batch_size``) without exceeding
``max_batch_size``; if the batch is short it waits for more requests until the oldest one has
waited ``max_queue_delay``. A model that does not batch runs each request alone.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass

import numpy as np

from falcon_trial.testserver.backend import Array, Backend
from falcon_trial.testserver.config import ModelConfig
from falcon_trial.testserver.errors import BackendError, ServerStoppedError
from falcon_trial.testserver.stats import ModelStats


@dataclass(frozen=True)
class Completed:
    """A request's outputs and its share of the batch's timings (seconds)."""

    outputs: dict[str, Array]
    queue_s: float
    input_s: float
    infer_s: float
    output_s: float


@dataclass(eq=False)
class _Pending:
    inputs: dict[str, Array]
    samples: int
    enqueued: float
    future: asyncio.Future[Completed]


class DynamicBatcher:
    """Queues requests and runs them in batches on ``config.instance_count`` executors."""

    def __init__(self, backend: Backend, stats: ModelStats, config: ModelConfig) -> None:
        self._backend, self._stats, self._config = backend, stats, config
        self._batching = backend.signature.batching
        self._queue: deque[_Pending] = deque()
        self._arrived = asyncio.Event()
        self._forming = asyncio.Lock()
        self._executors: list[asyncio.Task[None]] = []
        self._running = 0  # batches executing now
        self._closed = False

    @property
    def pending(self) -> int:
        """Requests queued and not yet executing."""
        return len(self._queue)

    async def drain(self, *, timeout: float) -> None:
        """Wait (at most ``timeout`` s) until nothing is queued or executing."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while (self._queue or self._running) and loop.time() < end:
            await asyncio.sleep(0.005)

    def reconfigure(self, config: ModelConfig) -> None:
        """Apply a new config; start executors up to its instance count (extra ones retire)."""
        self._config = config
        self._executors = [t for t in self._executors if not t.done()]
        for index in range(len(self._executors), config.instance_count):
            self._executors.append(asyncio.create_task(self._run(index), name=f"instance-{index}"))

    def start(self) -> None:
        self.reconfigure(self._config)

    async def submit(self, inputs: dict[str, Array], samples: int) -> Completed:
        """Queue a request and wait for its outputs (``ServerStoppedError`` once stopped)."""
        if self._closed:
            raise ServerStoppedError()
        loop = asyncio.get_running_loop()
        pending = _Pending(inputs, samples, loop.time(), loop.create_future())
        self._queue.append(pending)
        self._arrived.set()
        return await pending.future

    async def stop(self) -> None:
        """Stop every executor; queued and running requests fail with ``ServerStoppedError``."""
        self._closed = True
        for task in self._executors:
            task.cancel()
        await asyncio.gather(*self._executors, return_exceptions=True)
        self._executors = []
        while self._queue:
            p = self._queue.popleft()
            if not p.future.done():
                p.future.set_exception(ServerStoppedError())

    async def _run(self, index: int) -> None:
        while index < self._config.instance_count:
            async with self._forming:
                batch, ready_at = await self._form()
            self._running += 1
            try:
                await self._execute(batch, ready_at)
            finally:
                self._running -= 1
                for p in batch:
                    if not p.future.done():
                        p.future.set_exception(ServerStoppedError())

    async def _form(self) -> tuple[list[_Pending], float]:
        """The next batch and the instant it was complete (for backends that simulate time)."""
        loop = asyncio.get_running_loop()
        while not self._queue:
            self._arrived.clear()
            await self._arrived.wait()
        cfg = self._config
        cap = cfg.max_batch_size if self._batching else 1
        target = min(cfg.batch_target, cap) if self._batching else 1
        deadline = self._queue[0].enqueued + cfg.max_queue_delay_us / 1e6
        batch: list[_Pending] = []
        samples = 0
        while True:
            while (
                self._queue
                and samples < target
                and (not batch or samples + self._queue[0].samples <= cap)
            ):
                batch.append(self._queue.popleft())
                samples += batch[-1].samples
            newest = batch[-1].enqueued
            blocked = bool(self._queue) and samples + self._queue[0].samples > cap
            if samples >= target or blocked:
                return batch, min(loop.time(), newest)
            remaining = deadline - loop.time()
            if remaining <= 0:
                return batch, min(loop.time(), max(deadline, newest))
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                pass
            except asyncio.CancelledError:
                self._queue.extendleft(reversed(batch))  # stop() fails them
                raise

    async def _execute(self, batch: list[_Pending], ready_at: float) -> None:
        loop = asyncio.get_running_loop()
        samples = sum(p.samples for p in batch)
        t0 = loop.time()
        if len(batch) == 1:
            inputs = batch[0].inputs
        else:
            inputs = {n: np.concatenate([p.inputs[n] for p in batch]) for n in batch[0].inputs}
        input_s = loop.time() - t0
        try:
            done = await self._backend.execute(inputs, samples, ready_at)
        except Exception as exc:  # a backend failure fails the batch, not the server
            for p in batch:
                p.future.set_exception(BackendError(f"backend failed: {type(exc).__name__}: {exc}"))
            return
        self._stats.record_execution(samples)
        t1, offset = loop.time(), 0
        parts: list[dict[str, Array]] = []
        for p in batch:
            if self._batching:
                parts.append({n: a[offset : offset + p.samples] for n, a in done.outputs.items()})
            else:
                parts.append(done.outputs)
            offset += p.samples
        output_s, infer_s = loop.time() - t1, done.finished - done.started
        for p, outputs in zip(batch, parts, strict=True):
            if not p.future.done():
                queue_s = max(0.0, done.started - p.enqueued)
                p.future.set_result(Completed(outputs, queue_s, input_s, infer_s, output_s))
