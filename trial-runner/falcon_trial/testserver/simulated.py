"""A backend that behaves like the model on a simulated GPU: the fleet model sets every delay.

A batch of ``n`` occupies the GPU for ``FleetModel.batch_seconds(workload, slice, n, power)``;
each request first needs host work on one of ``ceil(cpus)`` simulated cores, sized so the cores
together handle ``FleetModel.cpu_capacity(workload, cpus)`` samples per second. Delays are
slept (``asyncio.sleep``) after ``time_scale`` is applied, so concurrency, batching and tail
latency behave as on a server. Outputs are zeros of the declared shapes. The fleet package is
imported lazily, only by this backend.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from falcon_trial.testserver.backend import Array, Executed, GpuGauges
from falcon_trial.testserver.config import ModelConfig
from falcon_trial.testserver.errors import ConfigError
from falcon_trial.testserver.tensors import ModelSignature, signature_from_onnx
from falcon_trial.testserver.timeline import BusyMeter, Lanes

if TYPE_CHECKING:
    from falcon_operator.fleet.performance import Workload

IDLE_POWER_SHARE = 0.15  #: idle draw as a share of TDP


class SimulatedBackend:
    """The model served on one simulated GPU (or MIG slice) with ``cpus`` host cores."""

    platform = "onnxruntime_onnx"
    kind = "KIND_GPU"

    def __init__(
        self,
        workload: Workload,
        signature: ModelSignature,
        *,
        gpu: str = "T4",
        cpus: float = 4,
        batch_size: int = 8,
        power: float | None = None,
        gpu_memory_gb: float | None = None,
        seed: int = 0,
        time_scale: float = 1.0,
    ) -> None:
        from falcon_operator.errors import DataError
        from falcon_operator.fleet.catalog import load_catalog
        from falcon_operator.fleet.performance import FleetModel

        if cpus <= 0 or batch_size < 1 or time_scale <= 0:
            raise ConfigError(
                f"need cpus > 0, batch size ≥ 1, time scale > 0; "
                f"got {cpus}, {batch_size}, {time_scale}"
            )
        if power is not None and not 5 <= power <= 100:
            raise ConfigError(f"power cap is a percentage of TDP in 5..100, got {power}")
        if not signature.batching and batch_size != 1:
            raise ConfigError("the model has no dynamic batch dimension: batch size must be 1")
        self.fleet = FleetModel(load_catalog())
        try:
            self.slice = self.fleet.catalog.slice(gpu)
        except DataError as exc:
            raise ConfigError(str(exc)) from None
        self.workload, self.signature, self._batch_size = workload, signature, batch_size
        self.cpus, self.power, self.time_scale = float(cpus), (power or 100.0) / 100.0, time_scale
        self.memory_limit_gb = min(self.slice.memory_gb, gpu_memory_gb or math.inf)
        self.gpu_uuid = f"GPU-{uuid.uuid5(uuid.NAMESPACE_URL, f'falcon-triton-sim/{gpu}/{seed}')}"
        self._cores = Lanes(max(1, math.ceil(self.cpus)))
        self._core_seconds = max(1, math.ceil(self.cpus)) / self.cpu_capacity_rps_unscaled
        self._gpu, self._busy = Lanes(1), BusyMeter()
        self._batch_seconds: dict[int, float] = {}
        self._config = self.default_config()
        self.check_config(self._config)

    @classmethod
    def from_onnx(
        cls,
        path: Path | str,
        *,
        gpu: str = "T4",
        cpus: float = 4,
        batch_size: int = 8,
        power: float | None = None,
        gpu_memory_gb: float | None = None,
        seed: int = 0,
        time_scale: float = 1.0,
    ) -> SimulatedBackend:
        """The model at ``path``; ``power`` is a percentage of TDP (None: 100)."""
        from falcon_operator.errors import FalconError
        from falcon_operator.fleet.workload import workload_from_onnx

        signature = signature_from_onnx(path)
        try:
            workload, _ = workload_from_onnx(path)
        except FalconError as exc:
            raise ConfigError(f"{path}: {exc}") from None
        return cls(workload, signature, gpu=gpu, cpus=cpus, batch_size=batch_size, power=power,
                   gpu_memory_gb=gpu_memory_gb, seed=seed, time_scale=time_scale)  # fmt: skip

    @property
    def cpu_capacity_rps_unscaled(self) -> float:
        """Samples per simulated second the host cores can handle (before ``time_scale``)."""
        return self.fleet.cpu_capacity(self.workload, self.cpus)

    def batch_seconds(self, batch: int) -> float:
        """Simulated GPU time of a batch (before ``time_scale``)."""
        if batch not in self._batch_seconds:
            self._batch_seconds[batch] = self.fleet.batch_seconds(
                self.workload, self.slice, batch, self.power
            )
        return self._batch_seconds[batch]

    @property
    def capacity_rps(self) -> float:
        """Requests (batch-1) per wall-clock second at saturation, with full batches."""
        b = self._config.batch_target
        return min(b / self.batch_seconds(b), self.cpu_capacity_rps_unscaled) / self.time_scale

    def default_config(self) -> ModelConfig:
        b = self._batch_size
        return ModelConfig(b, (b,)) if self.signature.batching else ModelConfig(0)

    def check_config(self, config: ModelConfig) -> None:
        batch = max(config.max_batch_size, 1)
        need = self.fleet.gpu_memory_gb(self.workload, batch)
        if need > self.memory_limit_gb:
            raise ConfigError(
                f"out of memory: the model needs {need:.2f} GB at batch {batch}, "
                f"{self.slice.label} allows {self.memory_limit_gb:.2f} GB"
            )

    def configure(self, config: ModelConfig) -> None:
        self._config = config

    async def admit(self, arrival: float, samples: int) -> None:
        """Host work for a request of ``samples`` on the first free simulated core."""
        _, end = self._cores.reserve(arrival, samples * self._core_seconds * self.time_scale)
        await _sleep_until(end)

    async def execute(self, inputs: Mapping[str, Array], batch: int, ready_at: float) -> Executed:
        start, end = self._gpu.reserve(ready_at, self.batch_seconds(batch) * self.time_scale)
        self._busy.add(start, end)
        await _sleep_until(end)
        lead = (batch,) if self.signature.batching else ()
        outputs = {
            s.name: np.zeros(lead + tuple(max(d, 1) for d in s.shape[len(lead) :]), s.dtype)
            for s in self.signature.outputs
        }
        return Executed(outputs, start, end)

    def gpu_gauges(self, now: float) -> tuple[GpuGauges, ...]:
        util = self._busy.utilization(now)
        tdp = self.slice.gpu.tdp_w
        limit = tdp * self.power
        idle = min(IDLE_POWER_SHARE * tdp, limit)
        used = self.fleet.gpu_memory_gb(self.workload, max(self._config.max_batch_size, 1))
        return (GpuGauges(self.gpu_uuid, util, self.slice.memory_gb * 1e9, used * 1e9,
                          idle + (limit - idle) * util, limit),)  # fmt: skip

    async def close(self) -> None:
        return None


async def _sleep_until(when: float) -> None:
    delay = when - asyncio.get_running_loop().time()
    if delay > 0:
        await asyncio.sleep(delay)
