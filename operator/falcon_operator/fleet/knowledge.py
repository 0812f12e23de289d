"""Knowledge of the simulated fleet: what offline profiling of *other* models on it would teach.

The fleet's knowledge base is built like the paper's: source models (``fleet.models.SOURCES``)
are "profiled" on every configuration of the search space (the expected trial score under the
search's objective — its metric, prices and SLO — normalised by each table's best; cells that
run out of memory or break the SLO are missing), their operator time shares come from the ONNX
analysis, and the KOP resource curves come from each source operator run alone on the fleet.

``fleet_knowledge`` returns it for a given space and objective; it is what ``falcon search`` and
the operator start from. The benchmark (``bench/fleet.py``) writes the same data in the Falcon
layout.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from falcon_operator import __version__
from falcon_operator.core.catalog import Catalog
from falcon_operator.core.errors import KnowledgeError
from falcon_operator.core.knobs import BATCH, CPUS, GPU, GPU_MEMORY, POWER
from falcon_operator.core.objective import Objective
from falcon_operator.core.space import Space
from falcon_operator.fleet.backend import FleetBackend
from falcon_operator.fleet.models import SOURCES
from falcon_operator.fleet.performance import FleetModel, OperatorLoad, Workload
from falcon_operator.fleet.profiles import ProfiledModel as ProfiledModel
from falcon_operator.fleet.profiles import profile_models as profile_models
from falcon_operator.fleet.profiles import shipped_source_profiles
from falcon_operator.knowledge.base import Knowledge, KnowledgeSettings, build_knowledge
from falcon_operator.knowledge.curves import Curve
from falcon_operator.knowledge.tables import Table

Array = NDArray[np.float64]

#: KOP-RC knob pairs generated for every operator: (pair name, knob1, knob2)
CURVE_PAIRS = (
    ("batchsize-GPU", BATCH, GPU),
    ("CPUcores-GPU", CPUS, GPU),
    ("CPUcores-power", CPUS, POWER),
    ("CPUcores-GPUmem", CPUS, GPU_MEMORY),
)


def measured_table(backend: FleetBackend, space: Space, *, name: str) -> Table:
    """The expected objective of every configuration over the best one; NaN where it can't run."""
    values = np.full(space.size, np.nan)
    for i in range(space.size):
        record = backend.run(space.config_at(i), noisy=False)
        if record.ok and record.objective is not None:
            values[i] = record.objective
    if np.all(np.isnan(values)):
        return Table(name, space, values, "norm.(rps/budget)")
    return Table(name, space, values / np.nanmax(values), "norm.(rps/budget)")


def operator_loads(workloads: Iterable[Workload]) -> dict[str, OperatorLoad]:
    """One representative load per operator type: the mean over the workloads that have it."""
    by_op: dict[str, list[OperatorLoad]] = {}
    for w in workloads:
        for op in w.operators:
            by_op.setdefault(op.operator, []).append(op)

    def mean(loads: list[OperatorLoad], attr: str) -> float:
        return float(np.mean([getattr(x, attr) for x in loads]))

    return {
        op: OperatorLoad(
            op,
            mean(loads, "flops_per_sample"),
            mean(loads, "bytes_per_sample"),
            mean(loads, "weight_bytes"),
            max(1, round(mean(loads, "kernels"))),
        )
        for op, loads in sorted(by_op.items())
    }


def operator_curve(
    load: OperatorLoad,
    model: FleetModel,
    space: Space,
    pair: tuple[str, str, str],
    *,
    objective: Objective | None = None,
) -> Curve:
    """The operator alone on the fleet over a knob pair (other knobs at their largest value):
    its throughput over its best cell, in (0, 1]; cells where it cannot run (out of memory
    under an MPS limit) are left out, and the curve interpolates there.

    Throughput relative to the best cell, not min-max normalised and not priced, so that a ratio
    of two cells is the ratio of the operator's times there and curves compose into a model's
    time (knowledge/compose.py); the price is applied once, to the composed model."""
    name, knob1, knob2 = pair
    alone = Workload(load.operator, (load,), load.weight_bytes, load.bytes_per_sample)
    objective = dataclasses.replace(objective or Objective.of(model.catalog), slo_p99_ms=None)
    backend = FleetBackend(alone, model, objective=objective)
    base = {k.name: k.values[-1] for k in space.knobs}
    base.update({GPU_MEMORY: 0.0, GPU: space.knob(GPU).values[0]})  # no MPS limit
    cells = [(v1, v2) for v1 in space.knob(knob1).values for v2 in space.knob(knob2).values]
    configs = [{**base, knob1: v1, knob2: v2} for v1, v2 in cells]
    measured = [backend.measure(c, noisy=False) for c in configs]
    rps = np.array([m.rps if m.feasible else 0.0 for m in measured])
    best = float(rps.max()) or 1.0
    ran = rps > 0 if (rps > 0).any() else np.ones(rps.size, dtype=bool)
    points = tuple(  # a cell where the operator cannot run says nothing about its time
        (float(v1), v2, float(v) / best)
        for (v1, v2), v, ok in zip(cells, rps, ran, strict=True)
        if ok
    )
    return Curve(load.operator, name, knob1, knob2, points)  # type: ignore[arg-type]


def operator_curves(
    loads: Mapping[str, OperatorLoad],
    model: FleetModel,
    space: Space,
    *,
    objective: Objective | None = None,
) -> list[Curve]:
    """Every operator's curve over every knob pair the space has both knobs of."""
    names = set(space.names)
    pairs = [p for p in CURVE_PAIRS if {p[1], p[2]} <= names]
    return [
        operator_curve(load, model, space, pair, objective=objective)
        for pair in pairs
        for load in loads.values()
    ]


def fleet_knowledge(
    model: FleetModel,
    space: Space,
    *,
    objective: Objective,
    sources: Sequence[ProfiledModel] | None = None,
    settings: KnowledgeSettings | None = None,
) -> Knowledge:
    """The knowledge base of ``sources`` (default: every model of ``fleet.models.SOURCES``)
    profiled on ``space`` and scored by ``objective`` (metric, prices, SLO)."""
    profiled = list(sources) if sources is not None else shipped_source_profiles()
    tables = [
        measured_table(FleetBackend(p.workload, model, objective=objective), space, name=p.name)
        for p in profiled
    ]
    loads = operator_loads(p.workload for p in profiled)
    curves = operator_curves(loads, model, space, objective=objective)
    return build_knowledge(
        curves=curves,
        sources=tables,
        profiles={p.name: dict(p.shares) for p in profiled},
        settings=settings,
    )


#: knowledge bases read or built by this process, by cache file (read-only once built)
_LOADED: OrderedDict[Path, Knowledge] = OrderedDict()
#: knowledge bases kept in memory (most recently used): an operator whose searches use many
#: different spaces keeps only these, and reads the others back from the disk cache
LOADED_MAX = 8


def _keep(path: Path, kb: Knowledge) -> Knowledge:
    _LOADED[path] = kb
    _LOADED.move_to_end(path)
    while len(_LOADED) > LOADED_MAX:
        _LOADED.popitem(last=False)
    return kb


def cache_dir() -> Path:
    """Where built knowledge bases are kept: ``$FALCON_CACHE/knowledge`` (default
    ``~/.cache/falcon-operator/knowledge``), shared with the e2e tool cache."""
    root = os.environ.get("FALCON_CACHE") or str(Path.home() / ".cache" / "falcon-operator")
    return Path(root) / "knowledge"


def catalog_key(catalog: Catalog) -> str:
    """Every figure of the catalog (GPU peaks, memory, MIG profiles, prices) as canonical JSON."""
    return json.dumps(dataclasses.asdict(catalog), sort_keys=True, default=str)


def knowledge_key(model: FleetModel, space: Space, objective: Objective) -> str:
    """What a fleet knowledge base depends on: objective (metric, target, prices, SLO), the
    catalog, the space, the performance model's constants, the sources and the package."""
    return json.dumps(
        {
            "version": __version__,
            "objective": objective.cache_key(),
            "catalog": catalog_key(model.catalog),
            "settings": repr(model.settings),
            "space": space.describe(),
            "sources": sorted(SOURCES),
            "curves": "relative-throughput",  # operator_curve's normalisation
        },
        sort_keys=True,
        default=str,
    )


def cached_fleet_knowledge(
    model: FleetModel, space: Space, *, objective: Objective
) -> tuple[Knowledge, bool]:
    """``fleet_knowledge`` for the default sources, from the cache when an identical one was
    built before (same objective, prices, catalog, SLO, space, model constants and package
    version: :func:`knowledge_key`).

    Returns the knowledge and whether it came from the cache. A cache that cannot be read or
    written is ignored (the knowledge is rebuilt), never an error.
    """
    key = knowledge_key(model, space, objective)
    path = cache_dir() / f"fleet-{hashlib.sha256(key.encode()).hexdigest()[:16]}.kb.json.gz"
    if path in _LOADED:  # every search of an operator with the same space: one read
        return _keep(path, _LOADED[path]), True
    if path.is_file():
        try:
            return _keep(path, Knowledge.load(path)), True
        except (KnowledgeError, OSError, ValueError):
            pass  # a stale or damaged cache entry: rebuild it
    kb = fleet_knowledge(model, space, objective=objective)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        kb.save(tmp)
        os.replace(tmp, path)  # atomic: a concurrent reader never sees half a file
        _keep(path, kb)
    except OSError:
        tmp.unlink(missing_ok=True)
    return kb, False
