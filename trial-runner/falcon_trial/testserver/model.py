"""The one model a test server serves: its config, counters, batcher, and load/unload/infer.

Loading a loaded model with a new config swaps the config in place (counters continue);
unloading waits for queued requests, then drops the model's counters, so a later load starts
them from zero (Triton removes an unloaded model's series).
"""

from __future__ import annotations

import asyncio
import dataclasses

from falcon_trial.testserver.backend import Backend
from falcon_trial.testserver.batcher import DynamicBatcher
from falcon_trial.testserver.codec import decode_request, encode_response
from falcon_trial.testserver.config import ModelConfig, apply_override
from falcon_trial.testserver.errors import ConfigError, RequestError
from falcon_trial.testserver.stats import ModelStats

UNLOAD_DRAIN_S = 30.0


class ServedModel:
    """``backend`` served under ``name`` (version ``"1"``)."""

    def __init__(
        self, name: str, backend: Backend, *, max_queue_delay_ms: float, instance_count: int = 1
    ) -> None:
        self.name, self.backend = name, backend
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
        """Stop at once: queued and running requests fail."""
        batcher, self._batcher = self._batcher, None
        if batcher is not None:
            await batcher.stop()

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
            await self.backend.admit(arrival, request.batch)
            done = await batcher.submit(request.inputs, request.batch)
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
