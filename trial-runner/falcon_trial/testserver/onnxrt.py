"""A backend that really runs the ONNX model with onnxruntime on the CPU.

Batches run in a thread pool (onnxruntime releases the GIL), one thread per model instance, so
the event loop keeps accepting requests while a batch computes. Inputs, outputs and whether the
model batches come from the ONNX graph.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from falcon_trial.testserver.backend import Array, Executed, GpuGauges
from falcon_trial.testserver.config import ModelConfig
from falcon_trial.testserver.errors import ConfigError
from falcon_trial.testserver.tensors import signature_from_onnx


class OnnxRuntimeBackend:
    """The model at ``path`` on onnxruntime's CPU execution provider."""

    platform = "onnxruntime_onnx"
    kind = "KIND_CPU"

    def __init__(
        self, path: Path | str, *, max_batch_size: int = 8, threads: int | None = None
    ) -> None:
        self.signature = signature_from_onnx(path)
        if max_batch_size < 1:
            raise ConfigError(f"max batch size must be ≥ 1, got {max_batch_size}")
        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            self._session = ort.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own (untyped) exceptions
            raise ConfigError(f"{path}: onnxruntime cannot load the model: {exc}") from None
        self._max_batch_size = max_batch_size if self.signature.batching else 0
        self._instances = 1
        self._pool: ThreadPoolExecutor | None = None

    def default_config(self) -> ModelConfig:
        return ModelConfig(self._max_batch_size)

    def check_config(self, config: ModelConfig) -> None:
        return None  # any batch fits in host memory for the models this server is for

    def configure(self, config: ModelConfig) -> None:
        if config.instance_count != self._instances and self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None
        self._instances = config.instance_count

    async def admit(self, arrival: float, samples: int) -> None:
        return None  # host work is real here: the server's own request handling

    def _run(self, inputs: Mapping[str, Array]) -> list[Any]:
        return self._session.run([s.name for s in self.signature.outputs], dict(inputs))  # type: ignore[no-any-return]

    async def execute(self, inputs: Mapping[str, Array], batch: int, ready_at: float) -> Executed:
        loop = asyncio.get_running_loop()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._instances, thread_name_prefix="onnxruntime")
        start = loop.time()
        results = await loop.run_in_executor(self._pool, self._run, inputs)
        outputs = {
            s.name: np.asarray(r) for s, r in zip(self.signature.outputs, results, strict=True)
        }
        return Executed(outputs, start, loop.time())

    def gpu_gauges(self, now: float) -> tuple[GpuGauges, ...]:
        return ()

    async def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None
