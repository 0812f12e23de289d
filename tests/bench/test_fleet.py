"""The fleet benchmark's generated data: Falcon-layout tables, profiles and KOP curves that the
ordinary dataset reader loads, with infeasible cells absent and objectives normalised."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx.checker
import pytest

from falcon_operator.analysis import zoo
from falcon_operator.bench.fleet import FleetBenchSettings, write_fleet_dataset
from falcon_operator.core.catalog import load_catalog
from falcon_operator.core.objective import Objective
from falcon_operator.fleet import models as fleet_models
from falcon_operator.fleet.backend import FleetBackend, fleet_space
from falcon_operator.fleet.performance import FleetModel
from falcon_operator.knowledge.dataset import FalconDataset

SOURCES = {
    "cnn": lambda: zoo.resnet_cnn(width=16, image=32),
    "rec": lambda: zoo.mlp_recommender(),
}
TARGETS = {"audio": lambda: fleet_models.conv1d_audio(samples=4000, width=16)}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:  # type: ignore[type-arg]
    root = tmp_path_factory.mktemp("fleet")
    settings = FleetBenchSettings(slo_p99_ms=20.0, mig=False)
    made = write_fleet_dataset(
        root, load_catalog(), settings=settings, sources=SOURCES, targets=TARGETS
    )
    return root, made


def test_layout_is_read_by_the_dataset_reader(generated: tuple[Path, list]) -> None:  # type: ignore[type-arg]
    root, made = generated
    ds = FalconDataset(root)
    kb = ds.knowledge()
    assert sorted(kb.sources) == ["cnn", "rec"]
    target = ds.tables("targets", space=kb.space)[0]
    assert target.name == "audio" and target.space == kb.space
    assert kb.space is not None and kb.space.size == made[0].space_size
    assert np.nanmax(target.values) == pytest.approx(1.0, rel=1e-5)  # normalised to the best
    assert ds.profile("audio")["conv1d"] > 0.1
    assert sum(ds.profile("cnn").values()) == pytest.approx(1.0)
    # KOP curves of the sources' operators over GPU labels of the fleet
    ops = {c.operator for c in kb.curves}
    assert {"conv2d", "dense"} <= ops
    assert any(isinstance(c.knob2_levels[0], str) for c in kb.curves)
    summary = json.loads((root / "fleet.json").read_text())
    assert summary["models"]["audio"]["kind"] == "targets"


def test_infeasible_cells_are_absent_and_feasible_ones_match_the_fleet(
    generated: tuple[Path, list],  # type: ignore[type-arg]
) -> None:
    root, made = generated
    ds = FalconDataset(root)
    catalog = load_catalog()
    space = fleet_space(catalog, mig=False)
    target = ds.tables("targets", space=space)[0]
    audio = next(m for m in made if m.name == "audio")
    objective = Objective.of(catalog, slo_p99_ms=20.0)
    backend = FleetBackend(audio.workload, FleetModel(catalog), objective=objective)
    truth = np.array(
        [
            r.objective if (r := backend.run(space.config_at(i), noisy=False)).ok else np.nan
            for i in range(space.size)
        ],
        dtype=float,
    )
    assert np.array_equal(np.isnan(truth), np.isnan(target.values))
    assert 0 < audio.feasible < space.size  # the SLO makes part of the space infeasible
    ok = ~np.isnan(truth)
    ratio = target.values[ok] / truth[ok]
    assert np.allclose(ratio, ratio[0], rtol=1e-4)  # the same cells, scaled by the best


@pytest.mark.parametrize("name", sorted(fleet_models.TARGETS))
def test_held_out_models_are_valid_onnx_of_new_architectures(name: str) -> None:
    model = fleet_models.TARGETS[name]()
    onnx.checker.check_model(model)
    assert name not in fleet_models.SOURCES
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"
