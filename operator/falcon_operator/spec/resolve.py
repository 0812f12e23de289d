"""A parsed spec resolved against the GPU catalog: GPU choices, the search space, the objective.

Knobs are the registry's (:mod:`falcon_operator.core.knobs`), the space comes from its one
builder; MIG slices are GPU labels such as ``H100/1g.10gb``. A per-GPU ``mpsMemoryGB`` list
becomes a constraint of the space.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from falcon_operator.core.catalog import Catalog
from falcon_operator.core.errors import DataError, SpecError
from falcon_operator.core.knobs import CPUS, GPU, GPU_MEMORY, build_space
from falcon_operator.core.objective import Objective
from falcon_operator.core.prices import PriceOverrides
from falcon_operator.core.space import Space, Value
from falcon_operator.spec.constants import GPU_RESOURCE, MIG_RESOURCE_PREFIX, PRODUCT_LABEL
from falcon_operator.spec.model import SearchSpaceSpec, SearchSpec


@dataclass(frozen=True)
class GpuChoice:
    """One value of the ``gputype`` knob: a whole GPU or a MIG slice, and how to get it."""

    label: str  #: "T4" or "H100/1g.10gb"
    gpu: str
    profile: str  #: MIG profile, "" for the whole GPU
    node_selector: Mapping[str, str]
    memory_limits: tuple[float, ...]  #: allowed gpumem values

    @property
    def resource(self) -> str:
        """The extended resource a trial pod asks one of."""
        return f"{MIG_RESOURCE_PREFIX}{self.profile}" if self.profile else GPU_RESOURCE


@dataclass(frozen=True)
class ResolvedSearch:
    """Everything the controller derives from a spec before the first trial."""

    spec: SearchSpec
    catalog: Catalog
    choices: Mapping[str, GpuChoice]
    space: Space
    objective: Objective  #: metric, prices (overrides over the catalog), SLO, target

    def choice(self, config: Mapping[str, Value]) -> GpuChoice:
        return self.choices[str(config[GPU])]


def gpu_choices(space: SearchSpaceSpec, catalog: Catalog) -> dict[str, GpuChoice]:
    """The ``gputype`` values, in spec order (whole GPU first, then its slices)."""
    out: dict[str, GpuChoice] = {}
    for i, option in enumerate(space.gpus):
        path = f"spec.searchSpace.gpus[{i}]"
        if option.type not in catalog.gpus:
            raise SpecError(
                f"{path}.type: unknown GPU type {option.type!r}; "
                f"the catalog has {sorted(catalog.gpus)}"
            )
        gpu = catalog.gpus[option.type]
        selector = dict(option.node_selector or {PRODUCT_LABEL: gpu.product})
        limits = option.mps_memory_gb or space.gpu_memory_gb
        labels = ([""] if option.whole_gpu else []) + list(option.mig_profiles)
        for profile in labels:
            label = f"{gpu.name}/{profile}" if profile else gpu.name
            try:
                catalog.slice(label)
            except DataError as exc:
                raise SpecError(f"{path}.migProfiles: {exc}") from None
            out[label] = GpuChoice(label, gpu.name, profile, selector, tuple(limits))
    return out


def search_space(space: SearchSpaceSpec, choices: Mapping[str, GpuChoice]) -> Space:
    """The configuration space of the spec."""
    memory = sorted({m for c in choices.values() for m in c.memory_limits})
    constrained = any(set(c.memory_limits) != set(memory) for c in choices.values())

    def memory_allowed(config: Mapping[str, Value]) -> bool:
        return float(config[GPU_MEMORY]) in choices[str(config[GPU])].memory_limits

    values = space.knob_values() | {GPU: tuple(choices), GPU_MEMORY: tuple(memory)}
    return build_space(values, constraints=(memory_allowed,) if constrained else ())


def resolve(
    spec: SearchSpec, catalog: Catalog, *, prices: PriceOverrides | None = None
) -> ResolvedSearch:
    """Resolve ``spec``; ``prices`` (from a prices ConfigMap) replace ``spec.objective.prices``."""
    choices = gpu_choices(spec.search_space, catalog)
    o = spec.objective
    space = search_space(spec.search_space, choices)
    objective = Objective.of(
        catalog,
        metric=o.metric,
        prices=prices or o.prices,
        slo_p99_ms=o.slo_p99_ms,
        target_rps=o.target_rps,
        host_memory_gib=spec.search_space.host_memory_gib,
    )
    # the cheapest configuration of a GPU has its fewest cores
    fewest = min(space.knob(CPUS).values)
    free = [
        str(g)
        for g in space.knob(GPU).values
        if objective.cost_per_hour({GPU: g, CPUS: fewest}) <= 0
    ]
    if free:
        raise SpecError(
            f"spec.objective.prices: configurations on {free} would cost nothing per hour (the "
            f"GPU, core and memory prices are all 0), so requests per second per dollar is "
            f"undefined; give the GPU, the cores or the memory a price"
        )
    return ResolvedSearch(
        spec=spec, catalog=catalog, choices=choices, space=space, objective=objective
    )
