"""Parallel suggestions are conditioned on pending trials: a Kriging believer plus twins.

On the fleet benchmark's space with ``maxParallelTrials`` 4, no two configurations of one batch
(nor a pick and a pending trial) differ only in the MPS memory limit or the power cap, the knobs
the fleet's model says barely matter; and n = 1 without pending trials is unchanged.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from falcon_operator.bench.fleet import fleet_objective, write_fleet_dataset
from falcon_operator.core.catalog import load_catalog
from falcon_operator.core.records import FailureKind, Outcome, TrialRecord
from falcon_operator.core.space import Config, Space
from falcon_operator.knowledge.base import Knowledge
from falcon_operator.knowledge.dataset import FalconDataset
from falcon_operator.knowledge.tables import Table
from falcon_operator.search.falcon import FalconStrategy
from falcon_operator.search.falcon_settings import FalconSettings
from falcon_operator.search.twins import knob_line, twins

MINOR = {"gpumem", "gpupower"}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> tuple[FalconDataset, Knowledge]:
    root: Path = tmp_path_factory.mktemp("fleet")
    write_fleet_dataset(root, load_catalog())
    ds = FalconDataset(root)
    return ds, ds.knowledge()


def _falcon(
    ds: FalconDataset, kb: Knowledge, target: Table, tolerance: float | None = 0.1
) -> FalconStrategy:
    return FalconStrategy(
        target.space,
        kb,
        profile=ds.profile(target.name),
        objective=fleet_objective(load_catalog()),
        settings=FalconSettings(twin_tolerance=tolerance),
    )


def _record(target: Table, config: Config) -> TrialRecord:
    value = float(target.values[target.space.index_of(config)])
    if math.isfinite(value) and value > 0:
        return TrialRecord(config, Outcome.OK, value)
    return TrialRecord.failed(config, FailureKind.OOM, "did not run")


def _differ_only_in_minor(space: Space, a: Config, b: Config) -> bool:
    return {k for k in space.names if a[k] != b[k]} <= MINOR


def _minor_twins(space: Space, configs: list[Config]) -> list[tuple[Config, Config]]:
    return [
        (a, b)
        for i, a in enumerate(configs)
        for b in configs[i + 1 :]
        if _differ_only_in_minor(space, a, b)
    ]


def test_batches_of_four_hold_no_minor_knob_twins(fleet: tuple[FalconDataset, Knowledge]) -> None:
    ds, kb = fleet
    targets = ds.tables("targets", space=kb.space)
    assert len(targets) >= 5
    for target in targets:
        falcon = _falcon(ds, kb, target)
        history: list[TrialRecord] = []
        for _ in range(3):
            batch = falcon.suggest(history, 4)
            assert len(batch) == 4
            assert _minor_twins(target.space, batch) == [], target.name
            history += [_record(target, c) for c in batch]


def test_without_twins_the_believer_alone_repeats_a_configuration(
    fleet: tuple[FalconDataset, Knowledge],
) -> None:
    ds, kb = fleet
    target = ds.tables("targets", space=kb.space)[0]
    batch = _falcon(ds, kb, target, tolerance=None).suggest([], 4)
    assert _minor_twins(target.space, batch)  # the failure the twins remove


def test_a_pending_trial_conditions_a_single_suggestion(
    fleet: tuple[FalconDataset, Knowledge],
) -> None:
    ds, kb = fleet
    target = ds.tables("targets", space=kb.space)[0]
    falcon = _falcon(ds, kb, target)
    (first,) = falcon.suggest([])
    (second,) = falcon.suggest([], pending=[first])
    assert second != first and not _differ_only_in_minor(target.space, first, second)
    assert falcon.suggest([]) == [first]  # no pending trials: the single best pick as before


def test_twins_differ_only_in_values_the_model_calls_indifferent() -> None:
    from falcon_operator.core.space import Knob

    space = Space((Knob("a", (1, 2, 3)), Knob("b", (1, 2)), Knob("c", (0, 1, 2, 3))))
    # the objective depends on a only; c = 3 breaks feasibility in the sources
    values = np.array([float(space.config_at(i)["a"]) for i in range(space.size)])
    ran = np.array([0.0 if space.config_at(i)["c"] == 3 else 1.0 for i in range(space.size)])

    def predict(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[type-arg]
        return values[idx], ran[idx]

    p = space.index_of({"a": 2, "b": 1, "c": 0})
    assert list(knob_line(space, p, 2)) == [
        space.index_of({"a": 2, "b": 1, "c": c}) for c in (0, 1, 2, 3)
    ]
    got = {tuple(space.config_at(i).values()) for i in twins(space, p, predict, tolerance=0.01)}
    assert got == {(2, b, c) for b in (1, 2) for c in (0, 1, 2)} - {(2, 1, 0)}
