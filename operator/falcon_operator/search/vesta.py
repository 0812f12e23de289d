"""``vesta``: Vesta (ICPP'21) — the target's performance model transferred from the most similar
historical workloads, updated with the target's own trials, and Bayesian optimisation on it.

The Falcon paper's slides summarise Vesta as "leverages transfer learning to reuse historical
data"; the paper itself could not be read here (docs/algorithm.md, ``vesta``, says what was
searched and what is therefore our reading). One suggestion, recomputed from the history:

1. **Historical models.** One per source model: its table over the space, divided by its best
   value (cells where it did not run are 0). Without source tables the only historical model
   is the knowledge base's curve prior for the target (priced by the objective).
2. **Similarity.** How unlike the target each historical workload is: the share of the
   target's pairs of successful trials that it orders the other way (ties count half), plus the
   share of the target's trials whose feasibility it gets wrong (it did not run where the target
   ran, or ran where the target failed). Ties, and the start before any pair, are broken by the
   operator-profile distance (the workload characterisation Falcon gets too). The
   :data:`TOP_K` most similar are kept, with every source as similar as the K-th (all of them
   while nothing tells them apart).
3. **Transfer.** Each kept model is mapped to the target's units by an affine fit
   ``y ≈ a · model + b`` (``a ≥ 0``) on the target's successful trials (a scale alone below
   :data:`MIN_AFFINE_POINTS` of them; none before any). The transferred model is their mean;
   their spread is its uncertainty. From :data:`MIN_GP_POINTS` trials on, a GP on the target's
   residuals (its own deviations from the transferred model) updates it.
4. **Acquisition.** Expected improvement over the best trial (the transferred model's mean
   before any success), times the feasibility the kept sources' runs suggest (their ran share to
   the power :data:`RAN_POWER`, as for ``morphling``) and, once trials failed, the kernel vote
   and the logistic classifier learnt from them (search/acquisition.py). Ties by the run's seed.

Pending trials and ``n`` > 1: a Kriging believer — each pending trial and each pick joins the
residual GP's data at its predicted value before the next pick.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

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
)
from falcon_operator.search.baselines import (
    RAN_POWER,
    PriorStrategy,
    candidates,
)
from falcon_operator.search.strategy import SearchState, derive_rng, top_n
from falcon_operator.search.surrogate import fit_quietly, plain_gp

Array = NDArray[np.float64]
Index = NDArray[np.int64]

#: historical workloads transferred (the most similar ones)
TOP_K = 3
#: successful trials (with believed ones) before the residual GP is fitted
MIN_GP_POINTS = 3
#: successful trials before the transfer map gets an offset (a scale alone before: an affine
#: map through two points interpolates them exactly and extrapolates wildly)
MIN_AFFINE_POINTS = 3
#: spread of the target around the transferred model before the GP, relative to its values
SPREAD = 0.1


@dataclass(frozen=True)
class Transfer:
    """The transferred model: the kept historical models and their maps to the target."""

    chosen: Index  #: rows of the historical models kept
    a: Array  #: scale of each kept model
    b: Array  #: offset of each kept model


def ranking_loss(models: Array, y: Array) -> Array:
    """Per model (row of ``models`` at the trials), the share of the pairs of trials with
    different values that it orders the other way; ties in the model count half. 0 without
    such pairs."""
    dy = np.sign(y[:, None] - y[None, :])
    upper = np.triu(np.ones_like(dy, dtype=bool), 1) & (dy != 0)
    if not upper.any():
        return np.zeros(len(models))
    dm = np.sign(models[:, :, None] - models[:, None, :])
    wrong = np.where(dm == 0, 0.5, (dm != dy[None]).astype(float))
    return np.asarray(wrong[:, upper].mean(1), dtype=float)


def affine_fit(h: Array, y: Array) -> tuple[float, float]:
    """``a ≥ 0, b`` with ``y ≈ a · h + b`` by least squares: a scale alone below
    :data:`MIN_AFFINE_POINTS` trials or distinct model values, ``(0, mean y)`` when the model
    orders the trials the wrong way round, ``(1, 0)`` without observations."""
    if y.size == 0:
        return 1.0, 0.0
    if y.size >= MIN_AFFINE_POINTS and float(np.ptp(h)) > 0:
        (a, b), *_ = np.linalg.lstsq(np.c_[h, np.ones_like(h)], y, rcond=None)
        return (float(a), float(b)) if a >= 0 else (0.0, float(y.mean()))
    hh = float(h @ h)
    a = max(float(h @ y) / hh, 0.0) if hh > 0 else 0.0
    return (a, 0.0) if a > 0 else (0.0, float(y.mean()))


class VestaStrategy(PriorStrategy):
    """The transfer-learning search of the module docstring."""

    name = "vesta"

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
        p = self.prior
        self.best: Array | None = None
        if p.sources is not None and p.source_ran is not None:
            ran_best = np.where(p.source_ran > 0, p.sources, -np.inf).max(1, initial=0.0)
            self.best = np.maximum(ran_best, 1e-12)
        dist = p.profile_distances()
        self.distance: Array = dist if dist is not None else np.zeros(self.n_models)

    @property
    def n_models(self) -> int:
        return len(self.prior.sources) if self.prior.sources is not None else 1

    def models(self, idx: Index) -> Array:
        """The historical models at ``idx`` (one row each)."""
        if self.prior.sources is None or self.best is None:
            return self.prior.mean(idx)[None, :]
        return np.asarray(self.prior.sources[:, idx] / self.best[:, None], dtype=float)

    def dissimilarity(self, state: SearchState) -> Array:
        """Per historical model: ranking loss on the target's successes plus the share of the
        target's trials whose feasibility it gets wrong (module docstring, step 2)."""
        loss = ranking_loss(self.models(state.ok_idx), state.ok_y)
        ran = self.prior.source_ran
        n = state.ok_idx.size + state.bad_idx.size
        if ran is not None and n:
            wrong = (ran[:, state.ok_idx] == 0).sum(1) + (ran[:, state.bad_idx] > 0).sum(1)
            loss = loss + wrong / n
        return loss

    def transfer(self, state: SearchState) -> Transfer:
        """The kept models and their affine maps to the target (module docstring, steps 2-3)."""
        loss = np.round(self.dissimilarity(state), 12)
        order = np.lexsort((np.arange(loss.size), self.distance, loss))
        k = min(TOP_K, order.size) - 1
        tied = (loss == loss[order[k]]) & (self.distance == self.distance[order[k]])
        chosen = np.union1d(order[: k + 1], np.flatnonzero(tied)).astype(np.int64)
        h = self.models(state.ok_idx)[chosen]
        fits = [affine_fit(row, state.ok_y) for row in h]
        return Transfer(chosen, np.array([f[0] for f in fits]), np.array([f[1] for f in fits]))

    def p_runs(self, state: SearchState, t: Transfer, cand: Index) -> Array:
        """Feasibility weight of each candidate: the kept sources' runs, the target's failures."""
        p = np.ones(cand.size)
        if self.prior.source_ran is not None:
            w = np.zeros(self.n_models)
            w[t.chosen] = 1.0 / t.chosen.size
            ran = self.prior.ran_fraction(cand, source_weights=w)
            assert ran is not None
            p = p * ran**RAN_POWER
        if state.bad_idx.size:
            ok_x, bad_x = self.space.encode(state.ok_idx), self.space.encode(state.bad_idx)
            p = p * feasibility(self.space.encode(cand), ok_x, bad_x)

            def features(idx: Index) -> Array:
                return feasibility_features(self.space, idx)

            p = p * logistic_feasibility(
                features(cand), features(state.ok_idx), features(state.bad_idx)
            )
        return p

    def transferred(self, t: Transfer, idx: Index) -> tuple[Array, Array]:
        """Mean and spread of the kept models, mapped to the target, at ``idx``."""
        pred = t.a[:, None] * self.models(idx)[t.chosen] + t.b[:, None]
        return pred.mean(0), pred.std(0)

    def predict(
        self, t: Transfer, idx: Index, y: Array, cand: Index, cx: Array
    ) -> tuple[Array, Array]:
        """Posterior mean and sd at ``cand``: the transferred model updated with ``(idx, y)``."""
        mu, spread = self.transferred(t, cand)
        typical = float(np.mean(np.abs(y))) if y.size else float(np.mean(np.abs(mu)))
        if idx.size < MIN_GP_POINTS:
            return mu, np.sqrt(spread**2 + (SPREAD * typical) ** 2)
        resid = y - self.transferred(t, idx)[0]
        gp = fit_quietly(plain_gp(self.seed, cx.shape[1]), self.space.encode(idx), resid)
        r_mu, r_sd = gp.predict(cx, return_std=True)
        return mu + r_mu, np.sqrt(spread**2 + r_sd**2)

    def _suggest_indices(self, state: SearchState, n: int) -> list[int]:
        rng = derive_rng(self.seed, self.name, state.n_done, len(state.excluded))
        t = self.transfer(state)
        cand = candidates(self.space, state.excluded)
        cx = self.space.encode(cand)
        p_ok = self.p_runs(state, t, cand)
        idx, y = state.ok_idx, state.ok_y
        pending = np.array(sorted(set(state.excluded) - set(map(int, state.tried))), np.int64)
        if pending.size:  # believer: pending trials at their predicted values
            believed, _ = self.predict(t, idx, y, pending, self.space.encode(pending))
            idx, y = np.concatenate([idx, pending]), np.concatenate([y, believed])
        picks: list[int] = []
        for _ in range(n):
            mu, sd = self.predict(t, idx, y, cand, cx)
            if state.ok_idx.size == 0:
                acq = np.maximum(mu - float(mu.min()), 0.0) + 1e-9
            else:
                acq = expected_improvement(mu, sd, float(state.ok_y.max()))
            best = top_n(acq * p_ok, cand, 1, frozenset(picks), rng=rng)
            if not best:
                break
            picks.append(best[0])
            at = int(np.searchsorted(cand, best[0]))
            idx, y = np.append(idx, best[0]), np.append(y, float(mu[at]))
        return picks
