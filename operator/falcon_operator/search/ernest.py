"""``ernest``: Ernest (Venkataraman et al., NSDI'16) — a parametric performance model fitted by
non-negative least squares on a few experiments that optimal experiment design picks.

1. **Model** (search/ernest_terms.py): the time of one batch, ``batch / throughput``, as a
   non-negative combination θ of scaling terms with a physical reading (fixed overhead, batch
   over the GPU's compute and bandwidth, the power cap's slowdown, batch over cores, log of the
   cores, batch over the memory limit). A trial's throughput is recovered from its measured
   objective and its price (the objective is linear in throughput:
   ``rps = y / objective.scores(1, cost)``); without an objective (the paper's tables, no
   prices) the objective itself stands for the throughput.
2. **Experiment design** (search/ernest_design.py): until the design budget
   (:data:`DESIGN_BUDGET` times the cheapest configuration's price, as Ernest's default budget
   of 10 in units of its smallest experiment; every configuration costs 1 without prices) is
   spent on trials, the next trial is the open configuration that lowers the A-optimal
   criterion most per dollar, given the successful trials so far.
3. **Prediction**: θ by ``scipy.optimize.nnls`` on the successful trials, each row divided by
   its measured time (relative errors; Ernest's predictor fits the times themselves, which
   ``relative=False`` restores; docs/algorithm.md gives the tuning on sources); the objective
   of every open configuration is predicted at its price, and the best prediction is the next
   trial (refitted after every trial: the rest of the budget exploits the model, as a user
   would run Ernest's pick and then its runner-up).

Feasibility, as the cold baselines (search/cold.py): only open configurations the sources do
not veto; a trial that failed, broke the SLO or served nothing is never fitted, and it teaches
the kernel vote and the logistic classifier (search/acquisition.py), whose product multiplies
the prediction (and drops a design candidate below :data:`MIN_RUN_PROBABILITY`).
``n`` > 1 and pending trials: the model is deterministic, so the design adds pending trials
to the information matrix and then picks ``n`` at once, and the prediction takes the ``n``
best; ties are broken by the run's seed.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import nnls

from falcon_operator.core.knobs import CPUS
from falcon_operator.core.objective import Objective
from falcon_operator.core.space import Space
from falcon_operator.knowledge.base import Knowledge
from falcon_operator.search.acquisition import (
    feasibility,
    feasibility_features,
    logistic_feasibility,
)
from falcon_operator.search.baselines import candidates
from falcon_operator.search.cold import ColdStrategy
from falcon_operator.search.ernest_design import greedy_a_optimal
from falcon_operator.search.ernest_terms import ErnestTerms
from falcon_operator.search.strategy import SearchState, derive_rng, search_state, top_n

Array = NDArray[np.float64]
Index = NDArray[np.int64]

#: the design's budget in units of the cheapest configuration's price (Ernest's default, 10)
DESIGN_BUDGET = 10.0
#: a design candidate the target's failures give a lower chance to run is not designed
MIN_RUN_PROBABILITY = 0.5


class ErnestStrategy(ColdStrategy):
    name = "ernest"

    def __init__(
        self,
        space: Space,
        knowledge: Knowledge,
        *,
        profile: Mapping[str, float] | None = None,
        seed: int = 0,
        objective: Objective | None = None,
        budget: float = DESIGN_BUDGET,
        relative: bool = True,
    ) -> None:
        super().__init__(space, knowledge, profile=profile, seed=seed, objective=objective)
        self.terms = ErnestTerms(space, objective.prices.catalog if objective else None)
        # prices need the GPU (known to the catalog) and the cores, as Objective.cost_function
        self.priced = (
            objective is not None and self.terms.figures is not None and CPUS in space.names
        )
        cheapest = float(self.price(candidates(space, set())).min(initial=np.inf))
        self.unit_cost = cheapest if np.isfinite(cheapest) and cheapest > 0 else 1.0
        self.budget = budget
        self.relative = relative

    def price(self, idx: Index) -> Array:
        """$/h of each configuration (1 where the search has no prices)."""
        if not self.priced or self.objective is None:
            return np.ones(idx.size)
        return np.asarray(self.objective.cost_function(self.space)(idx), dtype=float)

    def per_throughput(self, idx: Index) -> Array:
        """The objective of a throughput of 1 at each configuration (throughput = y / this)."""
        if not self.priced or self.objective is None:
            return np.ones(idx.size)
        return self.objective.scores(np.ones(idx.size), self.price(idx))

    def fit(self, idx: Index, y: Array) -> Array:
        """θ ≥ 0 of the batch-time model from successful trials at ``idx`` with objectives ``y``:
        NNLS on the relative errors (each row divided by its measured time), or on the times
        themselves as Ernest's predictor does when ``relative`` is off."""
        batch_time = self.terms.batch(idx) * self.per_throughput(idx) / y
        x = self.terms.matrix(idx)
        if self.relative:
            x, batch_time = x / batch_time[:, None], np.ones_like(batch_time)
        theta, _ = nnls(x, batch_time)
        return np.asarray(theta, dtype=float)

    def predict(self, theta: Array, idx: Index) -> Array:
        """The objective the fitted model predicts at ``idx``."""
        batch_time = np.maximum(self.terms.matrix(idx) @ theta, 1e-12)
        return np.asarray(self.terms.batch(idx) / batch_time * self.per_throughput(idx))

    def p_runs(self, cand: Index, ok: Index, bad: Index) -> Array:
        """Probability that each candidate runs, from the target's own failures."""
        if bad.size == 0:
            return np.ones(cand.size)
        enc, space = self.space.encode, self.space
        p = feasibility(enc(cand), enc(ok), enc(bad))
        learnt = logistic_feasibility(
            feasibility_features(space, cand),
            feasibility_features(space, ok),
            feasibility_features(space, bad),
        )
        return np.asarray(p * learnt, dtype=float)

    def design(
        self,
        state: SearchState,
        cand: Index,
        ok: Index,
        n: int,
        rng: np.random.Generator,
        *,
        budget: float | None = None,
    ) -> list[int]:
        """Up to ``n`` design picks among ``cand``, given successes ``ok`` and the spend so far
        (trials and pending ones) out of ``budget`` (default the strategy's)."""
        pending = np.array(sorted(state.excluded - set(map(int, state.tried))), dtype=np.int64)
        spent = float(self.price(np.concatenate([state.tried, pending])).sum())
        left = (self.budget if budget is None else budget) - spent / self.unit_cost
        if cand.size == 0 or left <= 0:
            return []
        known = np.concatenate([ok, pending])
        fixed = self.terms.matrix(known) if known.size else None
        cost = self.price(cand) / self.unit_cost
        order = greedy_a_optimal(
            self.terms.matrix(cand), cost, left, fixed=fixed, limit=n, jitter=rng.random(cand.size)
        )
        return [int(cand[i]) for i in order]

    def initial_design(self) -> list[int]:
        """The configurations the design picks before any trial, in order (for reports)."""
        state = search_state(self.space, [], [])
        cand = self.open_candidates(state)
        return self.design(state, cand, cand[:0], cand.size, derive_rng(self.seed, self.name))

    def _suggest_indices(self, state: SearchState, n: int) -> list[int]:
        rng = derive_rng(self.seed, self.name, state.n_done, len(state.excluded))
        served = state.ok_y > 0
        ok, y = state.ok_idx[served], state.ok_y[served]
        bad = np.concatenate([state.bad_idx, state.ok_idx[~served]])
        cand = self.open_candidates(state, n)
        p_ok = self.p_runs(cand, ok, bad)
        likely = cand[p_ok >= MIN_RUN_PROBABILITY]
        picks = self.design(state, likely if likely.size >= n else cand, ok, n, rng)
        if len(picks) < n and ok.size == 0:  # nothing to fit yet: design on, budget or not
            rest = cand[~np.isin(cand, picks)]
            picks += self.design(state, rest, ok, n - len(picks), rng, budget=np.inf)
        if len(picks) < n:
            acq = self.predict(self.fit(ok, y), cand) * p_ok
            picks += top_n(acq, cand, n - len(picks), frozenset(picks), rng=rng)
        return picks
