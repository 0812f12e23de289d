"""Tests for Falcon's MCTS-BO: prior start, region tree, UCT descent, source re-weighting,
the prior-GP surrogate, the acquisition functions and batch suggestions."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pytest
from numpy.typing import NDArray

from falcon_operator.core.records import FailureKind, Outcome, TrialRecord
from falcon_operator.core.space import Knob, Space
from falcon_operator.knowledge.base import Knowledge, KnowledgeSettings, build_knowledge
from falcon_operator.knowledge.dataset import FalconDataset, default_data_dir
from falcon_operator.knowledge.kops import select_kops
from falcon_operator.knowledge.prior import Prior
from falcon_operator.knowledge.tables import Table
from falcon_operator.search.acquisition import expected_improvement, feasibility
from falcon_operator.search.falcon import FalconStrategy
from falcon_operator.search.falcon_settings import FalconSettings
from falcon_operator.search.strategy import search_state
from falcon_operator.search.surrogate import PriorGP, SurrogateSettings
from falcon_operator.search.tree import TreeSettings
from falcon_operator.search.uct import LeafScan

Index = NDArray[np.int64]
Array = NDArray[np.float64]


@dataclass(frozen=True)
class Real:
    knowledge: Knowledge
    space: Space
    profile: dict[str, float]
    target: Table


@pytest.fixture(scope="module")
def real() -> Real:
    ds = FalconDataset(default_data_dir())
    kb = ds.knowledge()
    (target,) = ds.tables("targets", ["bert-large"])
    assert kb.space is not None and kb.space == target.space
    return Real(kb, kb.space, ds.profile("bert-large"), target)


@pytest.fixture(scope="module")
def falcon(real: Real) -> FalconStrategy:
    return FalconStrategy(real.space, real.knowledge, profile=real.profile, seed=0)


#: the paper's MCTS: the region tree three levels deep (off by default, docs/algorithm.md)
TREE = FalconSettings(tree=TreeSettings(max_depth=3))


@pytest.fixture(scope="module")
def tree_falcon(real: Real) -> FalconStrategy:
    """Falcon with the region tree switched on, over PCA-pruned knowledge (the paper's path)."""
    kb = FalconDataset(default_data_dir()).knowledge(settings=KnowledgeSettings(pca=True))
    return FalconStrategy(real.space, kb, profile=real.profile, seed=0, settings=TREE)


def test_the_tree_is_off_by_default(falcon: FalconStrategy) -> None:
    assert falcon.settings.tree.max_depth == 0
    assert len(falcon.tree.leaves) == 1 and not falcon.tree.splits


def _history(real: Real, indices: list[int]) -> list[TrialRecord]:
    return [
        TrialRecord(real.space.config_at(i), Outcome.OK, float(real.target.values[i]))
        for i in indices
    ]


# -- the first suggestion ----------------------------------------------------------------------


def test_first_suggestion_is_the_prior_argmax(real: Real, falcon: FalconStrategy) -> None:
    idx = real.space.all_indices()
    weights = falcon.source_weights(search_state(real.space, [], ()))  # the composed row's share
    mean = falcon.prior.mean(idx, source_weights=weights)
    top2 = np.sort(mean)[-2:]
    assert top2[1] > top2[0]  # a unique maximum, so the check is sharp
    expected = real.space.config_at(int(idx[np.argmax(mean)]))
    assert falcon.prior.kind == "source-tables"
    assert falcon.suggest([]) == [expected]


def test_first_suggestion_with_a_curve_prior_maximises_it(real: Real) -> None:
    kb = build_knowledge(curves=real.knowledge.curves)  # no source tables: the KOP-RC prior
    prior = Prior(kb, real.space, real.profile)
    assert prior.kind == "kop-curves"
    idx = real.space.all_indices()
    mean = prior.mean(idx)
    (pick,) = FalconStrategy(real.space, kb, profile=real.profile).suggest([])
    assert prior.mean(np.array([real.space.index_of(pick)]))[0] == pytest.approx(mean.max())


# -- the region tree ---------------------------------------------------------------------------


def test_region_tree_leaves_partition_the_space(real: Real, tree_falcon: FalconStrategy) -> None:
    tree = tree_falcon.tree
    assert len(tree.leaves) > 1
    codes = real.space.codes(real.space.all_indices())
    membership = np.stack([tree.node_mask(leaf, codes) for leaf in tree.leaves])
    np.testing.assert_array_equal(membership.sum(0), np.ones(real.space.size))
    ids = tree.leaf_ids(codes)
    assert ids.min() == 0 and ids.max() == len(tree.leaves) - 1
    np.testing.assert_array_equal(ids, membership.argmax(0))
    assert all(membership.sum(1) >= tree.settings.min_leaf)  # no leaf below min_leaf


def test_first_split_is_the_top_kops_good_cells(real: Real, tree_falcon: FalconStrategy) -> None:
    tree = tree_falcon.tree
    top_kop = select_kops(real.profile)[0]
    assert top_kop == "transpose"
    first = tree.splits[0]
    assert first.operator == top_kop
    left, right = tree.root.children
    assert left.path == ((0, True),) and right.path == ((0, False),)
    # the curve's good cells, evaluated independently cell by cell
    (curve,) = [c for c in real.knowledge.curves_of(top_kop) if c.pair == first.pair]
    k1, k2 = real.space.knob(curve.knob1), real.space.knob(curve.knob2)
    grid = np.array([[curve.value(float(a), b) for b in k2.values] for a in k1.values])
    good = grid >= np.median(grid)
    j1, j2 = real.space.names.index(curve.knob1), real.space.names.index(curve.knob2)
    codes = real.space.codes(real.space.all_indices())
    on_left = tree.node_mask(left, codes)
    np.testing.assert_array_equal(on_left, good[codes[:, j1], codes[:, j2]])
    np.testing.assert_array_equal(tree.node_mask(right, codes), ~on_left)
    cell = grid[codes[:, j1], codes[:, j2]]
    assert cell[on_left].min() >= cell[~on_left].max()  # left really is the better side


# -- UCT descent -----------------------------------------------------------------------------


def _scan(acq: list[float]) -> LeafScan:
    scan = LeafScan(len(acq))
    scan.best_idx = np.arange(len(acq), dtype=np.int64)
    scan.best_acq = np.array(acq, dtype=float)
    return scan


def test_descent_ties_go_left(tree_falcon: FalconStrategy) -> None:
    n = len(tree_falcon.tree.leaves)
    assert n == 8  # three full levels on bert-large
    leaf0 = tree_falcon.tree.leaves[0]
    assert all(good for _, good in leaf0.path)  # leaf 0 is good at every level
    assert tree_falcon._descend(_scan([1.0] * n), np.zeros(n, dtype=np.int64)) == 0
    assert tree_falcon._descend(_scan([1.0] * n), np.full(n, 3, dtype=np.int64)) == 0


def test_descent_follows_the_acquisition(tree_falcon: FalconStrategy) -> None:
    n = len(tree_falcon.tree.leaves)
    acq = [0.1] * n
    acq[6] = 0.9
    assert tree_falcon._descend(_scan(acq), np.zeros(n, dtype=np.int64)) == 6
    # a branch with nothing left to try (-inf) is skipped
    empty_left = [-math.inf] * 4 + [0.2, 0.3, 0.1, 0.3]
    assert tree_falcon._descend(_scan(empty_left), np.zeros(n, dtype=np.int64)) == 5


def test_large_c_uct_sends_the_search_to_an_unvisited_right_branch(real: Real) -> None:
    n = 8
    acq = [1.0] * 4 + [0.9] * 4  # the left (good) half looks slightly better ...
    visits = np.array([5] * 4 + [0] * 4, dtype=np.int64)  # ... but only it was visited
    small = FalconStrategy(real.space, real.knowledge, profile=real.profile, settings=TREE)
    assert small.settings.c_uct == 0.05
    assert small._descend(_scan(acq), visits) < 4  # exploit: stay left
    big = FalconStrategy(
        real.space, real.knowledge, profile=real.profile, settings=replace(TREE, c_uct=10.0)
    )
    assert len(big.tree.leaves) == n
    leaf = big._descend(_scan(acq), visits)
    assert leaf == 4  # explore: right at the root, then ties go left
    assert big.tree.leaves[leaf].path[0] == (0, False)


# -- source re-weighting -------------------------------------------------------------------------


@pytest.mark.parametrize("source", [0, 7, 17])
def test_source_weights_favour_the_matching_source(
    real: Real, falcon: FalconStrategy, source: int
) -> None:
    src = falcon.prior.sources
    assert src is not None and src.shape == (18, real.space.size)
    idx = [3, 100, 333, 500, 777, 900, 1200, 1419]
    history = [
        TrialRecord(real.space.config_at(i), Outcome.OK, 3.0 * float(src[source, i])) for i in idx
    ]
    composing = FalconStrategy(
        real.space, real.knowledge, profile=real.profile, settings=FalconSettings(compose=True)
    )
    weights = composing.source_weights(search_state(real.space, history, ()))
    assert weights is not None
    assert composing.prior.rows is not None
    rows = composing.prior.rows.shape[0]
    assert weights.shape == (rows,) and rows == 19  # the 18 sources and the composed row
    assert weights.sum() == pytest.approx(1.0)
    assert int(np.argmax(weights)) == source
    assert weights[source] > 1.0 / rows


def test_source_weights_off(real: Real, falcon: FalconStrategy) -> None:
    history = _history(real, [3, 100, 500])

    def weights(settings: FalconSettings, trials: int) -> Array | None:
        strategy = FalconStrategy(
            real.space, real.knowledge, profile=real.profile, settings=settings
        )
        return strategy.source_weights(search_state(real.space, history[:trials], ()))

    assert weights(FalconSettings(source_temperature=0.0), 3) is None
    assert weights(FalconSettings(), 1) is None
    assert weights(FalconSettings(), 3) is not None
    # with the composed row, the prior over the rows stands until two trials exist
    composing = FalconStrategy(
        real.space, real.knowledge, profile=real.profile, settings=FalconSettings(compose=True)
    )
    prior = composing.prior.row_weights(0.0, compose_distance=1.0, compose_min_weight=0.05)
    assert prior is not None and prior[-1] == pytest.approx(0.05)  # paper sources: no profiles
    np.testing.assert_allclose(
        weights(FalconSettings(source_temperature=0.0, compose=True), 3), prior
    )
    np.testing.assert_allclose(weights(FalconSettings(compose=True), 1), prior)


# -- surrogate ---------------------------------------------------------------------------------

GRID = Space((Knob("u", tuple(range(10))), Knob("v", tuple(range(10)))))
GRID_IDX = GRID.all_indices()


def _grid_prior(idx: Index) -> Array:
    codes = GRID.codes(idx)
    return np.asarray(1.0 + 0.1 * codes[:, 0] + 0.05 * codes[:, 1], dtype=float)


def test_few_points_posterior_is_the_scaled_prior() -> None:
    idx = np.array([5, 42], dtype=np.int64)
    y = np.array([3.0, 2.0])
    ungated = SurrogateSettings(occam_gate=False)  # so only min_gp_points can keep the GP out
    gp = PriorGP(GRID.encode, _grid_prior, settings=ungated).fit(idx, y)
    assert gp.settings.min_gp_points == 3
    assert gp.gp is None
    three = np.array([5, 42, 77], dtype=np.int64)
    fitted = PriorGP(GRID.encode, _grid_prior, settings=ungated).fit(three, np.array([3.0, 2, 1]))
    assert fitted.gp is not None
    p = _grid_prior(idx)
    assert gp.scale == pytest.approx(float(y @ p / (p @ p)))
    mu, sd = gp.predict(GRID_IDX)
    np.testing.assert_allclose(mu, gp.scale * _grid_prior(GRID_IDX))
    np.testing.assert_allclose(sd, 0.1 * 2.5)  # prior_spread × mean |y|
    # no data at all: the prior itself
    mu0, _ = (
        PriorGP(GRID.encode, _grid_prior)
        .fit(np.empty(0, dtype=np.int64), np.empty(0))
        .predict(GRID_IDX)
    )
    np.testing.assert_allclose(mu0, _grid_prior(GRID_IDX))


def test_fitted_scale_recovers_a_known_factor() -> None:
    idx = np.array([0, 11, 23, 37, 48, 59, 64, 77, 85, 99], dtype=np.int64)
    gp = PriorGP(GRID.encode, _grid_prior).fit(idx, 2.0 * _grid_prior(idx))
    assert gp.scale == pytest.approx(2.0)
    mu, _ = gp.predict(GRID_IDX)
    np.testing.assert_allclose(mu, 2.0 * _grid_prior(GRID_IDX), rtol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_occam_gate_rejects_noise_keeps_structure(seed: int) -> None:
    rng = np.random.default_rng(seed)
    idx = rng.choice(GRID_IDX, 30, replace=False)
    p = _grid_prior(idx)
    noisy = p * (1 + 0.1 * rng.standard_normal(idx.size))
    assert PriorGP(GRID.encode, _grid_prior).fit(idx, noisy).gp is None
    ungated = SurrogateSettings(occam_gate=False)
    assert PriorGP(GRID.encode, _grid_prior, settings=ungated).fit(idx, noisy).gp is not None
    # residual = a large linear function of the first encoded feature
    structured = p + 5.0 * GRID.encode(idx)[:, 0]
    gp = PriorGP(GRID.encode, _grid_prior).fit(idx, structured)
    assert gp.gp is not None
    rest = np.setdiff1d(GRID_IDX, idx)
    truth = _grid_prior(rest) + 5.0 * GRID.encode(rest)[:, 0]
    mu, _ = gp.predict(rest)
    prior_only = gp.scale * _grid_prior(rest)
    assert np.abs(mu - truth).mean() < 0.25 * np.abs(prior_only - truth).mean()


# -- acquisition -------------------------------------------------------------------------------


def test_expected_improvement_shape() -> None:
    mu = np.linspace(-5.0, 5.0, 101)
    sd = np.full(mu.size, 0.5)
    ei = expected_improvement(mu, sd, 1.0)
    assert (ei >= 0).all()
    assert (np.diff(ei) > 0).all()  # strictly increasing in mu
    assert ei[0] < 1e-12  # far below the incumbent: nothing to gain
    assert ei[-1] == pytest.approx(4.0, rel=1e-6)  # far above: the plain improvement
    at_best = expected_improvement(np.array([1.0]), np.array([2.0]), 1.0)
    assert at_best[0] == pytest.approx(2.0 / math.sqrt(2 * math.pi))
    # a margin xi lowers EI; zero sd is clipped, giving max(0, mu - best)
    assert expected_improvement(np.array([2.0]), np.array([1.0]), 1.0, xi=0.5)[0] < ei[70]
    flat = expected_improvement(np.array([0.0, 3.0]), np.zeros(2), 1.0)
    np.testing.assert_allclose(flat, [0.0, 2.0], atol=1e-9)


def test_feasibility_drops_next_to_a_failure_only() -> None:
    cand = GRID.encode(GRID_IDX)  # u, v in [0, 1]
    none = feasibility(cand, cand[:0], cand[:0])
    np.testing.assert_array_equal(none, np.ones(GRID.size))
    bad = GRID.encode(np.array([0], dtype=np.int64))  # corner (0, 0)
    f = feasibility(cand, cand[:0], bad)
    assert f[0] == pytest.approx(0.5)  # one pseudo-success against one failure
    assert f[GRID.index_of({"u": 1, "v": 0})] < 0.6  # its neighbour
    assert f[GRID.index_of({"u": 9, "v": 9})] > 0.999  # far away
    assert (f > 0).all() and (f <= 1).all()
    # probability falls with distance to the failure's corner
    corner_row = f[[GRID.index_of({"u": u, "v": 0}) for u in range(10)]]
    assert (np.diff(corner_row) > 0).all()
    # a nearby success pulls it back up
    ok = GRID.encode(np.array([GRID.index_of({"u": 1, "v": 0})], dtype=np.int64))
    assert feasibility(cand, ok, bad)[0] > f[0]


# -- stopping and batches ------------------------------------------------------------------------


def test_should_stop_needs_enough_trials(real: Real, falcon: FalconStrategy) -> None:
    few = _history(real, [1419, 1395, 1100, 700, 20])
    assert not falcon.should_stop([])
    assert not falcon.should_stop(few)
    eager = FalconStrategy(
        real.space,
        real.knowledge,
        profile=real.profile,
        settings=FalconSettings(stop_ei_fraction=1e9),
    )
    assert not eager.should_stop(few)  # below stop_min_trials it never fires
    six = _history(real, [1419, 1395, 1100, 700, 20, 333])
    assert eager.should_stop(six)
    never = FalconStrategy(
        real.space,
        real.knowledge,
        profile=real.profile,
        settings=FalconSettings(stop_ei_fraction=0.0),
    )
    assert not never.should_stop(six)


@pytest.mark.parametrize("tried", [[], [1419, 1395, 700, 20, 333]])
def test_batch_suggestions_are_distinct(
    real: Real, falcon: FalconStrategy, tried: list[int]
) -> None:
    history = _history(real, tried)
    batch = falcon.suggest(history, n=4)
    keys = {real.space.key(c) for c in batch}
    assert len(keys) == 4
    assert not keys & {real.space.key(t.config) for t in history}
    assert batch[0] == falcon.suggest(history)[0]  # the first pick is the single best pick


@pytest.mark.parametrize("kind", [FailureKind.OOM, FailureKind.CRASH])
def test_a_failure_next_to_the_prior_best_steers_away_from_it(
    real: Real, kind: FailureKind
) -> None:
    space = real.space
    # c_uct = 0: no exploration bonus, so only the acquisition (× feasibility) decides
    greedy = FalconStrategy(
        space, real.knowledge, profile=real.profile, settings=FalconSettings(c_uct=0.0)
    )
    (best,) = greedy.suggest([])
    assert best["gpupower"] == 50
    neighbour = {**best, "gpupower": 75}  # one ordinal step away
    (pick,) = greedy.suggest([TrialRecord.failed(neighbour, kind, "broke")])
    assert pick != best
    far = space.config_at(0)
    gap = space.encode(np.array([space.index_of(best)])) - space.encode(np.array([0]))
    assert float((gap**2).sum()) > 4.0  # far in the encoding
    assert greedy.suggest([TrialRecord.failed(far, kind, "broke")]) == [best]


def test_logistic_feasibility_blames_the_knob_the_failures_share() -> None:
    from falcon_operator.search.acquisition import logistic_feasibility

    # features: one-hot batch (4 values) then one-hot GPU (5 values)
    def enc(batch: int, gpu: int) -> list[float]:
        return [float(batch == i) for i in range(4)] + [float(gpu == g) for g in range(5)]

    bad = np.array([enc(3, g) for g in range(4)])  # the largest batch failed on 4 GPUs
    ok = np.array([enc(0, g) for g in range(4)])  # the smallest ran on the same 4
    cand = np.array([enc(3, 4), enc(0, 4), enc(1, 4)])
    p = logistic_feasibility(cand, ok, bad)
    assert p[0] < 0.3 < 0.6 < p[2]  # blame on batch 3, not on GPU 4 (never tried)
    assert p[1] > 0.9
    lone = logistic_feasibility(cand, ok[:0], bad[:1])  # failed at (batch 3, GPU 0)
    assert lone[1] > 0.7 and lone[2] > 0.7  # nothing in common with it: still likely
    assert 0.4 < lone[0] < lone[1]  # shares batch 3: less likely, far from ruled out
    assert logistic_feasibility(cand, ok, bad[:0]).tolist() == [1.0, 1.0, 1.0]


def test_log_surrogate_learns_the_scale_of_a_shape_only_prior() -> None:
    from falcon_operator.search.surrogate import LogPriorGP

    space = GRID
    idx = space.all_indices()

    def prior(i: Index) -> Array:
        return 1.0 + space.codes(i)[:, 0].astype(float)  # grows with u

    obs = np.array([0, 55, 99], dtype=np.int64)
    gp = LogPriorGP(space.encode, prior, settings=SurrogateSettings(min_gp_points=10))
    gp.fit(obs, 3.0 * prior(obs))
    mu, sd = gp.predict(idx)
    np.testing.assert_allclose(mu, np.log(3.0 * prior(idx)))  # offset = log 3, no GP yet
    assert np.all(sd == gp.settings.prior_spread)
    assert gp.from_model(float(gp.to_model(np.array([5.0]))[0])) == pytest.approx(5.0)


def test_falcon_models_log_objective_when_the_prior_is_curves_only(real: Real) -> None:
    from falcon_operator.bench.latency import large_space
    from falcon_operator.search.surrogate import LogPriorGP

    space = large_space()
    strategy = FalconStrategy(space, real.knowledge, profile=real.profile, seed=0)
    assert strategy.prior.kind == "kop-curves"
    history = [
        TrialRecord(space.config_at(i), Outcome.OK, float(10 + i % 7)) for i in (5, 70_001, 99_999)
    ]
    state = search_state(space, history, ())
    assert isinstance(strategy.surrogate(state), LogPriorGP)
    table = FalconStrategy(real.space, real.knowledge, profile=real.profile, seed=0)
    assert not isinstance(table.surrogate(search_state(real.space, [], ())), LogPriorGP)
