"""The faster suggestion path changes no suggestion.

Falcon's scan now computes the acquisition's surrogate-free factors once per suggestion (not once
per rescan and pick), ``feasibility`` works in row blocks and the logistic features are built
without ``np.eye``. Here the previous implementations, kept verbatim, are swapped back in and the
suggestions compared on fixed histories of the fleet benchmark's space (30 % infeasible trials,
n = 1 and n = 4, with and without pending trials).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from falcon_operator.bench.fleet import fleet_objective, write_fleet_dataset
from falcon_operator.core.catalog import load_catalog
from falcon_operator.core.records import FailureKind, Outcome, TrialRecord
from falcon_operator.core.space import Config
from falcon_operator.knowledge.base import Knowledge
from falcon_operator.knowledge.dataset import FalconDataset
from falcon_operator.search import falcon as falcon_module
from falcon_operator.search.acquisition import (
    expected_improvement,
    feasibility,
    logistic_feasibility,
)
from falcon_operator.search.falcon import FalconStrategy
from falcon_operator.search.strategy import SearchState
from falcon_operator.search.surrogate import PriorGP
from falcon_operator.search.uct import LeafScan

Array = NDArray[np.float64]


# -- the implementations before the speed-up, verbatim ----------------------------------------
def _old_feasibility(
    cand: Array, ok: Array, bad: Array, *, length: float = 0.35, prior_ok: float = 1.0
) -> Array:
    if bad.size == 0:
        return np.ones(len(cand))

    def weight(points: Array) -> Array:
        if points.size == 0:
            return np.zeros(len(cand))
        d2 = ((cand[:, None, :] - points[None, :, :]) ** 2).sum(-1)
        return np.asarray(np.exp(-d2 / (2 * length**2)).sum(1), dtype=float)

    w_ok, w_bad = weight(ok), weight(bad)
    return np.asarray((prior_ok + w_ok) / (prior_ok + w_ok + w_bad), dtype=float)


def _old_features(self: FalconStrategy, idx: NDArray[np.int64]) -> Array:
    codes = self.space.codes(idx)
    cols = [self.space.encode(idx)]
    for j, knob in enumerate(self.space.knobs):
        if knob.kind == "ordinal":
            cols.append(np.eye(knob.size)[codes[:, j]])
    return np.hstack(cols)


def _old_scan(
    self: FalconStrategy,
    state: SearchState,
    gp: PriorGP,
    excluded: set[int],
    weights: Array | None = None,
    factors: object = None,
) -> LeafScan:
    n_leaves = len(self.tree.leaves)
    best_idx = np.full(n_leaves, -1, dtype=np.int64)
    best_acq = np.full(n_leaves, -np.inf)
    has_ok = state.ok_y.size > 0
    incumbent = float(gp.to_model(state.ok_y).max()) if has_ok else 0.0
    ok_x = self.space.encode(state.ok_idx)
    bad_x = self.space.encode(state.bad_idx)
    ok_f = _old_features(self, state.ok_idx)
    bad_f = _old_features(self, state.bad_idx)
    excluded_arr = np.fromiter(excluded, dtype=np.int64, count=len(excluded))
    for chunk in self.space.iter_chunks(self.settings.chunk):
        if excluded_arr.size:
            chunk = chunk[~np.isin(chunk, excluded_arr)]
        if chunk.size == 0:
            continue
        mu, sd = gp.predict(chunk)
        acq = expected_improvement(mu, sd, incumbent, xi=self.settings.xi) if has_ok else mu
        ran = self.prior.ran_fraction(chunk, source_weights=weights)
        if ran is not None:
            acq = acq * ran**self.settings.source_feasibility_power
        if state.bad_idx.size:
            acq = acq * _old_feasibility(self.space.encode(chunk), ok_x, bad_x)
            acq = acq * logistic_feasibility(_old_features(self, chunk), ok_f, bad_f)
        leaves = self.tree.leaf_ids(self.space.codes(chunk))
        for leaf in np.unique(leaves):
            sel = leaves == leaf
            j = int(np.argmax(acq[sel]))
            if acq[sel][j] > best_acq[leaf]:
                best_acq[leaf] = acq[sel][j]
                best_idx[leaf] = chunk[sel][j]
    scan = LeafScan(n_leaves)  # the summary UCT reads (search/uct.py); "max" needs no more
    scan.best_idx, scan.best_acq = best_idx, best_acq
    return scan


# -- the comparisons --------------------------------------------------------------------------
@pytest.mark.parametrize("n_ok", [0, 1, 7, 20])
def test_feasibility_is_bit_identical(n_ok: int) -> None:
    rng = np.random.default_rng(n_ok)
    cand, bad = rng.random((1000, 12)), rng.random((5, 12))  # 1000: not a whole number of blocks
    ok = rng.random((n_ok, 12))
    assert np.array_equal(feasibility(cand, ok, bad), _old_feasibility(cand, ok, bad))
    assert np.array_equal(feasibility(cand, ok, np.empty((0, 12))), np.ones(1000))


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> tuple[FalconDataset, Knowledge]:
    root: Path = tmp_path_factory.mktemp("fleet")
    write_fleet_dataset(root, load_catalog())
    ds = FalconDataset(root)
    return ds, ds.knowledge()


def _falcon(fleet: tuple[FalconDataset, Knowledge]) -> FalconStrategy:
    ds, kb = fleet
    target = ds.tables("targets", space=kb.space)[0]
    return FalconStrategy(
        target.space, kb, profile=ds.profile(target.name), objective=fleet_objective(load_catalog())
    )


def _histories(falcon: FalconStrategy, seed: int) -> list[list[TrialRecord]]:
    """Random histories of 0, 6, …, 24 trials, about 30 % of them failed, values off the prior."""
    space, rng = falcon.space, np.random.default_rng(seed)
    history: list[TrialRecord] = []
    out = []
    for size in range(0, 25, 6):
        while len(history) < size:
            cfg = space.config_at(int(rng.integers(space.size)))
            if any(h.config == cfg for h in history):
                continue
            value = float(falcon.prior.mean(np.array([space.index_of(cfg)]))[0])
            if rng.random() < 0.3:
                history.append(TrialRecord.failed(cfg, FailureKind.OOM, "out of memory"))
            else:
                history.append(TrialRecord(cfg, Outcome.OK, value * float(rng.lognormal(0, 0.1))))
        out.append(list(history))
    return out


def _suggestions(falcon: FalconStrategy, histories: list[list[TrialRecord]]) -> list[list[Config]]:
    out = []
    for history in histories:
        out.append(falcon.suggest(history, 1))
        batch = falcon.suggest(history, 4)
        out.append(batch)
        out.append(falcon.suggest(history, 2, pending=batch[:2]))
    return out


def test_suggestions_unchanged_by_the_speed_up(
    fleet: tuple[FalconDataset, Knowledge], monkeypatch: pytest.MonkeyPatch
) -> None:
    histories = _histories(_falcon(fleet), seed=3)
    assert any(not h.ok for h in histories[-1]) and any(h.ok for h in histories[-1])
    now = _suggestions(_falcon(fleet), histories)
    monkeypatch.setattr(FalconStrategy, "_scan", _old_scan)
    monkeypatch.setattr(FalconStrategy, "_feasibility_features", _old_features)
    monkeypatch.setattr(falcon_module, "feasibility", _old_feasibility)
    before = _suggestions(_falcon(fleet), histories)
    assert now == before
    assert len(now) == 3 * len(histories) and all(now)
