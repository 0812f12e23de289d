"""The knowledge base artifact: built from sources only, round-trips, refuses foreign files."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from falcon_operator.core.errors import KnowledgeError
from falcon_operator.knowledge.base import Knowledge, KnowledgeSettings
from falcon_operator.knowledge.dataset import FalconDataset, default_data_dir
from falcon_operator.knowledge.prior import Prior


@pytest.fixture(scope="module")
def kb() -> Knowledge:
    return FalconDataset(default_data_dir()).knowledge()


def test_targets_never_enter_the_knowledge(kb: Knowledge) -> None:
    targets = {t.name for t in FalconDataset(default_data_dir()).tables("targets")}
    assert len(kb.sources) == 18
    assert not targets & set(kb.sources)


def test_round_trip(kb: Knowledge, tmp_path: Path) -> None:
    back = Knowledge.load(kb.save(tmp_path / "kb.json.gz"))
    assert back.space == kb.space
    assert set(back.sources) == set(kb.sources)
    for name, values in kb.sources.items():
        np.testing.assert_array_equal(back.sources[name], values)
    assert [c.to_dict() for c in back.curves] == [c.to_dict() for c in kb.curves]
    assert back.pruned == kb.pruned
    assert back.settings == kb.settings


def test_settings_are_checked() -> None:
    with pytest.raises(KnowledgeError, match="kop_threshold"):
        KnowledgeSettings(kop_threshold=0.0)
    with pytest.raises(KnowledgeError, match="pca_cutoff"):
        KnowledgeSettings(pca_cutoff=1.5)


def test_table_prior_is_the_source_mean(kb: Knowledge) -> None:
    assert kb.space is not None
    prior = Prior(kb, kb.space, {"conv2d": 0.9, "relu": 0.1})
    idx = np.arange(kb.space.size)
    expected = np.mean([kb.sources[n] for n in sorted(kb.sources)], axis=0)
    np.testing.assert_allclose(prior.mean(idx), expected)
    assert prior.kind == "source-tables"
    assert prior.kops == ["conv2d"]  # 0.9 already covers kop_threshold 0.8


def test_curve_prior_handles_unseen_operators(kb: Knowledge) -> None:
    from falcon_operator.bench.latency import large_space

    space = large_space()
    prior = Prior(kb, space, {"conv2d": 0.6, "fancy_new_op": 0.4}, kop_threshold=1.0)
    assert prior.kind == "kop-curves"
    assert prior.unseen == ["fancy_new_op"]
    values = prior.mean(np.arange(0, space.size, 997))
    assert np.all(np.isfinite(values)) and values.std() > 0
    only_unseen = Prior(kb, space, {"fancy_new_op": 1.0})
    assert np.all(np.isfinite(only_unseen.mean(np.arange(0, space.size, 997))))


def test_curve_prior_is_scored_by_the_objective_at_known_prices(kb: Knowledge) -> None:
    from falcon_operator.core.catalog import load_catalog
    from falcon_operator.core.objective import Objective
    from falcon_operator.fleet.backend import fleet_space

    space = fleet_space(load_catalog(), gpus=["T4", "A100"])
    idx = np.arange(0, space.size, 37)
    objective = Objective.of(load_catalog())
    cost = objective.cost_function(space)(idx)
    plain = Prior(kb, space, {"conv2d": 1.0})
    priced = Prior(kb, space, {"conv2d": 1.0}, objective=objective)
    assert priced.kind == "kop-curves"
    np.testing.assert_allclose(priced.mean(idx), plain.mean(idx) / cost)


def test_fleet_cost_function_is_the_objectives_price_of_each_configuration() -> None:
    from falcon_operator.core.catalog import load_catalog
    from falcon_operator.fleet.backend import FleetBackend, fleet_space
    from falcon_operator.fleet.performance import FleetModel, synthetic_workload

    model = FleetModel(load_catalog())
    space = fleet_space(model.catalog, gpus=["T4", "A100"])
    w = synthetic_workload("w", {"dense": (1.0, 10.0)}, weight_mb=1, activation_mb_per_sample=1)
    backend = FleetBackend(w, model)
    cost = backend.cost_function(space)
    idx = np.arange(0, space.size, 37)
    c = model.catalog
    expected = [
        c.slice(str(x["gputype"])).hour + float(x["cpus"]) * c.cpu_core_hour + 4 * c.memory_gib_hour
        for x in map(space.config_at, map(int, idx))
    ]
    np.testing.assert_allclose(cost(idx), expected)
    run = backend.run(space.config_at(int(idx[3])), noisy=False)
    assert run.metrics["cost_per_hour"] == pytest.approx(expected[3])


def test_targets_can_be_read_in_the_knowledge_space(tmp_path: Path) -> None:
    """A target whose table lacks every row of one knob value is still searched over the
    sources' whole space (the missing cells are infeasible, not out of the space)."""

    def write(kind: str, name: str, batches: tuple[int, ...]) -> None:
        path = tmp_path / "models" / kind / f"reg-{name}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(["batchsize", "cpus", "objective"])
            out.writerows((b, c, 0.1 * b + c) for b in batches for c in (1, 2))

    write("sources", "a", (1, 2, 4))
    write("targets", "t", (1, 2))  # batch 4 never ran
    ds = FalconDataset(tmp_path)
    kb = ds.knowledge()
    (own,) = ds.tables("targets")
    (aligned,) = ds.tables("targets", space=kb.space)
    assert own.space.size == 4 and aligned.space == kb.space and aligned.space.size == 6
    assert np.isnan(aligned.values).sum() == 2
