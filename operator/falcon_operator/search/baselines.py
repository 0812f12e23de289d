"""Baseline strategies behind the same ask/tell interface, each an honest implementation.

- ``random``: uniform over the configurations not yet tried.
- ``gp-bo``: cold Bayesian optimisation — 3 random starts, then a GP (Matérn 5/2, ARD) with
  expected improvement over every remaining candidate.
- ``transfer-prior``: configurations in order of the mean of the source tables (or of the KOP
  curve prior when no table fits the space); ties broken by the seed. Learns nothing online.

``morphling`` (a meta-learned model adapted to the target) lives in search/morphling.py,
``vesta`` (a model transferred from the most similar sources) in search/vesta.py.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from falcon_operator.core.objective import Objective
from falcon_operator.core.space import Space
from falcon_operator.knowledge.base import Knowledge
from falcon_operator.knowledge.prior import Prior
from falcon_operator.search.acquisition import expected_improvement, feasibility
from falcon_operator.search.strategy import SearchState, Strategy, derive_rng, top_n
from falcon_operator.search.surrogate import fit_quietly, plain_gp

Array = NDArray[np.float64]
Index = NDArray[np.int64]


def sample_unexcluded(
    space: Space, rng: np.random.Generator, n: int, excluded: set[int]
) -> list[int]:
    """``n`` distinct random feasible indices outside ``excluded`` (lazy for large spaces)."""
    out: list[int] = []
    if space.size <= 200_000:
        pool = space.all_indices()
        pool = pool[~np.isin(pool, np.fromiter(excluded, dtype=np.int64, count=len(excluded)))]
        return [int(i) for i in rng.permutation(pool)[:n]]
    while len(out) < n:
        i = int(rng.integers(space.size))
        if i not in excluded and i not in out and space.feasible(space.config_at(i)):
            out.append(i)
    return out


#: the transfer baselines' power on the sources' ran share (Falcon's ``source_feasibility_power``)
RAN_POWER = 8.0
#: chance a source's runnable / infeasible cell disagrees with the target's (Falcon's default)
RAN_ERROR = 0.1
#: cells of a curve prior a transfer baseline learns from in spaces larger than this
CURVE_SAMPLE = 20_000


def candidates(space: Space, excluded: frozenset[int] | set[int], limit: int = 200_000) -> Index:
    """All feasible candidates, or an evenly spread subset of ``limit`` for huge spaces."""
    if space.size <= limit:
        idx = space.all_indices()
    else:
        idx = np.unique(np.linspace(0, space.size - 1, limit).astype(np.int64))
    ex = np.fromiter(excluded, dtype=np.int64, count=len(excluded))
    return idx[~np.isin(idx, ex)]


class RandomStrategy(Strategy):
    name = "random"

    def _suggest_indices(self, state: SearchState, n: int) -> list[int]:
        rng = derive_rng(self.seed, self.name, state.n_done, len(state.excluded))
        return sample_unexcluded(self.space, rng, n, set(state.excluded))


class PriorStrategy(Strategy):
    """A strategy that starts from the knowledge base's prior for the model's profile."""

    def __init__(
        self,
        space: Space,
        knowledge: Knowledge,
        *,
        profile: Mapping[str, float] | None = None,
        seed: int = 0,
        objective: Objective | None = None,
    ) -> None:
        super().__init__(space, seed=seed)
        self.prior = Prior(knowledge, space, dict(profile or {}), objective=objective)


class TransferPriorStrategy(PriorStrategy):
    name = "transfer-prior"

    def _suggest_indices(self, state: SearchState, n: int) -> list[int]:
        cand = candidates(self.space, set())
        rng = derive_rng(self.seed, self.name)
        return top_n(self.prior.mean(cand), cand, n, state.excluded, rng=rng)


class GPBOStrategy(Strategy):
    name = "gp-bo"
    n_random: int = 3

    def _suggest_indices(self, state: SearchState, n: int) -> list[int]:
        rng = derive_rng(self.seed, self.name, state.n_done, len(state.excluded))
        if state.ok_idx.size < self.n_random:
            return sample_unexcluded(self.space, rng, n, set(state.excluded))
        cand = candidates(self.space, state.excluded)
        x, y = self.space.encode(state.ok_idx), state.ok_y
        picks: list[int] = []
        for _ in range(n):
            gp = fit_quietly(plain_gp(self.seed, x.shape[1]), x, y)
            cx = self.space.encode(cand)
            mu, sd = gp.predict(cx, return_std=True)
            acq = expected_improvement(mu, sd, float(y.max()))
            if state.bad_idx.size:
                acq = acq * feasibility(cx, x, self.space.encode(state.bad_idx))
            best = top_n(acq, cand, 1, frozenset(picks), rng=rng)
            if not best:  # the feasible candidates ran out
                break
            pick = best[0]
            picks.append(pick)
            x = np.vstack([x, self.space.encode(np.array([pick]))])
            y = np.append(y, gp.predict(x[-1:])[0])
        return picks
