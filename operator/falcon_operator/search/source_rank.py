"""``source-rank``: the sources' mean ranking as a fixed, non-adaptive list of configurations.

Each source table is divided by its own best value and its missing (infeasible) cells count 0;
the configurations are ranked by the mean over the sources (ties: lower index first). The list
keeps a configuration only when no configuration already listed differs from it in nothing but
the MPS memory limit (``gpumem``) and the GPU power cap (``gpupower``); the skipped ones follow,
in rank order, once the list is exhausted. ``suggest`` returns the first configurations of that
order not yet tried or pending: what a user would do with the sources' tables and no model.

Where no source table fits the space, the ranking is the knowledge base's prior mean for the
target's profile (the KOP curves, priced by the objective), as ``transfer-prior`` starts from.
Deterministic: the seed is not used.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from falcon_operator.core.knobs import GPU_MEMORY, POWER
from falcon_operator.core.objective import Objective
from falcon_operator.core.space import Space
from falcon_operator.knowledge.base import Knowledge
from falcon_operator.knowledge.prior import Prior
from falcon_operator.search.baselines import candidates
from falcon_operator.search.strategy import SearchState, Strategy

Index = NDArray[np.int64]

#: knobs a listed configuration's twins may differ in
TWIN_KNOBS = (GPU_MEMORY, POWER)


def mean_ranking(rows: NDArray[np.float64], indices: Index) -> Index:
    """``indices`` by the mean of the per-row normalised values (NaN = 0), best first."""
    best = np.nanmax(np.where(np.isnan(rows), -np.inf, rows), axis=1, keepdims=True)
    scale = np.where(np.isfinite(best) & (best > 0), best, 1.0)
    mean = np.nan_to_num(rows / scale, nan=0.0).mean(axis=0)[indices]
    return indices[np.lexsort((indices, -mean))]


def skip_twins(space: Space, ranked: Index, knobs: tuple[str, ...] = TWIN_KNOBS) -> Index:
    """``ranked`` with each configuration's twins (same values but for ``knobs``) moved after
    every first-of-its-kind one, both parts in rank order."""
    keep = [j for j, name in enumerate(space.names) if name not in knobs]
    codes = space.codes(ranked)[:, keep]
    _, first = np.unique(codes, axis=0, return_index=True)
    lead = np.zeros(ranked.size, dtype=bool)
    lead[first] = True
    return np.concatenate([ranked[lead], ranked[~lead]])


class SourceRankStrategy(Strategy):
    """The fixed list of the module docstring."""

    name = "source-rank"

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
        cand = candidates(space, set())
        matrix = knowledge.source_matrix(space)
        if matrix is not None:
            ranked = mean_ranking(matrix[1], cand)
        else:
            prior = Prior(knowledge, space, dict(profile or {}), objective=objective)
            ranked = mean_ranking(prior.mean(cand)[None, :], np.arange(cand.size))
            ranked = cand[ranked]
        self.order: Index = skip_twins(space, ranked)

    def _suggest_indices(self, state: SearchState, n: int) -> list[int]:
        out: list[int] = []
        for i in self.order:
            if int(i) not in state.excluded:
                out.append(int(i))
                if len(out) == n:
                    break
        return out
