"""Prices of a configuration: the spec's (or its ConfigMap's) over the shipped catalog's.

A MIG slice costs its share of the whole GPU (compute sevenths, as the catalog prices slices);
a configuration costs its GPU (or slice) + cores × cpuCoreHour + host memory × memoryGiBHour.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import yaml
from numpy.typing import NDArray

from falcon_operator.core.catalog import Catalog
from falcon_operator.core.errors import SpecError
from falcon_operator.core.space import Space, Value
from falcon_operator.spec.model import PriceOverrides
from falcon_operator.spec.parse import parse_prices

CostFunction = Callable[[NDArray[np.int64]], NDArray[np.float64]]


@dataclass(frozen=True)
class PriceTable:
    """Dollars per hour of every priced resource."""

    gpu_hour: Mapping[str, float]  #: per whole GPU, by type
    cpu_core_hour: float
    memory_gib_hour: float

    def slice_hour(self, label: str, catalog: Catalog) -> float:
        """$/h of a GPU (``T4``) or MIG slice (``H100/1g.10gb``)."""
        sl = catalog.slice(label)
        return self.gpu_hour[sl.gpu.name] * sl.compute_fraction

    def cost(self, config: Mapping[str, Value], catalog: Catalog, host_memory_gib: float) -> float:
        """$/h of one configuration."""
        return (
            self.slice_hour(str(config["gputype"]), catalog)
            + float(config["cpus"]) * self.cpu_core_hour
            + host_memory_gib * self.memory_gib_hour
        )


def price_table(overrides: PriceOverrides | None, catalog: Catalog) -> PriceTable:
    """Overrides on top of the catalog; a price for a GPU the catalog lacks is an error."""
    o = overrides or PriceOverrides()
    unknown = sorted(set(o.gpu_hour) - set(catalog.gpus))
    if unknown:
        raise SpecError(
            f"spec.objective.prices.gpuHour: unknown GPU types {unknown}; "
            f"the catalog has {sorted(catalog.gpus)}"
        )
    return PriceTable(
        gpu_hour={name: o.gpu_hour.get(name, gpu.hour) for name, gpu in catalog.gpus.items()},
        cpu_core_hour=catalog.cpu_core_hour if o.cpu_core_hour is None else o.cpu_core_hour,
        memory_gib_hour=catalog.memory_gib_hour if o.memory_gib_hour is None else o.memory_gib_hour,
    )


def prices_from_document(text: str, *, where: str) -> PriceOverrides:
    """Prices from a ConfigMap value: YAML (or JSON) with gpuHour, cpuCoreHour, memoryGiBHour."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError(f"{where}: not YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(doc, Mapping):
        raise SpecError(f"{where}: expected a mapping with gpuHour, cpuCoreHour, memoryGiBHour")
    return parse_prices(doc, where)


def cost_function(
    space: Space, table: PriceTable, catalog: Catalog, host_memory_gib: float
) -> CostFunction:
    """Vectorised $/h over space indices, for strategies that divide a throughput prior by it."""
    gpus = space.knob("gputype").values
    cpus = space.knob("cpus").values
    grid = np.array(
        [
            [table.cost({"gputype": g, "cpus": c}, catalog, host_memory_gib) for c in cpus]
            for g in gpus
        ]
    )
    j_gpu, j_cpu = space.names.index("gputype"), space.names.index("cpus")

    def cost(idx: NDArray[np.int64]) -> NDArray[np.float64]:
        codes = space.codes(idx)
        return np.asarray(grid[codes[:, j_gpu], codes[:, j_cpu]], dtype=float)

    return cost
