"""Simulated trials: a ready KWOK trial pod gets the simulated fleet's measurement, as in search.

On the KWOK test cluster no container ever runs: a scheduled trial pod is Running and ready, and
nothing serves it. Once it is ready the operator lets the trial's wall time pass (so that a
restart or a deletion can happen mid-trial, as with a real trial) and records what the simulated
fleet measures for the trial's configuration: the very :class:`FleetBackend` measurement that
``falcon search`` records, seeded with the search's ``spec.algorithm.seed``, so ``falcon search
--seed N`` and an operator search of seed N give the same numbers for the same configuration.
A configuration that does not fit the GPU's memory is labelled ``falcon.io/fault: oom`` at
creation, so the KWOK stage fails its pod as OOMKilled, as a real one would.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from falcon_operator.core.catalog import Catalog, load_catalog
from falcon_operator.core.numbers import slo_break
from falcon_operator.core.objective import Objective
from falcon_operator.core.records import FailureKind, Outcome, TrialRecord
from falcon_operator.core.space import Value
from falcon_operator.fleet.backend import FleetBackend, low_load
from falcon_operator.fleet.performance import FleetModel, Measurement, Workload
from falcon_operator.spec.model import BudgetSpec
from falcon_operator.trials.outcome import failed


@dataclass(frozen=True)
class SimulationSettings:
    """How simulated trials are run (operator settings)."""

    #: wall-clock seconds a simulated trial lasts once its pod is ready; None: the search
    #: budget's warm-up plus its measurement windows (what the trial runner would spend)
    trial_seconds: float | None = None


def simulated_record(
    config: Mapping[str, Value],
    m: Measurement,
    *,
    objective: Objective,
) -> TrialRecord:
    """The record of a trial that measured ``m``, priced and scored by the search's
    objective."""
    cost_per_hour = objective.cost_per_hour(config)
    if m.failure is FailureKind.OOM:
        return failed(config, FailureKind.OOM, f"the model does not fit: {m.reason}")
    if m.failure is not None:  # the SLO is out of reach: the p99 at low load says by how much
        return TrialRecord.failed(config, m.failure, m.reason, metrics=low_load(m, cost_per_hour))
    metrics = {k: v for k, v in m.metrics().items() if math.isfinite(v)}
    metrics["cost_per_hour"] = cost_per_hour
    if objective.slo_broken(m.p99_ms):
        reason = slo_break(m.p99_ms, objective.slo_p99_ms or 0.0)
        return TrialRecord.failed(config, FailureKind.SLO, reason, metrics=metrics)
    score = objective.score(rps=m.rps, p99_ms=m.p99_ms, cost_per_hour=cost_per_hour)
    return TrialRecord(dict(config), Outcome.OK, score, metrics=metrics)


class SimulatedFleet:
    """The simulated fleet of one search: its model's workload, SLO and measurement seed.

    ``observe_cpu`` is told the CPU seconds (this thread's) of every measurement, so that the
    operator can count the stand-in for Triton apart from its own work."""

    def __init__(
        self,
        workload: Workload,
        settings: SimulationSettings,
        *,
        objective: Objective | None = None,
        seed: int,
        catalog: Catalog | None = None,
        observe_cpu: Callable[[float], None] | None = None,
    ) -> None:
        self.settings = settings
        self.observe_cpu = observe_cpu
        with self._timed():
            self.backend = FleetBackend(
                workload, FleetModel(catalog or load_catalog()), objective=objective, seed=seed
            )

    @contextlib.contextmanager
    def _timed(self) -> Iterator[None]:
        t0 = time.thread_time()
        try:
            yield
        finally:
            if self.observe_cpu is not None:
                self.observe_cpu(max(time.thread_time() - t0, 0.0))

    def fault_for(self, config: Mapping[str, Value]) -> str | None:
        """``oom`` (the KWOK fault label) when the configuration's batch does not fit its GPU
        memory, as the simulated fleet measures it, else None."""
        with self._timed():
            failure = self.backend.measure(config, noisy=False).failure
        return FailureKind.OOM.value if failure is FailureKind.OOM else None

    def trial_seconds(self, budget: BudgetSpec) -> float:
        """Wall-clock seconds one trial of a search with ``budget`` lasts."""
        if self.settings.trial_seconds is not None:
            return self.settings.trial_seconds
        return budget.warmup_s + budget.windows * budget.measurement_s

    def record(self, config: Mapping[str, Value]) -> TrialRecord:
        """What the simulated fleet measures for ``config`` (``falcon search``'s measurement),
        judged by the search's objective."""
        with self._timed():
            measured = self.backend.measure(config)
        return simulated_record(config, measured, objective=self.backend.objective)
