"""Tests for curve composition (knowledge/compose.py) and its use by the prior, the region tree,
UCT and Falcon's first suggestions, on a hand-built two-operator world."""

from __future__ import annotations

import numpy as np
import pytest

from falcon_operator.core.knobs import BATCH, CPUS, GPU
from falcon_operator.core.space import Knob, Space
from falcon_operator.knowledge.base import Knowledge, KnowledgeSettings
from falcon_operator.knowledge.compose import composed_row, composed_throughput
from falcon_operator.knowledge.curves import Curve
from falcon_operator.knowledge.prior import Prior
from falcon_operator.search.falcon import FalconStrategy
from falcon_operator.search.falcon_settings import FalconSettings
from falcon_operator.search.tree import TreeSettings
from falcon_operator.search.uct import LeafScan, descend

BATCHES = (4, 8, 16, 32)
CORES = (1, 2, 4, 8)
GPUS = ("A", "B")
#: operator "big": throughput grows with the batch; "small": it falls (memory-bound)
GROWS = dict(zip(BATCHES, (0.2, 0.4, 0.7, 1.0), strict=True))
FALLS = dict(zip(BATCHES, (1.0, 0.6, 0.3, 0.1), strict=True))


def _space() -> Space:
    return Space(
        (
            Knob(BATCH, BATCHES, "ordinal"),
            Knob(CPUS, CORES, "ordinal"),
            Knob(GPU, GPUS, "categorical"),
        )
    )


def _curve(op: str, by_batch: dict[int, float]) -> Curve:
    points = tuple((float(b), float(c), by_batch[b]) for b in BATCHES for c in CORES)
    return Curve(op, "CPU-batchsize", BATCH, CPUS, points)


def _knowledge(space: Space, *, sources: bool = True) -> Knowledge:
    """Curves of both operators; source models made of "big" only (their optimum: batch 32)."""
    idx = space.all_indices()
    batch = space.values_of(idx, BATCH).astype(float)
    table = np.array([GROWS[int(b)] for b in batch])
    tables = {"s1": table, "s2": table * 0.9} if sources else {}
    return Knowledge(
        KnowledgeSettings(),
        curves=(_curve("big", GROWS), _curve("small", FALLS)),
        space=space if sources else None,
        sources=tables,
        profiles={"s1": {"big": 1.0}, "s2": {"big": 0.9, "small": 0.1}} if sources else {},
    )


def _best_batch(space: Space, row: np.ndarray) -> int:
    return int(space.config_at(int(np.argmax(row)))[BATCH])


def test_a_single_operator_composes_to_its_own_curve() -> None:
    space = _space()
    kb = _knowledge(space)
    idx = space.all_indices()
    rps = composed_throughput(space, kb, {"big": 1.0}, idx)
    assert rps is not None
    batch = space.values_of(idx, BATCH).astype(int)
    # relative to the reference configuration (the median knob values: batch 8)
    expected = np.array([GROWS[b] / GROWS[8] for b in batch])
    np.testing.assert_allclose(rps, expected)


def test_the_predicted_optimum_moves_with_the_shares() -> None:
    space = _space()
    kb = _knowledge(space)
    big = composed_row(space, kb, {"big": 0.97, "small": 0.03})
    mixed = composed_row(space, kb, {"big": 0.9, "small": 0.1})
    small = composed_row(space, kb, {"big": 0.1, "small": 0.9})
    assert big is not None and mixed is not None and small is not None
    assert _best_batch(space, big) == 32
    # time at batch 32: 0.9·0.4/1.0 + 0.1·0.6/0.1 = 0.96 > at 16: 0.9·0.4/0.7 + 0.1·2 = 0.71
    assert _best_batch(space, mixed) == 16
    assert _best_batch(space, small) == 4
    assert big.max() == pytest.approx(1.0) and small.max() == pytest.approx(1.0)


def test_times_add_up_across_operators() -> None:
    space = _space()
    kb = _knowledge(space)
    idx = space.all_indices()
    rps = composed_throughput(space, kb, {"big": 0.5, "small": 0.5}, idx)
    assert rps is not None
    batch = space.values_of(idx, BATCH).astype(int)
    time = np.array([0.5 * GROWS[8] / GROWS[b] + 0.5 * FALLS[8] / FALLS[b] for b in batch])
    np.testing.assert_allclose(rps, 1.0 / time)


def test_a_knob_shared_by_two_curves_counts_once() -> None:
    """Separable curves f(batch)·g(cores) and g(cores)·h(gpu): the composed throughput ratio is
    f·g·h relative to the reference, not f·g²·h."""
    space = _space()
    g = dict(zip(CORES, (0.3, 0.5, 0.8, 1.0), strict=True))
    h = {"A": 0.4, "B": 1.0}
    c1 = Curve(
        "op",
        "CPU-batchsize",
        BATCH,
        CPUS,
        tuple((float(b), float(c), GROWS[b] * g[c]) for b in BATCHES for c in CORES),
    )
    c2 = Curve(
        "op", "CPU-GPU", CPUS, GPU, tuple((float(c), k, g[c] * h[k]) for c in CORES for k in GPUS)
    )
    kb = Knowledge(KnowledgeSettings(), curves=(c1, c2))
    idx = space.all_indices()
    rps = composed_throughput(space, kb, {"op": 1.0}, idx)
    assert rps is not None
    cfg = [space.config_at(int(i)) for i in idx]
    ref = GROWS[8] * g[2] * h["A"]
    expected = np.array([GROWS[c[BATCH]] * g[c[CPUS]] * h[c[GPU]] / ref for c in cfg])
    np.testing.assert_allclose(rps, expected)


def test_no_curve_for_the_profile_means_no_composition() -> None:
    space = _space()
    kb = _knowledge(space)
    assert composed_row(space, kb, {"unknown": 1.0}) is None
    assert Prior(kb, space, {"unknown": 1.0}, compose=True).composed is None


def test_the_composed_row_weight_grows_with_the_profile_distance() -> None:
    space = _space()
    kb = _knowledge(space)
    near = Prior(kb, space, {"big": 1.0}, compose=True)
    far = Prior(kb, space, {"small": 1.0}, compose=True)
    off = Prior(kb, space, {"small": 1.0}, compose=False)
    assert off.composed is None and off.rows is off.sources
    assert near.rows is not None and near.rows.shape[0] == 3
    w_near = near.row_weights(0.0, compose_distance=0.5, compose_min_weight=0.05)
    w_far = far.row_weights(0.0, compose_distance=0.5, compose_min_weight=0.05)
    assert w_near is not None and w_far is not None
    assert w_near[-1] == pytest.approx(0.05)  # the same mix as s1: only the floor
    # nearest source s2 (big 0.9, small 0.1): L1 = 0.9 + 0.9
    assert w_far[-1] == pytest.approx(1 - np.exp(-1.8 / 0.5))
    assert w_far.sum() == pytest.approx(1.0)
    assert off.row_weights(0.0, compose_distance=0.5, compose_min_weight=0.05) is None


def test_the_composition_steers_the_first_trial_of_a_target_unlike_any_source() -> None:
    space = _space()
    kb = _knowledge(space)

    def first(compose: bool) -> int:
        settings = FalconSettings(compose=compose)
        falcon = FalconStrategy(space, kb, profile={"small": 1.0}, settings=settings)
        return int(falcon.suggest([])[0][BATCH])

    assert first(compose=False) == 32  # the sources' optimum
    assert first(compose=True) == 4  # the composed prediction's


def test_composed_split_and_top_value_are_deterministic() -> None:
    space = _space()
    kb = _knowledge(space)
    settings = FalconSettings(
        compose=True,
        tree=TreeSettings(composed_split=True, value="top", top_k=4, min_leaf=2, max_depth=3),
    )

    def run() -> list[dict[str, object]]:
        falcon = FalconStrategy(space, kb, profile={"small": 1.0}, seed=3, settings=settings)
        return [dict(c) for c in falcon.suggest([], n=3)]

    falcon = FalconStrategy(space, kb, profile={"small": 1.0}, seed=3, settings=settings)
    assert falcon.tree.splits[0].label == "model:composed"
    assert run() == run()


def test_top_value_can_leave_the_region_of_the_global_argmax() -> None:
    space = _space()
    kb = _knowledge(space)
    settings = FalconSettings(
        compose=True, tree=TreeSettings(composed_split=True, max_depth=1, min_leaf=2)
    )
    tree = FalconStrategy(space, kb, profile={"small": 1.0}, settings=settings).tree
    assert len(tree.leaves) == 2
    scan = LeafScan(2, top_k=4)
    # leaf 0: one lone best among poor candidates; leaf 1: many good ones
    scan.update(
        np.arange(8), np.array([1.0, 0.1, 0.1, 0.1, 0.9, 0.9, 0.9, 0.9]), np.repeat([0, 1], 4)
    )
    visits = np.zeros(2, dtype=np.int64)
    assert descend(tree, scan, visits, c_uct=0.0, mode="max") == 0
    assert descend(tree, scan, visits, c_uct=0.0, mode="top") == 1
