"""Knowledge of the simulated fleet: what offline profiling of *other* models on it would teach.

The fleet's knowledge base is built like the paper's: source models (``fleet.models.SOURCES``)
are "profiled" on every configuration of the search space (the expected trial measurement, in
requests per second per dollar-hour, normalised by each table's best; cells that run out of
memory or break the SLO are missing), their operator time shares come from the ONNX analysis,
and the KOP resource curves come from each source operator run alone on the fleet.

``fleet_knowledge`` returns it for a given space and SLO; it is what ``falcon search`` starts
from. The benchmark (``bench/fleet.py``) writes the same data in the Falcon layout.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import onnx
from numpy.typing import NDArray

from falcon_operator import __version__
from falcon_operator.core.errors import KnowledgeError
from falcon_operator.core.knobs import BATCH, CPUS, GPU, GPU_MEMORY, POWER
from falcon_operator.core.space import Space
from falcon_operator.fleet.backend import FleetBackend
from falcon_operator.fleet.models import SOURCES, Builder
from falcon_operator.fleet.performance import FleetModel, OperatorLoad, Workload
from falcon_operator.fleet.workload import workload_from_onnx
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


@dataclass(frozen=True)
class ProfiledModel:
    """A model as offline profiling sees it: its fleet workload and operator time shares."""

    name: str
    workload: Workload
    shares: Mapping[str, float]


def profile_models(builders: Mapping[str, Builder]) -> list[ProfiledModel]:
    """Workload and operator shares of every builder's model (via a temporary ONNX file)."""
    out: list[ProfiledModel] = []
    with tempfile.TemporaryDirectory(prefix="falcon-fleet-") as tmp:
        for name, build in builders.items():
            path = Path(tmp) / f"{name}.onnx"
            onnx.save(build(), path)
            w, profile = workload_from_onnx(path)
            out.append(ProfiledModel(name, replace(w, name=name), profile.shares()))
    return out


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
    load: OperatorLoad, model: FleetModel, space: Space, pair: tuple[str, str, str]
) -> Curve:
    """The operator alone on the fleet over a knob pair (other knobs at their largest value),
    in requests per second per dollar-hour, min-max normalised."""
    name, knob1, knob2 = pair
    alone = Workload(load.operator, (load,), load.weight_bytes, load.bytes_per_sample)
    backend = FleetBackend(alone, model)
    base = {k.name: k.values[-1] for k in space.knobs}
    base.update({GPU_MEMORY: 0.0, GPU: space.knob(GPU).values[0]})  # no MPS limit
    cells = []
    for v1 in space.knob(knob1).values:
        for v2 in space.knob(knob2).values:
            m = backend.measure({**base, knob1: v1, knob2: v2}, noisy=False)
            cells.append((float(v1), v2, m.rps_per_dollar if m.feasible else 0.0))
    values = np.array([v for *_, v in cells])
    span = float(np.ptp(values)) or 1.0
    points = tuple((a, b, (v - values.min()) / span) for a, b, v in cells)
    return Curve(load.operator, name, knob1, knob2, points)  # type: ignore[arg-type]


def operator_curves(
    loads: Mapping[str, OperatorLoad], model: FleetModel, space: Space
) -> list[Curve]:
    """Every operator's curve over every knob pair the space has both knobs of."""
    names = set(space.names)
    pairs = [p for p in CURVE_PAIRS if {p[1], p[2]} <= names]
    return [operator_curve(load, model, space, pair) for pair in pairs for load in loads.values()]


def fleet_knowledge(
    model: FleetModel,
    space: Space,
    *,
    slo_p99_ms: float | None,
    sources: Sequence[ProfiledModel] | None = None,
    settings: KnowledgeSettings | None = None,
) -> Knowledge:
    """The knowledge base of ``sources`` (default: every model of ``fleet.models.SOURCES``)
    profiled on ``space`` under the SLO."""
    profiled = list(sources) if sources is not None else profile_models(SOURCES)
    tables = [
        measured_table(FleetBackend(p.workload, model, slo_p99_ms=slo_p99_ms), space, name=p.name)
        for p in profiled
    ]
    curves = operator_curves(operator_loads(p.workload for p in profiled), model, space)
    return build_knowledge(
        curves=curves,
        sources=tables,
        profiles={p.name: dict(p.shares) for p in profiled},
        settings=settings,
    )


#: knowledge bases read or built by this process, by cache file (read-only once built)
_LOADED: dict[Path, Knowledge] = {}


def cache_dir() -> Path:
    """Where built knowledge bases are kept: ``$FALCON_CACHE/knowledge`` (default
    ``~/.cache/falcon-operator/knowledge``), shared with the e2e tool cache."""
    root = os.environ.get("FALCON_CACHE") or str(Path.home() / ".cache" / "falcon-operator")
    return Path(root) / "knowledge"


def cached_fleet_knowledge(
    model: FleetModel, space: Space, *, slo_p99_ms: float | None, catalog_text: str
) -> tuple[Knowledge, bool]:
    """``fleet_knowledge`` for the default sources, from the cache when an identical one was
    built before (same catalog, space, SLO, model constants and package version).

    Returns the knowledge and whether it came from the cache. A cache that cannot be read or
    written is ignored (the knowledge is rebuilt), never an error.
    """
    key = json.dumps(
        {
            "version": __version__,
            "catalog": catalog_text,
            "settings": repr(model.settings),
            "knobs": [[k.name, [str(v) for v in k.values]] for k in space.knobs],
            "slo": slo_p99_ms,
            "sources": sorted(SOURCES),
        },
        sort_keys=True,
    )
    path = cache_dir() / f"fleet-{hashlib.sha256(key.encode()).hexdigest()[:16]}.kb.json.gz"
    if path in _LOADED:  # every search of an operator with the same space: one read
        return _LOADED[path], True
    if path.is_file():
        try:
            _LOADED[path] = Knowledge.load(path)
            return _LOADED[path], True
        except (KnowledgeError, OSError, ValueError):
            pass  # a stale or damaged cache entry: rebuild it
    kb = fleet_knowledge(model, space, slo_p99_ms=slo_p99_ms)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        kb.save(tmp)
        os.replace(tmp, path)  # atomic: a concurrent reader never sees half a file
        _LOADED[path] = kb
    except OSError:
        tmp.unlink(missing_ok=True)
    return kb, False
