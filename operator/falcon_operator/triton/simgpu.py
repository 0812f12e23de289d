"""The simulated GPU behind real Triton: how long a batch holds it, and what fits in its memory.

A trial's configuration reaches the Triton process as ``FALCON_TRIAL_CONFIG`` (JSON, e.g.
``{"gputype": "T4", "cpus": 4, "batchsize": 8, "gpupower": 100, "gpumem": 0.0}``, and
``"instances": N`` when the search has the instance-count knob). A batch of ``n`` then occupies
the GPU for ``FleetModel.batch_seconds(workload, slice, n, gpupower / 100, instances=N)`` times
``FALCON_TIME_SCALE`` (default 1). Every model instance of one server shares the GPU: a batch is
reserved on one timeline kept in a lock file keyed by the server's process id, so two instances
never overlap on it (the GPU executes one batch at a time; without a writable temp dir each
instance keeps its own timeline). With N instances each batch's GPU time is the fleet model's
overlapped one (N instances keep the GPU fuller: more throughput) while a batch waits behind the
other instances' (latency under load rises). A model whose N instances' weights and activations
at ``max_batch_size`` exceed the slice's memory (or the MPS limit ``gpumem``, or
``CUDA_MPS_PINNED_DEVICE_MEM_LIMIT``) fails to load with "out of memory".

Imports stay light (numpy, onnx through the fleet/analysis modules): this runs in Triton's
Python backend stub, inside a small image.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import struct
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from falcon_operator.core.catalog import load_catalog
from falcon_operator.core.errors import FalconError
from falcon_operator.core.knobs import (
    BATCH,
    CPUS,
    GPU,
    GPU_MEMORY,
    INSTANCES,
    MPS_LIMIT_ENV,
    POWER,
    TRIAL_CONFIG_ENV,
)
from falcon_operator.fleet.performance import FleetModel, Workload

CONFIG_ENV = TRIAL_CONFIG_ENV
TIME_SCALE_ENV = "FALCON_TIME_SCALE"
LOCK_DIR_ENV = "FALCON_SIMGPU_DIR"


class SimGpuError(FalconError):
    """The simulated GPU cannot be set up (bad configuration, or the model does not fit)."""


@dataclass(frozen=True)
class TrialConfig:
    """The serving configuration the simulated GPU plays."""

    gputype: str
    cpus: float = 4.0
    batchsize: int = 1
    gpupower: float = 100.0  #: percent of TDP
    gpumem: float = 0.0  #: MPS memory limit in GB; 0: none
    instances: int = 1  #: Triton model instances sharing the GPU

    @classmethod
    def parse(cls, text: str) -> TrialConfig:
        try:
            raw = json.loads(text)
            config = cls(
                gputype=str(raw[GPU]),
                cpus=float(raw.get(CPUS, 4.0)),
                batchsize=int(raw.get(BATCH, 1)),
                gpupower=float(raw.get(POWER, 100.0)),
                gpumem=float(raw.get(GPU_MEMORY, 0.0)),
                instances=int(raw.get(INSTANCES, 1)),
            )
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise SimGpuError(f"{CONFIG_ENV} is not a configuration: {exc!r}") from None
        if config.instances < 1:
            raise SimGpuError(f"{CONFIG_ENV}: {INSTANCES} must be at least 1")
        return config


def mps_limit_gb(value: str | None) -> float | None:
    """GB from ``CUDA_MPS_PINNED_DEVICE_MEM_LIMIT`` (``0=2G`` or ``0=512M``); None if unset."""
    if not value:
        return None
    _, _, amount = value.split(",")[0].rpartition("=")
    units = {"G": 1.0, "M": 1e-3}
    try:
        return float(amount[:-1]) * units[amount[-1].upper()]
    except (KeyError, ValueError, IndexError):
        raise SimGpuError(f"{MPS_LIMIT_ENV}={value!r} is not like 0=2G") from None


class SimulatedGpu:
    """One simulated GPU (or MIG slice) serving ``workload``."""

    def __init__(
        self,
        workload: Workload,
        config: TrialConfig,
        *,
        time_scale: float = 1.0,
        mps_limit: float | None = None,
        lock_path: Path | None = None,
    ) -> None:
        if time_scale <= 0 or not 0 < config.gpupower <= 100:
            raise SimGpuError(
                f"need {TIME_SCALE_ENV} > 0 and gpupower in (0, 100]; "
                f"got {time_scale:g}, {config.gpupower:g}"
            )
        self.fleet = FleetModel(load_catalog())
        try:
            self.slice = self.fleet.catalog.slice(config.gputype)
        except FalconError as exc:
            raise SimGpuError(str(exc)) from None
        self.workload, self.config, self.time_scale = workload, config, time_scale
        limits = [self.slice.memory_gb, config.gpumem or math.inf, mps_limit or math.inf]
        self.memory_limit_gb = min(limits)
        parent = Path(os.environ.get(LOCK_DIR_ENV) or tempfile.gettempdir())
        self.lock_path = lock_path or parent / f"falcon-simgpu-{os.getppid()}.lock"
        self._seconds: dict[int, float] = {}
        self._local_busy = 0.0

    @classmethod
    def from_env(cls, workload: Workload, env: Mapping[str, str]) -> SimulatedGpu | None:
        """The GPU that ``FALCON_TRIAL_CONFIG`` describes; None without it (no hold)."""
        text = env.get(CONFIG_ENV, "").strip()
        if not text:
            return None
        try:
            scale = float(env.get(TIME_SCALE_ENV) or 1.0)
        except ValueError:
            raise SimGpuError(f"{TIME_SCALE_ENV} must be a number") from None
        mps = mps_limit_gb(env.get(MPS_LIMIT_ENV))
        return cls(workload, TrialConfig.parse(text), time_scale=scale, mps_limit=mps)

    def check_memory(self, batch: int) -> None:
        """SimGpuError("out of memory ...") when the model at ``batch`` does not fit."""
        n = self.config.instances
        need = self.fleet.gpu_memory_gb(self.workload, max(batch, 1), instances=n)
        if need > self.memory_limit_gb:
            instances = f" × {n} instances" if n > 1 else ""
            raise SimGpuError(
                f"out of memory: the model needs {need:.2f} GB at batch {max(batch, 1)}"
                f"{instances}, {self.slice.label} allows {self.memory_limit_gb:.2f} GB"
            )

    def batch_seconds(self, batch: int) -> float:
        """Wall-clock seconds a batch of ``batch`` holds the GPU (time scale applied)."""
        if batch not in self._seconds:
            power = self.config.gpupower / 100.0
            n = self.config.instances
            t = self.fleet.batch_seconds(self.workload, self.slice, batch, power, instances=n)
            self._seconds[batch] = t * self.time_scale
        return self._seconds[batch]

    def reserve(self, batch: int, *, arrival: float | None = None) -> tuple[float, float]:
        """Book the GPU for one batch from ``arrival`` (monotonic; default now): (start, end)."""
        seconds = self.batch_seconds(batch)
        now = time.monotonic() if arrival is None else arrival
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:  # no writable temp dir: this instance keeps its own timeline
            start = max(now, self._local_busy)
            self._local_busy = start + seconds
            return start, start + seconds
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            data = os.pread(fd, 8, 0)
            busy = struct.unpack("d", data)[0] if len(data) == 8 else 0.0
            start = max(now, busy)
            os.pwrite(fd, struct.pack("d", start + seconds), 0)
        finally:
            os.close(fd)  # releases the lock
        return start, start + seconds

    def describe(self) -> str:
        c = self.config
        instances = f"{c.instances} instances, " if c.instances > 1 else ""
        return (
            f"simulated {self.slice.label} at {c.gpupower:g}% power, {c.cpus:g} cpus, "
            f"{instances}memory limit {self.memory_limit_gb:.2f} GB, "
            f"time scale {self.time_scale:g}: "
            f"batch {c.batchsize} holds it {self.batch_seconds(c.batchsize) * 1e3:.2f} ms"
        )


def wait_until(deadline: float) -> float:
    """Sleep until the monotonic ``deadline``; returns the seconds slept."""
    delay = deadline - time.monotonic()
    if delay > 0:
        time.sleep(delay)
        return delay
    return 0.0
