"""The simulated fleet as a trial backend and as a configuration space.

Knobs are the registry's (:mod:`falcon_operator.core.knobs`): a GPU or MIG slice label such as
``A100/3g.20gb``, CPU cores, an MPS memory limit in GB (``0`` means the whole slice), the batch
size, the power cap (percent of TDP) and, when asked for, the Triton instance count. Prices,
scores and the SLO are the search's :class:`~falcon_operator.core.objective.Objective`; a
configuration that fails gets the measurement's failure kind (``oom``, ``slo``), whose policy
(core/records.py) makes out-of-memory *infeasible* and an SLO break *failed*.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from falcon_operator.core.catalog import Catalog
from falcon_operator.core.knobs import (
    BATCH,
    CPUS,
    GPU,
    GPU_MEMORY,
    INSTANCES,
    POWER,
    build_space,
    simulator_input,
)
from falcon_operator.core.knobs import DEFAULT_INSTANCES as DEFAULT_INSTANCE_COUNTS
from falcon_operator.core.numbers import slo_break
from falcon_operator.core.objective import CostFunction, Objective
from falcon_operator.core.records import FailureKind, Outcome, TrialRecord
from falcon_operator.core.space import Space, Value
from falcon_operator.fleet.performance import FleetModel, Measurement, Workload

DEFAULT_BATCHES = (1, 2, 4, 8, 16, 32, 64, 128)
DEFAULT_CPUS = (1, 2, 4, 8)
DEFAULT_POWER = (50, 75, 100)
DEFAULT_GPU_MEMORY = (0.0, 2.0, 4.0, 8.0)


def fleet_space(
    catalog: Catalog,
    *,
    gpus: Sequence[str] | None = None,
    mig: bool = True,
    batches: Sequence[int] = DEFAULT_BATCHES,
    cpus: Sequence[int] = DEFAULT_CPUS,
    power: Sequence[int] = DEFAULT_POWER,
    gpu_memory: Sequence[float] = DEFAULT_GPU_MEMORY,
    instances: Sequence[int] = DEFAULT_INSTANCE_COUNTS,
) -> Space:
    """The search space over the catalog's GPUs (and their MIG slices when ``mig``)."""
    labels: list[str] = []
    for name in gpus or sorted(catalog.gpus):
        gpu = catalog.slice(name).gpu
        labels.append(gpu.name)
        if mig:
            labels.extend(f"{gpu.name}/{p}" for p in gpu.mig)
    return build_space(
        {BATCH: batches, CPUS: cpus, GPU_MEMORY: gpu_memory, POWER: power, GPU: labels,
         INSTANCES: instances}
    )  # fmt: skip


def low_load(m: Measurement, cost_per_hour: float) -> dict[str, float]:
    """The latencies of a configuration whose SLO is out of reach, measured at low load."""
    values = {"p50_ms": m.p50_ms, "p99_ms": m.p99_ms, "cost_per_hour": cost_per_hour}
    return {k: v for k, v in values.items() if math.isfinite(v)}


class FleetBackend:
    """Answers trials with the fleet's performance model (seeded noise per trial), priced and
    scored by ``objective`` (default: requests per second per dollar-hour at the catalog's
    prices, no SLO)."""

    def __init__(
        self,
        workload: Workload,
        model: FleetModel,
        *,
        objective: Objective | None = None,
        seed: int = 0,
    ) -> None:
        self.workload = workload
        self.model = model
        self.objective = objective or Objective.of(model.catalog)
        self.seed = seed

    @property
    def slo_p99_ms(self) -> float | None:
        return self.objective.slo_p99_ms

    def cost_function(self, space: Space) -> CostFunction:
        """The known $/h of every configuration of ``space`` (vectorised, for priors)."""
        return self.objective.cost_function(space)

    def measure(self, config: Mapping[str, Value], *, noisy: bool = True) -> Measurement:
        return self.model.measure(
            self.workload,
            **simulator_input(config),
            slo_p99_ms=self.slo_p99_ms,
            seed=self.seed if noisy else None,
        )

    def run(self, config: Mapping[str, Value], *, noisy: bool = True) -> TrialRecord:
        """The trial record of ``config`` (the expected measurement when not ``noisy``)."""
        m = self.measure(config, noisy=noisy)
        cost = self.objective.cost_per_hour(config)
        metrics = m.metrics() | {"cost_per_hour": cost}
        if m.feasible and self.objective.slo_broken(m.p99_ms):
            reason = slo_break(m.p99_ms, self.objective.slo_p99_ms or 0.0)
            return TrialRecord.failed(config, FailureKind.SLO, reason, metrics=metrics)
        if m.feasible:
            score = self.objective.score(rps=m.rps, p99_ms=m.p99_ms, cost_per_hour=cost)
            return TrialRecord(dict(config), Outcome.OK, score, metrics=metrics)
        kind = m.failure
        assert kind is not None  # a measurement that is not feasible says why
        # out of memory says nothing more; an SLO out of reach: the p99 at low load says by how much
        failed = low_load(m, cost) if kind is FailureKind.SLO else {}
        return TrialRecord.failed(config, kind, m.reason, metrics=failed)
