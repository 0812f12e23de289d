"""``ernest``: the NNLS fit, the experiment design, a search on a table made by its own model."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from falcon_operator.backends.table import TableOracle
from falcon_operator.core.catalog import shipped_catalog
from falcon_operator.core.knobs import BATCH, CPUS, GPU, GPU_MEMORY, POWER, build_space
from falcon_operator.core.objective import Objective
from falcon_operator.core.records import FailureKind, TrialRecord
from falcon_operator.core.space import Space
from falcon_operator.knowledge.base import build_knowledge
from falcon_operator.knowledge.tables import Table
from falcon_operator.search.ernest import DESIGN_BUDGET, ErnestStrategy
from falcon_operator.search.ernest_design import greedy_a_optimal

SPACE = build_space(
    {
        BATCH: (1, 4, 16, 64),
        CPUS: (1, 2, 4, 8),
        GPU_MEMORY: (0.0, 4.0),
        POWER: (50, 100),
        GPU: ("T4", "V100", "A100", "A100/1g.5gb", "H100/2g.20gb"),
    }
)
OBJECTIVE = Objective.of(shipped_catalog())
KB = build_knowledge()


def ernest(space: Space = SPACE, *, seed: int = 0, priced: bool = True) -> ErnestStrategy:
    return ErnestStrategy(space, KB, seed=seed, objective=OBJECTIVE if priced else None)


def true_theta(strategy: ErnestStrategy) -> NDArray[np.float64]:
    """A model with every term non-zero, some weighing far more than others."""
    k = len(strategy.terms.names)
    return np.linspace(0.2, 3.0, k) ** 2


def own_model_table(strategy: ErnestStrategy, theta: NDArray[np.float64]) -> Table:
    idx = strategy.space.all_indices()
    return Table("ernest-world", strategy.space, strategy.predict(theta, idx))


@pytest.mark.parametrize("priced", [True, False])
def test_nnls_recovers_the_model(priced: bool) -> None:
    s = ernest(priced=priced)
    theta = true_theta(s)
    idx = np.random.default_rng(0).choice(s.space.all_indices(), 40, replace=False)
    y = s.predict(theta, idx)
    assert np.allclose(s.fit(idx, y), theta, rtol=1e-6, atol=1e-9)


def test_nnls_stays_non_negative_where_least_squares_does_not() -> None:
    s = ernest()
    theta = true_theta(s)
    theta[1::2] = 0.0  # half the terms play no part: noise alone would make them negative
    rng = np.random.default_rng(3)
    idx = rng.choice(s.space.all_indices(), 25, replace=False)
    y = s.predict(theta, idx) * np.exp(0.05 * rng.standard_normal(idx.size))
    x = s.terms.matrix(idx)
    rows = x * (y / (s.terms.batch(idx) * s.per_throughput(idx)))[:, None]  # x / batch time

    def misfit(t: NDArray[np.float64]) -> float:
        return float(np.sum((rows @ t - 1.0) ** 2))

    free = np.linalg.lstsq(rows, np.ones(idx.size), rcond=None)[0]
    assert free.min() < 0
    fitted = s.fit(idx, y)
    assert fitted.min() >= 0
    assert misfit(fitted) < 0.5 * misfit(np.clip(free, 0.0, None))  # clipping is no NNLS
    assert np.abs(fitted - theta).max() < 0.5 * theta.max()


def test_terms_follow_the_catalog_or_the_codes() -> None:
    priced, codes = ernest().terms.names, ernest(priced=False).terms.names
    assert "batch/compute" in priced and "batch/bandwidth" in priced
    assert not any(n.startswith("batch@") for n in priced)
    assert [n for n in codes if n.startswith("batch@")] == [
        f"batch@{g}" for g in SPACE.knob(GPU).values
    ]
    assert "batch/compute" not in codes
    for s in (ernest(), ernest(priced=False)):
        x = s.terms.matrix(s.space.all_indices())
        assert x.min() >= 0 and np.allclose(x.mean(0), 1.0)


def test_design_picks_spread_out_cheap_configurations() -> None:
    s = ernest()
    picks = np.array(s.initial_design(), dtype=np.int64)
    cost = s.price(picks)
    everything = s.price(s.space.all_indices())
    assert cost.sum() <= DESIGN_BUDGET * everything.min() + 1e-9
    assert len(picks) >= 6 and np.median(cost) < np.median(everything)
    codes = s.space.codes(picks)
    for knob in (BATCH, CPUS):  # spread over the knobs the model has terms for
        assert len(set(codes[:, s.space.names.index(knob)])) >= 2
    # more informative than random designs of the same size among equally cheap configurations
    x_all = s.terms.matrix(s.space.all_indices())
    cheap = np.flatnonzero(everything <= cost.max())

    def criterion(rows: NDArray[np.int64]) -> float:
        a = x_all[rows].T @ x_all[rows] + 1e-6 * np.eye(x_all.shape[1])
        return float(np.trace(np.linalg.inv(a)))

    rng = np.random.default_rng(1)
    ours = criterion(picks)
    random = [criterion(rng.choice(cheap, len(picks), replace=False)) for _ in range(50)]
    assert ours < min(random)


def test_greedy_design_respects_the_budget_and_the_experiments_made() -> None:
    x = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    assert greedy_a_optimal(x, np.ones(4), 2.0)[0] == 3  # the most informative alone
    assert sorted(greedy_a_optimal(x, np.ones(4), 2.0, fixed=x[3:])) == [0, 2]
    assert greedy_a_optimal(x, np.array([5.0, 5.0, 5.0, 5.0]), 4.0) == []


@pytest.mark.parametrize("priced", [True, False])
def test_finds_the_optimum_of_its_own_model(priced: bool) -> None:
    s = ernest(priced=priced)
    theta = true_theta(s)
    table = own_model_table(s, theta)
    oracle, history = TableOracle(table), list[TrialRecord]()
    for _ in range(len(s.initial_design())):  # the design's trials identify the model exactly
        (config,) = s.suggest(history)
        history.append(oracle.run(config))
    design = np.array([SPACE.index_of(t.config) for t in history], dtype=np.int64)
    y = np.array([float(t.objective) for t in history if t.objective is not None])
    assert np.allclose(s.fit(design, y), theta, rtol=1e-6)
    (config,) = s.suggest(history)  # and its first prediction is the optimum
    history.append(oracle.run(config))
    found = max(float(t.objective) for t in history if t.objective is not None)
    assert found == pytest.approx(table.best)
    if not priced:  # there the optimum is no design point: the prediction found it
        assert history[-1].objective == pytest.approx(table.best)


def test_deterministic_given_a_seed() -> None:
    s = ernest()
    table = own_model_table(s, true_theta(s))

    def run(seed: int) -> list[TrialRecord]:
        strategy, oracle, history = ernest(seed=seed), TableOracle(table), list[TrialRecord]()
        for _ in range(8):
            history.append(oracle.run(strategy.suggest(history)[0]))
        return history

    assert run(3) == run(3)


def test_failures_are_not_fitted_and_steer_away() -> None:
    s = ernest()
    table = own_model_table(s, true_theta(s))
    first = s.suggest([], n=3)
    history = [TrialRecord.failed(c, FailureKind.OOM, "out of memory") for c in first]
    history += [TableOracle(table).run(c) for c in s.suggest(history, n=9)]
    after = s.suggest(history, n=4)
    keys = {SPACE.key(c) for c in after}
    assert not keys & {SPACE.key(c) for c in first}
    ok = np.array([SPACE.index_of(t.config) for t in history if t.ok], dtype=np.int64)
    y = np.array([float(t.objective) for t in history if t.ok and t.objective is not None])
    assert np.all(np.isfinite(s.fit(ok, y)))


def test_a_space_the_objective_cannot_price_is_searched_unpriced() -> None:
    space = build_space({BATCH: (1, 8, 64), GPU: ("T4", "A100")})  # no cores: no price
    s = ErnestStrategy(space, KB, objective=OBJECTIVE)
    assert not s.priced and "batch/compute" in s.terms.names  # the catalog still names the GPUs
    assert np.all(s.price(space.all_indices()) == 1.0)
    assert len(s.suggest([], n=3)) == 3
