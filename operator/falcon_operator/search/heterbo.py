"""``heterbo``: HeterBO (Yi et al., IPDPS'20) — Bayesian optimisation that weighs each trial by
what it costs to explore and starts from heuristic rules drawn from other models' results.

HeterBO searches the deployments of a training job with a GP and two additions over plain BO:
the *heterogeneous exploration cost* (profiling an expensive deployment costs more, so expected
improvement is traded against it) and *machine-learning-specific priors*. Our reading, for a
serving search (docs/algorithm.md, ``heterbo``, says what was found and what was adapted):

1. **Prior from other models** (search/heterbo_rules.py): per knob value, the sources' mean
   normalised objective at that value; a configuration's prior is the sum of its values'
   effects. Without source tables the one "model" is the knowledge base's curve prior.
2. **Start**: until :data:`MIN_GP_POINTS` trials succeeded, the open configuration with the
   best prior × P(runs) learnt from the target's failures (ties by the seed).
3. **BO**: ``y = b · prior + GP residual`` (``b`` fitted by least squares, the residual GP of
   ``gp-ei``); acquisition = expected improvement × P(runs) ÷ the configuration's exploration
   cost (its price, relative to the cheapest; 1 without prices). P(runs): the kernel vote and
   the logistic classifier of the target's failures (search/acquisition.py), 1 before any.
4. **Rules that postpone** (a configuration is suggested only once no other is left): where
   fewer than half of the sources ran (each source weighted by how well its runnable cells
   match the target's trials); a knob value at which no source reached :data:`WEAK_LEVEL` of
   its best; a configuration that asks at least as much as a failed trial with at most its
   resources (batch at least as large; no more CPUs, power or MPS memory; same GPU type).

Pending trials and ``n`` > 1: kriging believer (each joins the data at its posterior mean).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from falcon_operator.core.objective import Objective
from falcon_operator.core.space import Space
from falcon_operator.knowledge.base import Knowledge
from falcon_operator.search.acquisition import (
    expected_improvement,
    feasibility,
    feasibility_features,
    logistic_feasibility,
    source_agreement,
)
from falcon_operator.search.baselines import (
    CURVE_SAMPLE,
    RAN_ERROR,
    PriorStrategy,
    candidates,
)
from falcon_operator.search.gp_ei import textbook_gp
from falcon_operator.search.heterbo_rules import (
    additive_prior,
    exploration_cost,
    harder_than_failure,
    has_weak_value,
    knob_effects,
    value_best,
)
from falcon_operator.search.strategy import SearchState, derive_rng, top_n
from falcon_operator.search.surrogate import fit_quietly

Array = NDArray[np.float64]
Index = NDArray[np.int64]
Mask = NDArray[np.bool_]

#: successful trials before the GP is fitted (the prior's best comes first)
MIN_GP_POINTS = 2
#: a knob value at which no source reached this share of its best is postponed
WEAK_LEVEL = 0.5
#: a configuration where fewer than this (weighted) share of the sources ran is postponed
MIN_RAN_FRACTION = 0.5


class HeterBOStrategy(PriorStrategy):
    """The strategy of the module docstring."""

    name = "heterbo"

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
        p = self.prior
        if p.sources is not None and p.source_ran is not None:
            idx, rows, ran = space.all_indices(), p.sources, p.source_ran
        else:
            idx = candidates(space, set(), limit=CURVE_SAMPLE)
            rows = p.mean(idx)[None, :]
            ran = np.ones_like(rows)
        self.grand, self.effects = knob_effects(space, idx, rows, ran)
        self.best = value_best(space, idx, rows, ran)

    def prior_mean(self, idx: Index) -> Array:
        """The additive prior of the sources' knob effects (relative to a model's best)."""
        return additive_prior(self.space, self.grand, self.effects, idx)

    def postponed(self, state: SearchState, cand: Index) -> Mask:
        """The rules that postpone a candidate (see the module docstring, 4)."""
        out = harder_than_failure(self.space, cand, state.bad_idx)
        out |= has_weak_value(self.space, self.best, cand, level=WEAK_LEVEL)
        ran = self.prior.source_ran
        if ran is not None:
            w = source_agreement(ran, state.ok_idx, state.bad_idx, error=RAN_ERROR)
            share = self.prior.ran_fraction(cand, source_weights=w)
            assert share is not None
            out |= share < MIN_RAN_FRACTION
        return out

    def p_runs(self, state: SearchState, cand: Index) -> Array:
        """P(runs) learnt from the target's failures: the kernel vote times the logistic
        classifier over knob values (1 before any failure)."""
        if not state.bad_idx.size:
            return np.ones(cand.size)
        ok_x, bad_x = self.space.encode(state.ok_idx), self.space.encode(state.bad_idx)
        vote = feasibility(self.space.encode(cand), ok_x, bad_x)
        features = [
            feasibility_features(self.space, i) for i in (cand, state.ok_idx, state.bad_idx)
        ]
        return np.asarray(vote * logistic_feasibility(*features), dtype=float)

    def predict(self, idx: Index, y: Array, at: Index) -> tuple[Array, Array | None]:
        """Posterior mean (and sd once the GP is fitted) at ``at`` from ``y`` at ``idx``:
        ``b · prior + GP residual``, ``b`` fitted by least squares (1 without data)."""
        p_obs = self.prior_mean(idx)
        b = float(p_obs @ y) / float(p_obs @ p_obs) if idx.size else 1.0
        b = max(b, 1e-12)
        if idx.size < MIN_GP_POINTS:
            return b * self.prior_mean(at), None
        gp = textbook_gp(self.seed, self.space.encoded_width)
        gp = fit_quietly(gp, self.space.encode(idx), y - b * p_obs)
        r_mu, r_sd = gp.predict(self.space.encode(at), return_std=True)
        return b * self.prior_mean(at) + r_mu, np.asarray(r_sd, dtype=float)

    def _suggest_indices(self, state: SearchState, n: int) -> list[int]:
        rng = derive_rng(self.seed, self.name, state.n_done, len(state.excluded))
        cand = candidates(self.space, state.excluded)
        late = self.postponed(state, cand)
        cost = exploration_cost(self.space, self.objective, cand)
        p_ok = self.p_runs(state, cand)
        idx, y = state.ok_idx, state.ok_y
        for p in sorted(set(state.excluded) - set(map(int, state.tried))):  # believer
            at = np.array([p], dtype=np.int64)
            idx, y = np.append(idx, p), np.append(y, self.predict(idx, y, at)[0])
        picks: list[int] = []
        for _ in range(n):
            mu, sd = self.predict(idx, y, cand)
            if sd is None:  # the start: the prior's best, away from the target's failures
                score = mu * p_ok
            else:
                score = expected_improvement(mu, sd, float(y.max())) * p_ok / cost
            chosen = np.isin(cand, picks)
            keep = ~late & ~chosen if (~late & ~chosen).any() else ~chosen
            best = top_n(score[keep], cand[keep], 1, frozenset(), rng=rng)
            if not best:
                break
            picks.append(best[0])
            idx, y = np.append(idx, best[0]), np.append(y, mu[cand == best[0]])
        return picks
