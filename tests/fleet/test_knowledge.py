"""Knowledge of the simulated fleet: source models profiled on a space, cached on disk."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

from falcon_operator.analysis import zoo
from falcon_operator.core.catalog import load_catalog
from falcon_operator.core.objective import Objective
from falcon_operator.fleet.backend import FleetBackend, fleet_space
from falcon_operator.fleet.knowledge import (
    cache_dir,
    fleet_knowledge,
    measured_table,
    operator_loads,
    profile_models,
)
from falcon_operator.fleet.performance import FleetModel

CATALOG = load_catalog()
SPACE = fleet_space(CATALOG, gpus=["T4", "V100"], mig=False, batches=(1, 8, 64))


@pytest.fixture(scope="module")
def profiled():  # type: ignore[no-untyped-def]
    return profile_models(
        {"cnn": lambda: zoo.resnet_cnn(width=16, image=32), "rec": zoo.mlp_recommender}
    )


def test_fleet_knowledge_has_tables_profiles_and_curves(profiled) -> None:  # type: ignore[no-untyped-def]
    objective = Objective.of(CATALOG, slo_p99_ms=10.0)
    kb = fleet_knowledge(FleetModel(CATALOG), SPACE, objective=objective, sources=profiled)
    assert kb.space == SPACE and sorted(kb.sources) == ["cnn", "rec"]
    for values in kb.sources.values():
        assert np.nanmax(values) == pytest.approx(1.0)  # normalised by the table's best
    assert kb.profiles["cnn"]["conv2d"] > 0.2
    assert {"conv2d", "dense"} <= set(kb.operators)
    pairs = {c.pair for c in kb.curves_of("conv2d")}
    assert pairs <= {"batchsize-GPU", "CPUcores-GPU", "CPUcores-power", "CPUcores-GPUmem"}


def test_measured_table_marks_what_cannot_run(profiled) -> None:  # type: ignore[no-untyped-def]
    objective = Objective.of(CATALOG, slo_p99_ms=2.0)
    backend = FleetBackend(profiled[0].workload, FleetModel(CATALOG), objective=objective)
    table = measured_table(backend, SPACE, name="cnn")
    missing = np.isnan(table.values)
    assert missing.any() and not missing.all()  # a 2 ms SLO rules some configurations out
    for i in np.flatnonzero(missing)[:5]:
        assert not backend.run(SPACE.config_at(int(i)), noisy=False).ok


def test_operator_loads_average_over_models(profiled) -> None:  # type: ignore[no-untyped-def]
    loads = operator_loads(p.workload for p in profiled)
    dense = [op for p in profiled for op in p.workload.operators if op.operator == "dense"]
    assert loads["dense"].flops_per_sample == pytest.approx(
        np.mean([d.flops_per_sample for d in dense])
    )


def test_cache_dir_follows_falcon_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FALCON_CACHE", str(tmp_path))
    assert cache_dir() == tmp_path / "knowledge"


def test_the_cache_is_keyed_on_objective_prices_catalog_slo_and_space(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An identical search reuses the knowledge; a change of any input rebuilds it."""
    import dataclasses

    from falcon_operator.core.prices import PriceOverrides
    from falcon_operator.fleet import knowledge as fk
    from falcon_operator.knowledge.base import build_knowledge

    monkeypatch.setenv("FALCON_CACHE", str(tmp_path))
    monkeypatch.setattr(fk, "_LOADED", OrderedDict())
    built: list[str] = []

    def fake(model: FleetModel, space, *, objective: Objective):  # type: ignore[no-untyped-def]
        built.append(objective.cache_key())
        return build_knowledge(profiles={"m": {"conv2d": 1.0}})

    monkeypatch.setattr(fk, "fleet_knowledge", fake)
    base = Objective.of(CATALOG, slo_p99_ms=50.0)
    model = FleetModel(CATALOG)
    faster = dataclasses.replace(CATALOG.gpus["T4"], fp32_tflops=99.0)
    changes = {
        "metric": (model, SPACE, Objective.of(CATALOG, slo_p99_ms=50.0,
                                              metric="CostAtTargetThroughput", target_rps=500)),
        "target": (model, SPACE, Objective.of(CATALOG, slo_p99_ms=50.0,
                                              metric="CostAtTargetThroughput", target_rps=900)),
        "prices": (model, SPACE, Objective.of(CATALOG, slo_p99_ms=50.0,
                                              prices=PriceOverrides({"V100": 0.01}))),
        "slo": (model, SPACE, Objective.of(CATALOG, slo_p99_ms=20.0)),
        "catalog": (FleetModel(dataclasses.replace(CATALOG, gpus={**CATALOG.gpus, "T4": faster})),
                    SPACE, base),
        "space": (model, fleet_space(CATALOG, gpus=["T4"], mig=False, batches=(1, 8)), base),
    }  # fmt: skip
    _, cached = fk.cached_fleet_knowledge(model, SPACE, objective=base)
    assert not cached and len(built) == 1
    for what, (m, space, objective) in changes.items():
        _, cached = fk.cached_fleet_knowledge(m, space, objective=objective)
        assert not cached, what
    assert len(built) == 1 + len(changes)
    fk._LOADED.clear()  # a new process: read from disk
    again = Objective.of(load_catalog(), slo_p99_ms=50.0)
    _, cached = fk.cached_fleet_knowledge(FleetModel(load_catalog()), SPACE, objective=again)
    assert cached and len(built) == 1 + len(changes)
    assert len(list((tmp_path / "knowledge").glob("fleet-*.kb.json.gz"))) == 1 + len(changes)


def test_only_the_most_recently_used_knowledge_bases_stay_in_memory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from falcon_operator.fleet import knowledge as fk

    monkeypatch.setattr(fk, "_LOADED", OrderedDict())
    monkeypatch.setattr(fk, "LOADED_MAX", 2)
    kbs = [object() for _ in range(3)]
    for i, kb in enumerate(kbs):
        fk._keep(tmp_path / f"{i}.kb", kb)  # type: ignore[arg-type]
    assert list(fk._LOADED) == [tmp_path / "1.kb", tmp_path / "2.kb"]  # the oldest dropped
    fk._keep(tmp_path / "1.kb", kbs[1])  # used again: now the newest
    fk._keep(tmp_path / "3.kb", kbs[0])  # type: ignore[arg-type]
    assert list(fk._LOADED) == [tmp_path / "1.kb", tmp_path / "3.kb"]
