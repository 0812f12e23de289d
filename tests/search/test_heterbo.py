"""``heterbo``: each heuristic rule on a tiny space, the strategy's start, its use of the
target's failures and of prices, and its determinism."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pytest

from falcon_operator.backends.table import TableOracle
from falcon_operator.core.catalog import load_catalog
from falcon_operator.core.objective import Objective
from falcon_operator.core.prices import PriceOverrides
from falcon_operator.core.records import FailureKind, TrialRecord
from falcon_operator.core.space import Knob, Space, Value
from falcon_operator.knowledge.base import Knowledge, build_knowledge
from falcon_operator.knowledge.tables import Table
from falcon_operator.search.heterbo import HeterBOStrategy
from falcon_operator.search.heterbo_rules import (
    additive_prior,
    exploration_cost,
    harder_than_failure,
    has_weak_value,
    knob_effects,
    value_best,
)
from falcon_operator.search.registry import make_strategy
from falcon_operator.search.strategy import search_state

SPACE = Space(
    (
        Knob("batchsize", (4, 8, 16)),
        Knob("cpus", (1, 2)),
        Knob("gputype", ("T4", "A100"), "categorical"),
    )
)
IDX = SPACE.all_indices()
Config = Mapping[str, Value]


def _values(f: Callable[[Config], float]) -> np.ndarray:  # type: ignore[type-arg]
    return np.array([f(SPACE.config_at(int(i))) for i in IDX], dtype=float)


def _additive(c: Config) -> float:
    """Best at batch 16 on A100 with 2 CPUs; every effect adds."""
    batch = {4: 0.0, 8: 1.0, 16: 2.0}[int(c["batchsize"])]
    return 1.0 + batch + 0.2 * (c["cpus"] == 2) + 1.0 * (c["gputype"] == "A100")


def _sources() -> tuple[np.ndarray, np.ndarray]:  # type: ignore[type-arg]
    a = _values(_additive)
    # b: 10x the units, and it cannot run batch 16 on T4 (NaN cells)
    b = _values(lambda c: np.nan if c["batchsize"] == 16 and c["gputype"] == "T4" else
                10 * _additive(c))  # fmt: skip
    return a, b


def _knowledge() -> Knowledge:
    a, b = _sources()
    return build_knowledge(curves=[], sources=[Table("a", SPACE, a), Table("b", SPACE, b)])


def _config(batch: int, cpus: int, gpu: str) -> dict[str, Value]:
    return {"batchsize": batch, "cpus": cpus, "gputype": gpu}


def test_knob_effects_are_the_mean_normalised_runs_at_each_value() -> None:
    a, b = _sources()
    rows = np.vstack([np.nan_to_num(a), np.nan_to_num(b)])
    ran = (~np.isnan(np.vstack([a, b]))).astype(float)
    grand, effects = knob_effects(SPACE, IDX, rows, ran)
    norm = [a / np.nanmax(a), b / np.nanmax(b)]
    runs = [(SPACE.config_at(int(i)), n[i]) for n in norm for i in IDX if not np.isnan(n[i])]
    assert grand == pytest.approx(np.mean([v for _, v in runs]))
    for j, knob in enumerate(SPACE.knobs):
        for code, value in enumerate(knob.values):
            at = [v for c, v in runs if c[knob.name] == value]
            assert effects[j][code] == pytest.approx(np.mean(at))


def test_an_additive_source_is_its_own_additive_prior() -> None:
    a = _values(_additive)
    grand, effects = knob_effects(SPACE, IDX, a[None, :], np.ones((1, IDX.size)))
    assert np.allclose(additive_prior(SPACE, grand, effects, IDX), a / a.max())


def test_a_value_no_source_did_well_with_is_weak() -> None:
    # of each source's best (4.2), batch 4 reaches 2.2 (0.52), T4 and batch 8 3.2 (0.76)
    a, b = _sources()
    rows = np.vstack([np.nan_to_num(a), np.nan_to_num(b)])
    ran = (~np.isnan(np.vstack([a, b]))).astype(float)
    weak = has_weak_value(SPACE, value_best(SPACE, IDX, rows, ran), IDX, level=0.6)
    batch4 = np.array([SPACE.config_at(int(i))["batchsize"] == 4 for i in IDX])
    assert np.array_equal(weak, batch4)


def test_a_failure_rules_out_larger_batches_with_fewer_resources_on_its_gpu() -> None:
    bad = np.array([SPACE.index_of(_config(8, 2, "T4"))], dtype=np.int64)
    out = harder_than_failure(SPACE, IDX, bad)
    ruled = {SPACE.key(SPACE.config_at(int(i))) for i in IDX[out]}
    assert ruled == {(8, 2, "T4"), (16, 2, "T4"), (8, 1, "T4"), (16, 1, "T4")}


def test_no_mps_limit_is_the_most_gpu_memory() -> None:
    space = Space((Knob("batchsize", (1, 8)), Knob("gpumem", (0.0, 2.0, 4.0))))
    idx = space.all_indices()
    bad = np.array([space.index_of({"batchsize": 1, "gpumem": 0.0})], dtype=np.int64)
    ruled = {space.key(space.config_at(int(i))) for i in idx[harder_than_failure(space, idx, bad)]}
    assert ruled == {(b, m) for b in (1, 8) for m in (0.0, 2.0, 4.0)}
    bad = np.array([space.index_of({"batchsize": 8, "gpumem": 2.0})], dtype=np.int64)
    ruled = {space.key(space.config_at(int(i))) for i in idx[harder_than_failure(space, idx, bad)]}
    assert ruled == {(8, 2.0)}


def test_exploration_cost_is_the_price_relative_to_the_cheapest() -> None:
    objective = Objective.of(load_catalog())
    cost = exploration_cost(SPACE, objective, IDX)
    price = np.array([objective.cost_per_hour(SPACE.config_at(int(i))) for i in IDX])
    assert np.allclose(cost, price / price.min()) and cost.min() == pytest.approx(1.0)
    assert np.array_equal(exploration_cost(SPACE, None, IDX), np.ones(IDX.size))


def test_the_first_trial_is_the_priors_best() -> None:
    strategy = make_strategy("heterbo", SPACE, _knowledge(), seed=3)
    assert isinstance(strategy, HeterBOStrategy)
    assert strategy.suggest([]) == [_config(16, 2, "A100")]


def test_a_failed_trial_postpones_what_it_rules_out() -> None:
    # batch 4 with the A100's 2 CPUs failed: every A100 configuration asks at least as much
    # with at most those resources, and the search leaves the A100 the prior prefers
    strategy = make_strategy("heterbo", SPACE, _knowledge(), seed=3)
    assert isinstance(strategy, HeterBOStrategy)
    failed = TrialRecord.failed(_config(4, 2, "A100"), FailureKind.OOM, "out of memory")
    state = search_state(SPACE, [failed], [])
    late = {SPACE.key(SPACE.config_at(int(i))) for i in IDX[strategy.postponed(state, IDX)]}
    assert late >= {(b, c, "A100") for b in (4, 8, 16) for c in (1, 2)}
    (pick,) = strategy.suggest([failed])
    assert pick["gputype"] == "T4" and pick["batchsize"] == 16


def _two_trials() -> list[TrialRecord]:
    oracle = TableOracle(Table("target", SPACE, _values(_additive) * 3.0))
    return [oracle.run(_config(8, 1, "T4")), oracle.run(_config(4, 1, "A100"))]


@pytest.mark.parametrize(("dear", "cheap"), [("A100", "T4"), ("T4", "A100")])
def test_expected_improvement_is_divided_by_the_price(dear: str, cheap: str) -> None:
    objective = Objective.of(load_catalog(), prices=PriceOverrides(gpu_hour={dear: 1e6}))
    strategy = make_strategy("heterbo", SPACE, _knowledge(), seed=1, objective=objective)
    (pick,) = strategy.suggest(_two_trials())
    assert pick["gputype"] == cheap


def test_the_same_seed_gives_the_same_search() -> None:
    oracle = TableOracle(Table("target", SPACE, _values(lambda c: _additive(c) ** 1.5)))

    def search(seed: int) -> list[dict[str, Value]]:
        strategy = make_strategy("heterbo", SPACE, _knowledge(), seed=seed)
        history: list[TrialRecord] = []
        for _ in range(6):
            (config,) = strategy.suggest(history)
            history.append(oracle.run(config))
        assert strategy.suggest(history) == strategy.suggest(history)
        return [dict(t.config) for t in history]

    assert search(7) == search(7)
    assert len({tuple(c.values()) for c in search(7)}) == 6
