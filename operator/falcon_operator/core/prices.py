"""Prices of a configuration: overrides (a search's, or its ConfigMap's) over the catalog's.

A MIG slice costs its share of the whole GPU (compute sevenths, as the catalog prices slices);
a configuration costs its GPU (or slice) + cores × cpuCoreHour + host memory × memoryGiBHour.
This is the one cost formula: the judge, the simulated fleet, the knowledge builder and the
priors all price configurations through :class:`PriceTable` (via ``core.objective``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from falcon_operator.core.catalog import Catalog
from falcon_operator.core.errors import SpecError
from falcon_operator.core.knobs import CPUS, GPU
from falcon_operator.core.space import Value


@dataclass(frozen=True)
class PriceOverrides:
    """Prices given by a search (or its prices ConfigMap); the rest comes from the catalog."""

    gpu_hour: Mapping[str, float] = field(default_factory=dict)
    cpu_core_hour: float | None = None
    memory_gib_hour: float | None = None


@dataclass(frozen=True)
class PriceTable:
    """Dollars per hour of every priced resource, over the catalog that names the GPUs."""

    catalog: Catalog
    gpu_hour: Mapping[str, float]  #: per whole GPU, by type
    cpu_core_hour: float
    memory_gib_hour: float

    def slice_hour(self, label: str) -> float:
        """$/h of a GPU (``T4``) or MIG slice (``H100/1g.10gb``)."""
        sl = self.catalog.slice(label)
        return self.gpu_hour[sl.gpu.name] * sl.compute_fraction

    def cost(self, config: Mapping[str, Value], host_memory_gib: float) -> float:
        """$/h of one configuration (its ``gputype`` and ``cpus``) with that much host memory."""
        return (
            self.slice_hour(str(config[GPU]))
            + float(config[CPUS]) * self.cpu_core_hour
            + host_memory_gib * self.memory_gib_hour
        )

    def describe(self) -> dict[str, object]:
        """Every price, as plain data (for cache keys and reports)."""
        return {
            "gpu_hour": {k: self.gpu_hour[k] for k in sorted(self.gpu_hour)},
            "cpu_core_hour": self.cpu_core_hour,
            "memory_gib_hour": self.memory_gib_hour,
        }


def price_table(catalog: Catalog, overrides: PriceOverrides | None = None) -> PriceTable:
    """Overrides on top of the catalog; a price for a GPU the catalog lacks is a SpecError."""
    o = overrides or PriceOverrides()
    unknown = sorted(set(o.gpu_hour) - set(catalog.gpus))
    if unknown:
        raise SpecError(
            f"spec.objective.prices.gpuHour: unknown GPU types {unknown}; "
            f"the catalog has {sorted(catalog.gpus)}"
        )
    return PriceTable(
        catalog=catalog,
        gpu_hour={name: o.gpu_hour.get(name, gpu.hour) for name, gpu in catalog.gpus.items()},
        cpu_core_hour=catalog.cpu_core_hour if o.cpu_core_hour is None else o.cpu_core_hour,
        memory_gib_hour=catalog.memory_gib_hour if o.memory_gib_hour is None else o.memory_gib_hour,
    )
