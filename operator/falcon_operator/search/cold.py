"""What the cold baselines (optuna-tpe, optuna-random, triton-quick, gp-ei, ernest) share.

They learn nothing from the source models' objective values, but they get the same
configuration-level information as Falcon:

- the space with its constraints (only feasible configurations are ever suggested);
- the search's objective: every observation is already scored by it (price and SLO), and
  ``triton-quick`` uses its prices to decide which configuration is the smallest;
- the sources' feasibility: a configuration at which fewer than half of the source models ran
  (``Prior.ran_fraction`` < :data:`MIN_RAN_FRACTION`) is skipped while any other is left, as an
  operator who has seen those failures would drop it from the space;
- the target's own failed and infeasible trials (each method uses them in its own way).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from falcon_operator.core.objective import Objective
from falcon_operator.core.space import Space
from falcon_operator.knowledge.base import Knowledge
from falcon_operator.search.baselines import PriorStrategy, candidates
from falcon_operator.search.strategy import SearchState

Index = NDArray[np.int64]

#: a configuration where fewer than this share of the source models ran is skipped
MIN_RAN_FRACTION = 0.5


class ColdStrategy(PriorStrategy):
    """A strategy without a performance prior, given the space, objective and feasibility."""

    def __init__(
        self,
        space: Space,
        knowledge: Knowledge,
        *,
        profile: Mapping[str, float] | None = None,
        seed: int = 0,
        objective: Objective | None = None,
    ) -> None:
        super().__init__(space, knowledge, profile=profile, seed=seed, objective=objective)
        self.objective = objective

    def vetoed(self, idx: Index) -> NDArray[np.bool_]:
        """Whether the sources say each configuration mostly does not run."""
        ran = self.prior.ran_fraction(idx)
        if ran is None:
            return np.zeros(idx.size, dtype=bool)
        return np.asarray(ran < MIN_RAN_FRACTION, dtype=bool)

    def open_candidates(self, state: SearchState, n: int = 1) -> Index:
        """Untried, not pending, feasible configurations the sources do not veto.

        When fewer than ``n`` of those are left, all open ones: a veto postpones, it never
        shrinks the space.
        """
        cand = candidates(self.space, state.excluded)
        veto = self.vetoed(cand)
        return cand if int((~veto).sum()) < n else cand[~veto]
