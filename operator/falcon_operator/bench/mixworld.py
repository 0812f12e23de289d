"""The ``mix`` benchmark world: seeded sources, a held-out target set and per-search scenarios.

Sources (:data:`~falcon_operator.bench.mixmodels.SOURCE_FAMILY`) and held-out targets
(:data:`~falcon_operator.bench.mixmodels.TARGET_FAMILY`) are drawn by one seeded generator.
The held-out rule: target candidates are drawn in order and a candidate is kept when its
profile's L1 distance to the nearest source profile is at least ``min_distance`` and at least
one configuration runs in its scenario; the first ``n_targets`` kept are the targets. Target
``i`` is searched under scenario ``i mod 3`` (:data:`SCENARIOS`: SLO and price catalog).

Each scenario gets its own Falcon-layout directory (``bench/fleet.py`` layout): every source
profiled under that scenario's objective (as fleet/knowledge keys the knowledge by objective),
the scenario's targets, and the KOP curves priced by the scenario. Tables are noise-free; the
benchmark's oracle adds the measurement noise (bench/noisy.py). docs/mix-world.md documents
every constant.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from falcon_operator.bench.fleet import write_curve, write_shares, write_table
from falcon_operator.bench.mixmodels import (
    SOURCE_FAMILY,
    TARGET_FAMILY,
    MixModel,
    draw_model,
    mix_workload,
    profile_distance,
    reference_shares,
)
from falcon_operator.core.catalog import Catalog
from falcon_operator.core.objective import Objective
from falcon_operator.core.prices import PriceOverrides
from falcon_operator.core.space import Space
from falcon_operator.fleet.backend import FleetBackend, fleet_space
from falcon_operator.fleet.knowledge import measured_table, operator_curves, operator_loads
from falcon_operator.fleet.performance import FleetModel, Workload

#: spot price as a share of the on-demand price, per GPU type (illustrative: older and
#: smaller GPUs are discounted less than the large data-centre ones)
SPOT_SHARE: Mapping[str, float] = {
    "M60": 0.70, "K80": 0.70, "T4": 0.45, "V100": 0.30,
    "A10G": 0.35, "L4": 0.40, "A100": 0.30, "H100": 0.45,
}  # fmt: skip


@dataclass(frozen=True)
class Scenario:
    """One search's objective: its p99 SLO and its price catalog."""

    name: str
    slo_p99_ms: float
    spot: bool  #: spot prices (SPOT_SHARE of on-demand) instead of the shipped on-demand ones

    def objective(self, catalog: Catalog) -> Objective:
        prices = None
        if self.spot:
            hours = {g: gpu.hour * SPOT_SHARE.get(g, 1.0) for g, gpu in catalog.gpus.items()}
            prices = PriceOverrides(gpu_hour=hours)
        return Objective.of(catalog, slo_p99_ms=self.slo_p99_ms, prices=prices)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("tight-ondemand", 15.0, spot=False),
    Scenario("medium-spot", 60.0, spot=True),
    Scenario("loose-ondemand", 250.0, spot=False),
)


@dataclass(frozen=True)
class MixSettings:
    """What the generator draws (fixed before any tuning; docs/mix-world.md)."""

    seed: int = 14
    n_sources: int = 12
    n_targets: int = 9
    #: the held-out rule: profile L1 distance to the nearest source
    min_distance: float = 0.8
    max_candidates: int = 400
    scenarios: tuple[Scenario, ...] = field(default=SCENARIOS)


@dataclass(frozen=True)
class MixEntry:
    """A generated model with its workload, profile and (targets) scenario."""

    model: MixModel
    workload: Workload
    shares: Mapping[str, float]
    scenario: str = ""  #: "" for a source (profiled in every scenario)
    distance: float = 0.0  #: profile L1 distance to the nearest source


def _name(prefix: str, i: int, shares: Mapping[str, float]) -> str:
    return f"{prefix}{i:02d}-{next(iter(shares)).lower()}"


def mix_space(catalog: Catalog) -> Space:
    """The world's search space: the fleet space of the catalog with MIG slices (6,912
    configurations for the shipped catalog)."""
    return fleet_space(catalog, mig=True)


def generate(
    catalog: Catalog, settings: MixSettings | None = None, *, space: Space | None = None
) -> list[MixEntry]:
    """The world's sources, then its held-out targets (deterministic given the settings)."""
    st = settings or MixSettings()
    model = FleetModel(catalog)
    rng = np.random.default_rng(st.seed)
    sources: list[MixEntry] = []
    for i in range(st.n_sources):
        m = draw_model(f"src{i:02d}", SOURCE_FAMILY, rng)
        w = mix_workload(m, model)
        shares = reference_shares(w, model)
        name = _name("src", i, shares)
        sources.append(MixEntry(replace(m, name=name), _renamed(w, name), shares))
    targets: list[MixEntry] = []
    space = space or mix_space(catalog)
    for _ in range(st.max_candidates):
        if len(targets) == st.n_targets:
            break
        m = draw_model("candidate", TARGET_FAMILY, rng)
        w = mix_workload(m, model)
        shares = reference_shares(w, model)
        distance = min(profile_distance(shares, s.shares) for s in sources)
        scenario = st.scenarios[len(targets) % len(st.scenarios)]
        if distance < st.min_distance:
            continue
        backend = FleetBackend(w, model, objective=scenario.objective(catalog))
        if np.all(np.isnan(measured_table(backend, space, name="candidate").values)):
            continue  # nothing runs in its scenario
        name = _name("tgt", len(targets), shares)
        entry = MixEntry(replace(m, name=name), _renamed(w, name), shares, scenario.name,
                         distance)  # fmt: skip
        targets.append(entry)
    return sources + targets


def _renamed(w: Workload, name: str) -> Workload:
    return Workload(name, w.operators, w.weight_bytes, w.activation_bytes_per_sample,
                    w.cpu_seconds_per_request)  # fmt: skip


def write_mix_dataset(
    root: Path, catalog: Catalog, *, settings: MixSettings | None = None, space: Space | None = None
) -> dict[str, list[MixEntry]]:
    """Write one Falcon-layout directory per scenario under ``root``; returns what each holds.

    Read its tables in ``space`` (``FalconDataset.tables(..., space=...)``): a table lacks the
    rows of configurations that do not run, so its own inferred space may miss knob values.
    """
    st = settings or MixSettings()
    model = FleetModel(catalog)
    space = space or mix_space(catalog)
    entries = generate(catalog, st, space=space)
    sources = [e for e in entries if not e.scenario]
    written: dict[str, list[MixEntry]] = {}
    for scenario in st.scenarios:
        objective = scenario.objective(catalog)
        here = root / scenario.name
        mine = sources + [e for e in entries if e.scenario == scenario.name]
        for e in mine:
            kind = "targets" if e.scenario else "sources"
            backend = FleetBackend(e.workload, model, objective=objective)
            table = measured_table(backend, space, name=e.model.name)
            write_table(here / "models" / kind / f"reg-{e.model.name}.csv", table)
            write_shares(here / "models" / "model-operator" / e.model.name / "operators.csv",
                         e.shares)  # fmt: skip
        loads = operator_loads(e.workload for e in sources)
        for curve in operator_curves(loads, model, space, objective=objective):
            write_curve(here, curve)
        written[scenario.name] = mine
    summary = {
        "settings": asdict(st),
        "space_size": space.size,
        "models": {
            e.model.name: {**asdict(e.model), "scenario": e.scenario,
                           "distance": round(e.distance, 3), "shares": dict(e.shares)}
            for e in entries
        },
    }  # fmt: skip
    (root / "mix.json").write_text(json.dumps(summary, indent=2) + "\n")
    return written
