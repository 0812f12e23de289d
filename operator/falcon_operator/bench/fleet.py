"""The fleet benchmark's data: Falcon-layout tables generated from the simulated fleet.

``write_fleet_dataset`` profiles every source and target model of
:mod:`falcon_operator.fleet.models` (see :mod:`falcon_operator.fleet.knowledge`) and writes a
directory that
:class:`~falcon_operator.knowledge.dataset.FalconDataset` reads unchanged:

    models/sources/reg-<model>.csv            rps per dollar-hour of every *feasible* cell over
    models/targets/reg-<model>.csv            the table's best (rows of out-of-memory or
                                              SLO-breaking cells are absent: the table oracle
                                              answers them infeasible)
    models/model-operator/<model>/operators.csv   operator shares from the analysis (percent)
    operators/<pair>/<op>-<k1>-<k2>-time.csv  KOP-RCs: each source operator alone on the fleet,
                                              throughput over its best cell (ratios are
                                              time ratios: knowledge/compose.py)
    fleet.json                                what was generated (space, SLO, counts)

Tables are noise-free (the expected measurement), so a target's optimum is well defined.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from falcon_operator.core.catalog import Catalog
from falcon_operator.core.objective import Objective
from falcon_operator.fleet.backend import FleetBackend, fleet_space
from falcon_operator.fleet.knowledge import (
    measured_table,
    operator_curves,
    operator_loads,
    profile_models,
)
from falcon_operator.fleet.models import SOURCES, TARGETS, Builder
from falcon_operator.fleet.performance import FleetModel, Workload
from falcon_operator.knowledge.curves import Curve
from falcon_operator.knowledge.tables import Table


@dataclass(frozen=True)
class FleetBenchSettings:
    """What the fleet benchmark generates (documented in docs/fleet.md)."""

    #: p99 latency objective every model is served under, in ms
    slo_p99_ms: float = 100.0
    #: include MIG slices of A100/H100 in the space
    mig: bool = True


@dataclass(frozen=True)
class FleetModelData:
    name: str
    kind: str  #: "sources" or "targets"
    workload: Workload
    shares: Mapping[str, float]
    feasible: int  #: configurations that run (fit in memory and meet the SLO)
    space_size: int


def write_table(path: Path, table: Table) -> int:
    """Write the rows of ``table`` that ran, in the Falcon layout; returns the row count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = np.flatnonzero(~np.isnan(table.values))
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow([*table.space.names, table.objective_name])
        for i in rows:
            cfg = table.space.config_at(int(i))
            out.writerow([*(cfg[n] for n in table.space.names), f"{table.values[i]:.6g}"])
    return int(rows.size)


def write_curve(root: Path, curve: Curve) -> None:
    """``operators/<pair>/<op>-<knob1>-<knob2>-time.csv`` (no header; GPUs by label)."""
    path = (
        root / "operators" / curve.pair / f"{curve.operator}-{curve.knob1}-{curve.knob2}-time.csv"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows((f"{a:g}", b, f"{v:.6g}") for a, b, v in curve.points)


def write_shares(path: Path, shares: Mapping[str, float]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["op_name", "running time percentage"])
        out.writerows((op, f"{100 * s:.4f}") for op, s in shares.items())


def fleet_objective(catalog: Catalog, settings: FleetBenchSettings | None = None) -> Objective:
    """The objective the benchmark's tables are scored by: rps/$ at the catalog's prices under
    the benchmark's p99 SLO (strategies get it too, so a curve prior is priced alike)."""
    return Objective.of(catalog, slo_p99_ms=(settings or FleetBenchSettings()).slo_p99_ms)


def write_fleet_dataset(
    root: Path,
    catalog: Catalog,
    *,
    settings: FleetBenchSettings | None = None,
    sources: Mapping[str, Builder] = SOURCES,
    targets: Mapping[str, Builder] = TARGETS,
) -> list[FleetModelData]:
    """Generate the benchmark directory at ``root`` (see the module docstring)."""
    st = settings or FleetBenchSettings()
    model = FleetModel(catalog)
    objective = fleet_objective(catalog, st)
    space = fleet_space(catalog, mig=st.mig)
    made: list[FleetModelData] = []
    for kind, builders in (("sources", sources), ("targets", targets)):
        for p in profile_models(builders):
            backend = FleetBackend(p.workload, model, objective=objective)
            table = measured_table(backend, space, name=p.name)
            rows = write_table(root / "models" / kind / f"reg-{p.name}.csv", table)
            write_shares(root / "models" / "model-operator" / p.name / "operators.csv", p.shares)
            made.append(FleetModelData(p.name, kind, p.workload, p.shares, rows, space.size))
    loads = operator_loads(m.workload for m in made if m.kind == "sources")
    curves = operator_curves(loads, model, space)
    for curve in curves:
        write_curve(root, curve)
    summary = {
        "settings": asdict(st),
        "space_size": space.size,
        "knobs": {k.name: list(k.values) for k in space.knobs},
        "curves": len(curves),
        "models": {m.name: {"kind": m.kind, "feasible": m.feasible} for m in made},
    }
    (root / "fleet.json").write_text(json.dumps(summary, indent=2) + "\n")
    return made
