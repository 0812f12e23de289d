"""The fleet benchmark's data: Falcon-layout tables generated from the simulated fleet.

``write_fleet_dataset`` builds every source and target model of :mod:`.fleet_models`, derives its
fleet workload and operator profile from the ONNX graph, and writes a directory that
:class:`~falcon_operator.knowledge.dataset.FalconDataset` reads unchanged:

    models/sources/reg-<model>.csv            rps per dollar-hour of every *feasible* cell over
    models/targets/reg-<model>.csv            the table's best (rows of out-of-memory or
                                              SLO-breaking cells are absent: the table oracle
                                              answers them infeasible)
    models/model-operator/<model>/operators.csv   operator shares from the analysis (percent)
    operators/<pair>/<op>-<k1>-<k2>-time.csv  KOP-RCs: each source operator alone on the fleet,
                                              rps per dollar-hour, min-max normalised
    fleet.json                                what was generated (space, SLO, counts)

Tables are noise-free (the expected measurement), so a target's optimum is well defined.
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import onnx

from falcon_operator.bench.fleet_models import SOURCES, TARGETS, Builder
from falcon_operator.fleet.backend import FleetBackend, fleet_space
from falcon_operator.fleet.catalog import Catalog
from falcon_operator.fleet.performance import FleetModel, OperatorLoad, Workload
from falcon_operator.fleet.workload import workload_from_onnx
from falcon_operator.search.space import Space

#: curve files: (pair folder, knob1, knob2) -> the curves loader's knob names
CURVE_PAIRS = (
    ("batchsize-GPU", "batchsize", "gputype"),
    ("CPUcores-GPU", "cpus", "gputype"),
    ("CPUcores-power", "cpus", "gpupower"),
    ("CPUcores-GPUmem", "cpus", "gpumem"),
)


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


def fleet_workloads(
    builders: Mapping[str, Builder],
) -> dict[str, tuple[Workload, dict[str, float]]]:
    """Workload and operator shares of every builder's model (via a temporary ONNX file)."""
    out: dict[str, tuple[Workload, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="falcon-fleet-") as tmp:
        for name, build in builders.items():
            path = Path(tmp) / f"{name}.onnx"
            onnx.save(build(), path)
            workload, profile = workload_from_onnx(path)
            out[name] = (Workload(name, *_fields(workload)), profile.shares())
    return out


def _fields(w: Workload) -> tuple[Sequence[OperatorLoad], float, float, float]:
    return w.operators, w.weight_bytes, w.activation_bytes_per_sample, w.cpu_seconds_per_request


def table_values(backend: FleetBackend, space: Space) -> np.ndarray:
    """rps per dollar-hour of every configuration, NaN where the trial is infeasible or fails."""
    values = np.full(space.size, np.nan)
    for i in range(space.size):
        record = backend.run(space.config_at(i), noisy=False)
        if record.ok and record.objective is not None:
            values[i] = record.objective
    return values


def write_table(path: Path, space: Space, values: np.ndarray) -> int:
    """Write the feasible rows of ``values`` in the Falcon layout; returns the row count.

    As in the paper's tables the objective is normalised by the table's best cell (so sources of
    very different throughput weigh alike in the knowledge base).
    """
    values = values / np.nanmax(values)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow([*space.names, "norm.(rps/budget)"])
        for i in np.flatnonzero(~np.isnan(values)):
            cfg = space.config_at(int(i))
            out.writerow([*(cfg[n] for n in space.names), f"{values[i]:.6g}"])
            rows += 1
    return rows


def operator_loads(workloads: Sequence[Workload]) -> dict[str, OperatorLoad]:
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


def curve_rows(
    load: OperatorLoad, model: FleetModel, space: Space, knob1: str, knob2: str
) -> list[tuple[object, object, float]]:
    """The operator alone on the fleet over (knob1, knob2), other knobs at their largest value."""
    alone = Workload(load.operator, (load,), load.weight_bytes, load.bytes_per_sample)
    backend = FleetBackend(alone, model)
    base = {k.name: k.values[-1] for k in space.knobs if k.kind == "ordinal"}
    base["gpumem"] = 0.0  # no MPS limit
    base["gputype"] = space.knob("gputype").values[0]
    cells: list[tuple[object, object, float]] = []
    for v1 in space.knob(knob1).values:
        for v2 in space.knob(knob2).values:
            m = backend.measure({**base, knob1: v1, knob2: v2}, noisy=False)
            cells.append((v1, v2, m.rps_per_dollar if m.feasible else 0.0))
    top, low = max(c[2] for c in cells), min(c[2] for c in cells)
    span = (top - low) or 1.0
    return [(a, b, (v - low) / span) for a, b, v in cells]


def write_curves(
    root: Path, loads: Mapping[str, OperatorLoad], model: FleetModel, space: Space
) -> int:
    n = 0
    for folder, k1, k2 in CURVE_PAIRS:
        for op, load in loads.items():
            path = root / "operators" / folder / f"{op}-{k1}-{k2}-time.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", newline="") as fh:
                csv.writer(fh).writerows(
                    (a, b, f"{v:.6g}") for a, b, v in curve_rows(load, model, space, k1, k2)
                )
            n += 1
    return n


def write_shares(path: Path, shares: Mapping[str, float]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["op_name", "running time percentage"])
        out.writerows((op, f"{100 * s:.4f}") for op, s in shares.items())


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
    space = fleet_space(catalog, mig=st.mig)
    made: list[FleetModelData] = []
    for kind, builders in (("sources", sources), ("targets", targets)):
        for name, (workload, shares) in fleet_workloads(builders).items():
            backend = FleetBackend(workload, model, slo_p99_ms=st.slo_p99_ms)
            rows = write_table(root / "models" / kind / f"reg-{name}.csv", space,
                               table_values(backend, space))  # fmt: skip
            write_shares(root / "models" / "model-operator" / name / "operators.csv", shares)
            made.append(FleetModelData(name, kind, workload, shares, rows, space.size))
    loads = operator_loads([m.workload for m in made if m.kind == "sources"])
    curves = write_curves(root, loads, model, space)
    summary = {
        "settings": asdict(st),
        "space_size": space.size,
        "knobs": {k.name: list(k.values) for k in space.knobs},
        "curves": curves,
        "models": {m.name: {"kind": m.kind, "feasible": m.feasible} for m in made},
    }
    (root / "fleet.json").write_text(json.dumps(summary, indent=2) + "\n")
    return made
