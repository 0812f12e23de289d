"""``gp-ei``: textbook cold Bayesian optimisation whose GP fit does not degenerate on 3 points.

- 3 random starts (seeded), until 3 trials have succeeded.
- A GP on the [0, 1] encoding with targets standardised (``normalize_y``):
  ``C · Matérn5/2(ARD) + White``. The amplitude is bounded to [0.1, 10], every length scale to
  [:data:`LENGTH_BOUNDS`] (neither a spike on each point nor a flat line through them), the
  noise level to [:data:`NOISE_FLOOR`, 0.5] (a floor: the posterior never claims certainty), and
  the marginal likelihood is maximised from :data:`RESTARTS` + 1 starts.
- Expected improvement over every open candidate, multiplied by the probability of feasibility
  learned from the target's failed trials (search/acquisition.py ``feasibility``); the sources'
  feasibility and the space's constraints pick the candidates (search/cold.py).
- ``n`` > 1: kriging believer — each pick is added at its posterior mean before the next (the
  hyperparameters are fitted once per batch).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

from falcon_operator.search.acquisition import expected_improvement, feasibility
from falcon_operator.search.baselines import sample_unexcluded
from falcon_operator.search.cold import ColdStrategy
from falcon_operator.search.strategy import SearchState, derive_rng, top_n
from falcon_operator.search.surrogate import fit_quietly

Array = NDArray[np.float64]

N_RANDOM = 3
LENGTH_BOUNDS = (0.1, 5.0)
NOISE_FLOOR = 1e-3
RESTARTS = 5


def textbook_gp(seed: int, n_features: int) -> GaussianProcessRegressor:
    """The GP ``gp-ei`` fits: bounded hyperparameters, noise floor, several restarts."""
    kernel = ConstantKernel(1.0, (0.1, 10.0)) * Matern(
        length_scale=np.full(n_features, 0.5), length_scale_bounds=LENGTH_BOUNDS, nu=2.5
    ) + WhiteKernel(0.05, (NOISE_FLOOR, 0.5))
    return GaussianProcessRegressor(
        kernel, normalize_y=True, n_restarts_optimizer=RESTARTS, random_state=seed
    )


class GPEIStrategy(ColdStrategy):
    name = "gp-ei"

    def _suggest_indices(self, state: SearchState, n: int) -> list[int]:
        rng = derive_rng(self.seed, self.name, state.n_done, len(state.excluded))
        cand = self.open_candidates(state, n)
        if state.ok_idx.size < N_RANDOM:
            picked = [int(i) for i in rng.permutation(cand)[:n]]
            extra = set(state.excluded) | set(picked)
            return picked + sample_unexcluded(self.space, rng, n - len(picked), extra)
        x, y = self.space.encode(state.ok_idx), state.ok_y
        cx = self.space.encode(cand)
        p_ok = (
            feasibility(cx, x, self.space.encode(state.bad_idx))
            if state.bad_idx.size
            else np.ones(cand.size)
        )
        picks: list[int] = []
        gp = fit_quietly(textbook_gp(self.seed, x.shape[1]), x, y)
        for _ in range(n):
            if picks:  # believer refit with the batch's first hyperparameters, no re-optimising
                gp = fit_quietly(
                    GaussianProcessRegressor(gp.kernel_, normalize_y=True, optimizer=None), x, y
                )
            mu, sd = gp.predict(cx, return_std=True)
            acq = expected_improvement(mu, sd, float(y.max())) * p_ok
            best = top_n(acq, cand, 1, frozenset(picks), rng=rng)
            if not best:
                break
            picks.append(best[0])
            x = np.vstack([x, self.space.encode(np.array(best))])
            y = np.append(y, gp.predict(x[-1:])[0])
        return picks
