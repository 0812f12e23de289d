"""Simulated trials: the operator itself serves the trial pod's IP with the test server.

On the KWOK test cluster no container ever runs; a trial pod is Running with an IP on loopback.
When such a pod is ready, the operator starts ``falcon_trial.testserver`` bound to that IP,
configured from the trial's configuration (the fleet model sets every delay), slowed down by
``time_scale`` so that one trial costs the host at most ``target_rps`` requests per second.
A configuration that does not fit the GPU's memory is labelled ``falcon.io/fault: oom`` at
creation, so the KWOK stage fails its pod as OOMKilled, as a real one would.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from falcon_operator.fleet.catalog import load_catalog
from falcon_operator.fleet.performance import FleetModel, Workload
from falcon_operator.search.space import Value
from falcon_operator.trials.manifest import HTTP_PORT, METRICS_PORT
from falcon_trial.testserver import SimulatedBackend, running_server


@dataclass(frozen=True)
class SimulationSettings:
    """How simulated trials are run (operator settings)."""

    #: requests per second a simulated trial may cost the host at most (sets time_scale)
    target_rps: float = 100.0
    #: closed-loop clients per unit of batch size, and their cap
    concurrency_per_batch: int = 2
    max_concurrency: int = 32
    #: Triton's dynamic-batching delay (ms), before scaling
    max_queue_delay_ms: float = 2.0


@dataclass(frozen=True)
class ServerInfo:
    """A running simulated server: where, and how much slower than the real configuration."""

    host: str
    time_scale: float
    port: int = HTTP_PORT
    metrics_port: int = METRICS_PORT


class SimulatedFleet:
    """Simulated servers of one search, keyed by pod name (thread-safe)."""

    def __init__(
        self, model_path: Path, model_name: str, workload: Workload, settings: SimulationSettings
    ) -> None:
        self.model_path, self.model_name, self.workload = model_path, model_name, workload
        self.settings = settings
        self.fleet = FleetModel(load_catalog())
        self._servers: dict[str, tuple[ServerInfo, contextlib.ExitStack]] = {}
        self._lock = threading.Lock()

    def fault_for(self, config: Mapping[str, Value]) -> str | None:
        """``oom`` when the configuration's batch does not fit its GPU memory, else None."""
        sl = self.fleet.catalog.slice(str(config["gputype"]))
        limit = float(config.get("gpumem", 0.0)) or math.inf
        need = self.fleet.gpu_memory_gb(self.workload, int(config["batchsize"]))
        return "oom" if need > min(sl.memory_gb, limit) else None

    def _backend(self, config: Mapping[str, Value], time_scale: float) -> SimulatedBackend:
        mem = float(config.get("gpumem", 0.0))
        return SimulatedBackend.from_onnx(
            self.model_path,
            gpu=str(config["gputype"]),
            cpus=float(config["cpus"]),
            batch_size=int(config["batchsize"]),
            power=float(config["gpupower"]),
            gpu_memory_gb=mem if mem > 0 else None,
            time_scale=time_scale,
        )

    def start(self, pod: str, host: str, config: Mapping[str, Value]) -> ServerInfo:
        """Serve ``host`` as the trial pod ``pod`` would (blocking; raises ConfigError on OOM)."""
        self.stop(pod)
        capacity = self._backend(config, 1.0).capacity_rps
        scale = max(1.0, capacity / self.settings.target_rps)
        stack = contextlib.ExitStack()
        stack.enter_context(
            running_server(
                self._backend(config, scale),
                model_name=self.model_name,
                host=host,
                port=HTTP_PORT,
                metrics_port=METRICS_PORT,
                max_queue_delay_ms=self.settings.max_queue_delay_ms * scale,
            )
        )
        info = ServerInfo(host, scale)
        with self._lock:
            self._servers[pod] = (info, stack)
        return info

    def server(self, pod: str) -> ServerInfo | None:
        with self._lock:
            entry = self._servers.get(pod)
        return entry[0] if entry else None

    def stop(self, pod: str) -> None:
        with self._lock:
            entry = self._servers.pop(pod, None)
        if entry is not None:
            entry[1].close()

    def stop_all(self) -> None:
        with self._lock:
            pods = list(self._servers)
        for pod in pods:
            self.stop(pod)
