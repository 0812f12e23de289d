"""The objective of a search: what a configuration costs, how a trial scores, what breaks the SLO.

One :class:`Objective` is used by the judge (a trial's score), the simulated fleet, the fleet's
knowledge builder (its source tables and curves) and the priors (``scores`` over a space), so a
metric, a price override or an SLO means the same to all of them. Metrics (docs/prices.md):

- ``RequestsPerSecondPerDollar``: ``rps / cost_per_hour``.
- ``CostAtTargetThroughput``: the cheapest fleet that serves ``target_rps`` under the SLO:
  ``replicas = ceil(target_rps / rps)``, score ``1 / (replicas × cost_per_hour)``, so higher
  is still better and every strategy still maximises; ``1 / score`` is the fleet's $/h.

A trial whose p99 breaks the SLO is failed by the judge and has no score.
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from falcon_operator.core.catalog import Catalog
from falcon_operator.core.errors import SpecError
from falcon_operator.core.knobs import CPUS, GPU
from falcon_operator.core.prices import PriceOverrides, PriceTable, price_table
from falcon_operator.core.space import Space, Value

CostFunction = Callable[[NDArray[np.int64]], NDArray[np.float64]]

#: host memory a serving pod reserves when the search does not say (the CRD's default)
DEFAULT_HOST_MEMORY_GIB = 4.0


class Metric(enum.StrEnum):
    """What a search maximises (``spec.objective.metric``)."""

    RPS_PER_DOLLAR = "RequestsPerSecondPerDollar"
    COST_AT_TARGET = "CostAtTargetThroughput"


METRICS: tuple[str, ...] = tuple(m.value for m in Metric)


@dataclass(frozen=True)
class Objective:
    """A search's metric, prices, latency objective and throughput target."""

    metric: Metric
    prices: PriceTable
    slo_p99_ms: float | None = None
    target_rps: float | None = None  #: required by (and only by) CostAtTargetThroughput
    host_memory_gib: float = DEFAULT_HOST_MEMORY_GIB

    def __post_init__(self) -> None:
        at_target = self.metric is Metric.COST_AT_TARGET
        if at_target and (self.target_rps is None or not self.target_rps > 0):
            raise SpecError(
                "spec.objective.targetRequestsPerSecond: required (> 0) by metric "
                f"{Metric.COST_AT_TARGET}"
            )
        if not at_target and self.target_rps is not None:
            raise SpecError(
                "spec.objective.targetRequestsPerSecond: only metric "
                f"{Metric.COST_AT_TARGET} uses it, not {self.metric}"
            )

    @classmethod
    def of(
        cls,
        catalog: Catalog,
        *,
        metric: Metric | str = Metric.RPS_PER_DOLLAR,
        prices: PriceOverrides | None = None,
        slo_p99_ms: float | None = None,
        target_rps: float | None = None,
        host_memory_gib: float = DEFAULT_HOST_MEMORY_GIB,
    ) -> Objective:
        """The objective at the catalog's prices with ``prices`` overriding them."""
        if metric not in METRICS:
            raise SpecError(f"spec.objective.metric must be one of {list(METRICS)}, got {metric!r}")
        return cls(
            Metric(metric), price_table(catalog, prices), slo_p99_ms, target_rps, host_memory_gib
        )

    # -- cost ------------------------------------------------------------------------------
    def cost_per_hour(self, config: Mapping[str, Value]) -> float:
        """$/h of one replica of ``config``."""
        return self.prices.cost(config, self.host_memory_gib)

    def cost_function(self, space: Space) -> CostFunction:
        """Vectorised $/h over ``space``'s indices (price depends on gputype and cpus only)."""
        gpus, cpus = space.knob(GPU).values, space.knob(CPUS).values
        grid = np.array([[self.cost_per_hour({GPU: g, CPUS: c}) for c in cpus] for g in gpus])
        j_gpu, j_cpu = space.names.index(GPU), space.names.index(CPUS)

        def cost(idx: NDArray[np.int64]) -> NDArray[np.float64]:
            codes = space.codes(idx)
            return np.asarray(grid[codes[:, j_gpu], codes[:, j_cpu]], dtype=float)

        return cost

    # -- score -----------------------------------------------------------------------------
    def slo_broken(self, p99_ms: float) -> bool:
        """Whether a measured p99 breaks the SLO (an unknown p99 breaks any SLO)."""
        return self.slo_p99_ms is not None and not p99_ms <= self.slo_p99_ms

    def replicas(self, rps: float) -> int:
        """Replicas of a configuration serving ``rps`` each that the target needs (1 without
        a target; 0 when the configuration serves nothing)."""
        if rps <= 0:
            return 0
        if self.target_rps is None:
            return 1
        return max(math.ceil(self.target_rps / rps - 1e-9), 1)

    def deployment_replicas(self, rps: float, *, otherwise: int) -> int:
        """Replicas of the recommended Deployment of a configuration serving ``rps`` each: those
        the throughput target needs (at least 1), or ``otherwise`` without a target."""
        return max(self.replicas(rps), 1) if self.target_rps is not None else otherwise

    def score(self, *, rps: float, p99_ms: float, cost_per_hour: float) -> float:
        """The trial's objective value (higher is better; 0 when it serves nothing or breaks
        the SLO)."""
        if rps <= 0 or cost_per_hour <= 0 or self.slo_broken(p99_ms):
            return 0.0
        if self.metric is Metric.COST_AT_TARGET:
            return 1.0 / (self.replicas(rps) * cost_per_hour)
        return rps / cost_per_hour

    def scores(self, rps: NDArray[np.float64], cost: NDArray[np.float64]) -> NDArray[np.float64]:
        """Vectorised score of predicted throughputs (for priors and curves, whose throughput
        may be in relative units): replicas are fractional (``target / rps``) here, so for
        CostAtTargetThroughput this is ``rps / (target × cost)``, the score's upper bound."""
        cost = np.maximum(np.asarray(cost, dtype=float), 1e-9)
        if self.metric is Metric.COST_AT_TARGET and self.target_rps is not None:
            return np.asarray(rps / (self.target_rps * cost), dtype=float)
        return np.asarray(rps / cost, dtype=float)

    # -- wording ---------------------------------------------------------------------------
    @property
    def unit(self) -> str:
        """The short column title of a score as shown (see :meth:`shown`)."""
        return "rps/$" if self.metric is Metric.RPS_PER_DOLLAR else "fleet$/h"

    def shown(self, score: float) -> float:
        """The number a person reads for ``score``: rps per $/h, or the target fleet's $/h."""
        if self.metric is Metric.RPS_PER_DOLLAR:
            return score
        return 1.0 / score if score > 0 else math.inf

    def describe(self, score: float, *, rps: float) -> str:
        """``score`` in words, e.g. ``1991.5 rps/$`` or ``3 × 0.594 $/h = 1.782 $/h for
        2500 rps``."""
        if self.metric is Metric.RPS_PER_DOLLAR:
            return f"{score:.1f} rps/$"
        n = self.replicas(rps)
        fleet = self.shown(score)
        return f"{n} × {fleet / max(n, 1):.3f} $/h = {fleet:.3f} $/h for {self.target_rps:g} rps"

    def cache_key(self) -> str:
        """Everything that changes a score, as canonical JSON (metric, target, SLO, prices)."""
        return json.dumps(
            {
                "metric": str(self.metric),
                "target_rps": self.target_rps,
                "slo_p99_ms": self.slo_p99_ms,
                "host_memory_gib": self.host_memory_gib,
                "prices": self.prices.describe(),
            },
            sort_keys=True,
        )
