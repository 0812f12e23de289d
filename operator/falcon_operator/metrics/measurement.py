"""The frozen result of a measurement window, and the GPU readings it carries.

Totals are the counter increases over the window (``None`` when the server does not export that
counter for the model, e.g. latency counters disabled with ``--metrics-config``). Derived
figures are properties and are ``None`` when undefined (an average over zero requests).
"""

from __future__ import annotations

from dataclasses import dataclass


def _ratio(num: float | None, den: float | None, scale: float = 1.0) -> float | None:
    if num is None or den is None or den <= 0:
        return None
    return num / den * scale


@dataclass(frozen=True)
class GpuReading:
    """One GPU's gauges (``None`` where the server does not export that gauge)."""

    uuid: str
    utilization: float | None = None  #: 0.0 - 1.0
    memory_used_bytes: float | None = None
    power_w: float | None = None
    power_limit_w: float | None = None


@dataclass(frozen=True)
class WindowMeasurement:
    """What Triton's counters say about one model over ``seconds`` of wall-clock time."""

    model: str
    version: str | None  #: None: summed over every version
    seconds: float
    requests: float  #: successful requests
    failures: float | None = None
    inferences: float | None = None
    executions: float | None = None
    request_us: float | None = None  #: summed request durations of successful requests
    queue_us: float | None = None
    compute_us: float | None = None  #: summed model execution time (per request)
    gpus: tuple[GpuReading, ...] = ()
    resets: tuple[str, ...] = ()  #: counters that went down inside the window

    @property
    def counter_reset(self) -> bool:
        """True when a counter was reset inside the window: distrust or repeat the window."""
        return bool(self.resets)

    @property
    def request_rps(self) -> float:
        """Successful requests per second."""
        return self.requests / self.seconds

    @property
    def inference_rps(self) -> float | None:
        """Inferences (samples) per second."""
        return _ratio(self.inferences, self.seconds)

    @property
    def failure_rps(self) -> float | None:
        return _ratio(self.failures, self.seconds)

    @property
    def avg_batch_size(self) -> float | None:
        """Inferences per execution: the batch the dynamic batcher formed on average."""
        return _ratio(self.inferences, self.executions)

    @property
    def avg_request_ms(self) -> float | None:
        return _ratio(self.request_us, self.requests, 1e-3)

    @property
    def avg_queue_ms(self) -> float | None:
        return _ratio(self.queue_us, self.requests, 1e-3)

    @property
    def avg_compute_ms(self) -> float | None:
        return _ratio(self.compute_us, self.requests, 1e-3)

    @property
    def gpu_utilization(self) -> float | None:
        """Mean utilization over the GPUs that report it."""
        values = [g.utilization for g in self.gpus if g.utilization is not None]
        return sum(values) / len(values) if values else None

    @property
    def gpu_memory_used_bytes(self) -> float | None:
        values = [g.memory_used_bytes for g in self.gpus if g.memory_used_bytes is not None]
        return sum(values) if values else None

    @property
    def gpu_power_w(self) -> float | None:
        values = [g.power_w for g in self.gpus if g.power_w is not None]
        return sum(values) if values else None

    def summary(self) -> dict[str, float | bool | None]:
        """The derived figures as a flat, JSON-friendly dict (for statuses and reports)."""
        return {
            "seconds": self.seconds,
            "request_rps": self.request_rps,
            "inference_rps": self.inference_rps,
            "failure_rps": self.failure_rps,
            "avg_batch_size": self.avg_batch_size,
            "avg_request_ms": self.avg_request_ms,
            "avg_queue_ms": self.avg_queue_ms,
            "avg_compute_ms": self.avg_compute_ms,
            "gpu_utilization": self.gpu_utilization,
            "gpu_memory_used_bytes": self.gpu_memory_used_bytes,
            "gpu_power_w": self.gpu_power_w,
            "counter_reset": self.counter_reset,
        }
