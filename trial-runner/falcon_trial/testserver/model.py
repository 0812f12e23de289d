"""The one model a test server serves: its config, counters, batcher, and load/unload/infer.

Loading a loaded model with a new config swaps the config in place (counters continue);
unloading waits for queued requests, then drops the model's counters, so a later load starts
them from zero (Triton removes an unloaded model's series). Stopping fails every request still
waiting, in the host-work stage or in the batcher's queue, with 503.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from falcon_trial.testserver.backend import Backend
from falcon_trial.testserver.batcher import DynamicBatcher
from falcon_trial.testserver.codec import decode_request, encode_response
from falcon_trial.testserver.config import ModelConfig, apply_override
from falcon_trial.testserver.errors import (
    BackendError,
    ConfigError,
    RequestError,
    ServerStoppedError,
)
from falcon_trial.testserver.stats import ModelStats

UNLOAD_DRAIN_S = 30.0


class ServedModel:
    """``backend`` served under ``name`` (version ``"1"``)."""

    def __init__(
        self,
        name: str,
        backend: Backend,
        *,
        max_queue_delay_ms: float,
        instance_count: int = 1,
        fail_inference: str | None = None,
    ) -> None:
        """``fail_inference``: fault injection, every inference fails (500) with this message."""
        self.name, self.backend, self.fail_inference = name, backend, fail_inference
        config = dataclasses.replace(
            backend.default_config(),
            max_queue_delay_us=round(max_queue_delay_ms * 1000),
            instance_count=instance_count,
        )
        backend.check_config(config)
        backend.configure(config)
        self.config: ModelConfig = config
        self.stats: ModelStats | None = None
        self._batcher: DynamicBatcher | None = None
        self._admitting: set[asyncio.Task[Any]] = set()  # requests doing host work
        self._stopping = False

    @property
    def loaded(self) -> bool:
        return self._batcher is not None

    @property
    def pending(self) -> int:
        return self._batcher.pending if self._batcher else 0

    def start(self) -> None:
        """Load with the current config (must run inside the event loop)."""
        if self._batcher is None:
            self.stats = ModelStats()
            self._batcher = DynamicBatcher(self.backend, self.stats, self.config)
            self._batcher.start()

    def load(self, override: str | None = None) -> None:
        """(Re)load, applying a Triton model-config JSON ``override``; 400 when it cannot."""
        try:
            config = self.config
            if override is not None:
                config = apply_override(config, override, batching=self.backend.signature.batching)
            self.backend.check_config(config)
        except ConfigError as exc:
            raise RequestError(f"failed to load '{self.name}': {exc}") from None
        self.backend.configure(config)
        self.config = config
        if self._batcher is None:
            self.start()
        else:
            self._batcher.reconfigure(config)

    async def unload(self) -> None:
        batcher, self._batcher = self._batcher, None
        if batcher is not None:
            await batcher.drain(timeout=UNLOAD_DRAIN_S)
            await batcher.stop()
        self.stats = None

    async def stop(self) -> None:
        """Stop at once: requests doing host work, queued and running fail."""
        self._stopping = True
        for task in self._admitting:
            task.cancel()
        batcher, self._batcher = self._batcher, None
        if batcher is not None:
            await batcher.stop()

    async def _admit(self, arrival: float, samples: int) -> None:
        """The backend's host work, cut short (``ServerStoppedError``) when the model stops."""
        task = asyncio.current_task()
        assert task is not None
        if self._stopping:
            raise ServerStoppedError()
        self._admitting.add(task)
        try:
            await self.backend.admit(arrival, samples)
        except asyncio.CancelledError:
            if self._stopping and task.uncancel() == 0:  # cancelled by stop() alone
                raise ServerStoppedError() from None
            raise
        finally:
            self._admitting.discard(task)

    async def infer(
        self, body: bytes, header_length: str | None, arrival: float
    ) -> tuple[bytes, dict[str, str]]:
        """Serve one inference request; ``RequestError`` (counted as a failure) when it fails."""
        batcher, stats = self._batcher, self.stats
        if batcher is None or stats is None:
            raise RequestError(
                f"Request for unknown model: '{self.name}' has no available versions"
            )
        sig = self.backend.signature
        try:
            request = decode_request(body, header_length, sig, self.config.max_batch_size)
            await self._admit(arrival, request.batch)
            done = await batcher.submit(request.inputs, request.batch)
            if self.fail_inference is not None:
                raise BackendError(self.fail_inference)
            payload = encode_response(self.name, request, done.outputs, sig)
        except RequestError as exc:
            stats.record_failure(exc.reason)
            raise
        stats.record_success(
            request_s=asyncio.get_running_loop().time() - arrival,
            queue_s=done.queue_s,
            input_s=done.input_s,
            infer_s=done.infer_s,
            output_s=done.output_s,
        )
        return payload
