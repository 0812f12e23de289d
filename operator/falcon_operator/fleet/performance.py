"""Performance model of a model served on one GPU (or MIG slice): what a trial would measure.

Per operator, a roofline with batch-size efficiency: time = max(compute, memory traffic) + kernel
launches. A GPU power cap lowers the clock (clock ∝ power^(1/3)), which slows compute-bound work
fully and memory-bound work only by ``memory_power_sensitivity``. A MIG slice gets its share of
compute, bandwidth and memory; an MPS memory limit caps memory further: a batch whose weights and
activations do not fit is *infeasible* (out of memory), never "objective 0". CPU cores bound
request handling (pre-processing, serialisation). A dynamic batcher and its queue set p50/p99:
the measurement is taken at the highest load (≤ ``max_utilisation``) that meets the p99 SLO, and
a configuration that cannot meet the SLO even when idle *fails*. Measurements carry seeded
multiplicative noise.

N Triton model instances on one GPU run their batches on CUDA streams of one context: a share
(``instance_overlap``) of the other instances' kernels runs concurrently with a batch's own, which
fills the SMs a small batch leaves idle and hides kernel-launch gaps, so the GPU time per batch
falls towards the roofline (higher throughput, saturating at the GPU's). Each instance holds its
own weights and activations (out of memory sooner), and under load a batch shares the GPU with
the other busy instances (its latency rises). One instance is the model above, exactly.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from falcon_operator.core.catalog import Catalog, Slice
from falcon_operator.core.errors import DataError
from falcon_operator.core.numbers import versus
from falcon_operator.core.records import FailureKind


@dataclass(frozen=True)
class OperatorLoad:
    """One operator type's work for one sample (per-batch weights are read once per batch)."""

    operator: str
    flops_per_sample: float
    bytes_per_sample: float
    weight_bytes: float = 0.0
    kernels: int = 1


@dataclass(frozen=True)
class Workload:
    """A model as the fleet sees it."""

    name: str
    operators: Sequence[OperatorLoad]
    weight_bytes: float  #: parameters resident on the GPU
    activation_bytes_per_sample: float  #: peak activation memory per sample in a batch
    cpu_seconds_per_request: float = 0.0004  #: host work per request on one core


@dataclass(frozen=True)
class ModelSettings:
    """Constants of the performance model (documented in docs/fleet.md)."""

    compute_utilisation: float = 0.45  #: share of datasheet FP32 peak reached by good kernels
    batch_half_efficiency: float = 4.0  #: batch size at which kernels reach half their efficiency
    launch_seconds: float = 5e-6  #: per kernel launch
    memory_power_sensitivity: float = 0.3  #: how much a power cap slows memory-bound work
    context_gb: float = 0.35  #: CUDA context and framework workspace
    cpu_parallel_fraction: float = 0.95  #: Amdahl fraction of request handling that scales
    max_utilisation: float = 0.85  #: the load the trial runner's knee search settles at
    noise_sigma: float = 0.03  #: multiplicative (log-normal) measurement noise
    #: share of the other model instances' kernels that overlap a batch's own on the GPU
    instance_overlap: float = 0.5


@dataclass(frozen=True)
class Measurement:
    """What a trial would measure; not ``feasible`` ones say why as ``failure`` (OOM or SLO)."""

    feasible: bool
    reason: str = ""
    rps: float = 0.0
    p50_ms: float = math.nan
    p99_ms: float = math.nan
    gpu_memory_gb: float = 0.0
    batch_seconds: float = math.nan
    failure: FailureKind | None = None

    def __post_init__(self) -> None:
        if self.feasible != (self.failure is None):
            raise DataError(f"a measurement is feasible iff it has no failure kind: {self!r}")

    def metrics(self) -> dict[str, float]:
        """What a trial reports (its price and score come from the objective, fleet/backend.py)."""
        return {
            "rps": self.rps,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "gpu_memory_gb": self.gpu_memory_gb,
        }


class FleetModel:
    """Predicts trials for a workload on the catalog's GPUs."""

    def __init__(self, catalog: Catalog, *, settings: ModelSettings | None = None) -> None:
        self.catalog = catalog
        self.settings = settings or ModelSettings()

    def concurrency(self, instances: int) -> float:
        """How many batches' kernels run at once with ``instances`` model instances (1 for 1)."""
        return 1.0 + self.settings.instance_overlap * (max(instances, 1) - 1)

    def batch_seconds(
        self, w: Workload, sl: Slice, batch: int, power: float, *, instances: int = 1
    ) -> float:
        """GPU time of one batch on the slice at ``power`` (fraction of TDP, in (0, 1]).

        With several ``instances`` the kernels of concurrent batches fill the GPU together
        (batch efficiency of the overlapped batches) and hide each other's launch gaps.
        """
        st = self.settings
        overlap = self.concurrency(instances)
        clock = min(max(power, 0.05), 1.0) ** (1 / 3)
        mem_factor = 1.0 - st.memory_power_sensitivity * (1.0 - clock)
        eff = batch * overlap / (batch * overlap + st.batch_half_efficiency)
        peak = sl.gpu.fp32_tflops * 1e12 * st.compute_utilisation * sl.compute_fraction
        bandwidth = sl.gpu.bandwidth_gbs * 1e9 * sl.compute_fraction * mem_factor
        total = 0.0
        for op in w.operators:
            compute = op.flops_per_sample * batch / (peak * eff * clock)
            memory = (op.bytes_per_sample * batch + op.weight_bytes) / bandwidth
            total += max(compute, memory) + op.kernels * st.launch_seconds / overlap
        return total

    def gpu_memory_gb(self, w: Workload, batch: int, *, instances: int = 1) -> float:
        """GPU memory of ``instances`` model instances, each with its weights and activations."""
        per_instance = w.weight_bytes + batch * w.activation_bytes_per_sample
        return max(instances, 1) * per_instance / 1e9 + self.settings.context_gb

    def out_of_memory(
        self,
        w: Workload,
        *,
        gpu: str,
        batch: int,
        gpu_memory_limit_gb: float | None = None,
        instances: int = 1,
        **_: object,
    ) -> str:
        """The "out of memory" reason of a configuration that does not fit; "" when it fits."""
        sl = self.catalog.slice(gpu)
        need = self.gpu_memory_gb(w, batch, instances=instances)
        limit = min(sl.memory_gb, gpu_memory_limit_gb or math.inf)
        return f"out of memory: needs {need:.2f} GB, limit {limit:.2f} GB" if need > limit else ""

    def cpu_capacity(self, w: Workload, cpus: float) -> float:
        """Requests per second the host cores can handle."""
        f = self.settings.cpu_parallel_fraction
        speedup = 1.0 / ((1.0 - f) + f / max(cpus, 1e-9))
        return speedup / max(w.cpu_seconds_per_request, 1e-12)

    def measure(
        self,
        w: Workload,
        *,
        gpu: str,
        cpus: float,
        batch: int,
        power: float = 1.0,
        gpu_memory_limit_gb: float | None = None,
        instances: int = 1,
        slo_p99_ms: float | None = None,
        seed: int | None = None,
    ) -> Measurement:
        """What a trial in this configuration would report (noise-free when ``seed`` is None)."""
        sl = self.catalog.slice(gpu)
        need = self.gpu_memory_gb(w, batch, instances=instances)
        oom = self.out_of_memory(
            w, gpu=gpu, batch=batch, gpu_memory_limit_gb=gpu_memory_limit_gb, instances=instances
        )
        if oom:
            return Measurement(False, oom, gpu_memory_gb=need, failure=FailureKind.OOM)
        t_batch = self.batch_seconds(w, sl, batch, power, instances=instances)
        host = batch * w.cpu_seconds_per_request / max(cpus, 1.0)
        capacity = min(batch / t_batch, self.cpu_capacity(w, cpus))
        rho, p50, p99 = self._operating_point(t_batch, host, batch, capacity, slo_p99_ms,
                                              instances=instances)  # fmt: skip
        if rho <= 0:
            low, slo = versus(p99, slo_p99_ms or 0.0)
            return Measurement(False, f"p99 SLO {slo} ms unreachable: p99 ≥ {low} ms even at "
                               "low load", p50_ms=p50, p99_ms=p99, gpu_memory_gb=need,
                               batch_seconds=t_batch, failure=FailureKind.SLO)  # fmt: skip
        key = (gpu, cpus, batch, power, gpu_memory_limit_gb) + (
            (instances,) if instances != 1 else ()
        )
        noise = self._noise(seed, *key)
        return Measurement(True, "", rho * capacity * noise[0], p50 * noise[1], p99 * noise[2],
                           need, t_batch)  # fmt: skip

    def _operating_point(
        self,
        t_batch: float,
        host: float,
        batch: int,
        capacity: float,
        slo_ms: float | None,
        *,
        instances: int = 1,
    ) -> tuple[float, float, float]:
        """Highest load ρ ≤ max_utilisation whose p99 meets the SLO; (ρ, p50 ms, p99 ms).

        A batch's service time is its GPU time stretched by the other instances busy at load ρ
        (1 + (N − 1) ρ of them share the GPU), plus its host time.
        """

        def latency(rho: float) -> tuple[float, float]:
            service = t_batch * (1.0 + (max(instances, 1) - 1) * rho) + host
            arrival = rho * capacity
            fill = (batch - 1) / max(arrival, 1e-9)  # waiting for the batch to fill
            fill = min(fill, service)  # the batcher's max queue delay ≈ one service time
            wait = rho * service / (2 * (1 - rho))  # M/D/1 mean queueing delay
            p50 = service + 0.5 * fill + 0.7 * wait
            p99 = service + fill + wait * math.log(100)
            return p50 * 1e3, p99 * 1e3

        top = self.settings.max_utilisation
        for rho in np.linspace(top, 0.05, 33):
            p50, p99 = latency(float(rho))
            if slo_ms is None or p99 <= slo_ms:
                return float(rho), p50, p99
        return 0.0, *latency(0.05)

    def _noise(self, seed: int | None, *key: object) -> tuple[float, float, float]:
        if seed is None or self.settings.noise_sigma <= 0:
            return 1.0, 1.0, 1.0
        rng = np.random.default_rng([seed & 0xFFFFFFFF, zlib.crc32(repr(key).encode())])
        a, b, c = rng.lognormal(0.0, self.settings.noise_sigma, 3)
        return float(a), float(b), float(c)


def synthetic_workload(
    name: str,
    operators: Mapping[str, tuple[float, float]],
    *,
    weight_mb: float,
    activation_mb_per_sample: float,
    cpu_ms_per_request: float = 0.4,
    kernels: int = 8,
) -> Workload:
    """A workload from per-operator (GFLOPs, MB moved) per sample; weights split by FLOPs."""
    total = sum(g for g, _ in operators.values()) or 1.0
    ops = [
        OperatorLoad(op, g * 1e9, mb * 1e6, weight_mb * 1e6 * g / total, kernels)
        for op, (g, mb) in operators.items()
    ]
    return Workload(name, ops, weight_mb * 1e6, activation_mb_per_sample * 1e6,
                    cpu_ms_per_request / 1e3)  # fmt: skip
