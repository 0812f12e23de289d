"""Knowledge of the simulated fleet: source models profiled on a space, cached on disk."""

from __future__ import annotations

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
