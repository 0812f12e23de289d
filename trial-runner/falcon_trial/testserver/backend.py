"""The contract between the server and what computes results (simulated fleet or onnxruntime).

Times are event-loop clock readings (``loop.time()``, seconds). A backend that simulates time
may place a batch's execution between ``ready_at`` (when the batch was complete) and now, so the
schedule it keeps does not drift when the event loop wakes it late; it reports the execution
interval it simulated in :class:`Executed`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from numpy.typing import NDArray

from falcon_trial.testserver.config import ModelConfig
from falcon_trial.testserver.tensors import ModelSignature

Array = NDArray[Any]


@dataclass(frozen=True)
class Executed:
    """A batch's outputs (batch dimension first) and when it ran on the device."""

    outputs: dict[str, Array]
    started: float
    finished: float


@dataclass(frozen=True)
class GpuGauges:
    """One (simulated) GPU's readings, exported as Triton's ``nv_gpu_*`` gauges."""

    uuid: str
    utilization: float
    memory_total_bytes: float
    memory_used_bytes: float
    power_w: float
    power_limit_w: float


class Backend(Protocol):
    """Computes batches for one model."""

    @property
    def signature(self) -> ModelSignature: ...

    @property
    def platform(self) -> str:
        """Triton platform name, e.g. ``onnxruntime_onnx``."""
        ...

    @property
    def kind(self) -> str:
        """Instance kind for the model config: ``KIND_GPU`` or ``KIND_CPU``."""
        ...

    def default_config(self) -> ModelConfig: ...

    def check_config(self, config: ModelConfig) -> None:
        """Raise ``ConfigError`` when the backend cannot load the model with ``config``."""
        ...

    def configure(self, config: ModelConfig) -> None:
        """Adopt ``config`` (already checked) for the batches that follow."""
        ...

    async def admit(self, arrival: float, samples: int) -> None:
        """Host-side work for a request of ``samples`` that arrived at ``arrival``."""
        ...

    async def execute(self, inputs: Mapping[str, Array], batch: int, ready_at: float) -> Executed:
        """Run one batch of ``batch`` samples (inputs concatenated along the batch dim)."""
        ...

    def gpu_gauges(self, now: float) -> tuple[GpuGauges, ...]:
        """Current GPU readings (empty for a CPU backend)."""
        ...

    async def close(self) -> None: ...
