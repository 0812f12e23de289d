"""A residual GP whose inputs are *knowledge features* instead of the raw knob encoding.

With source tables the knowledge base says, for every configuration, how each source model fared
there. Two configurations every source rates alike (say, two MPS memory limits that both fit the
model) are, for the target too, most likely alike. Measuring the distance between
configurations in that feature space (one isotropic Matérn length scale) lets the very first
observation inform every configuration the sources cannot tell apart, which a GP over the raw
encoding only learns after many trials (it must first find out which knobs do not matter).

The GP is used from the first observation. Its length scale starts at the median distance
between configurations' feature vectors and its hyperparameters are only fitted once
``fit_after`` observations exist (before that the offline estimate is the better guess).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

from falcon_operator.search.surrogate import PriorFn, PriorGP, SurrogateSettings

Array = NDArray[np.float64]


def median_distance(features: Array, *, sample: int = 2000, seed: int = 0) -> float:
    """Median pairwise Euclidean distance between distinct rows of a sample of ``features``."""
    rng = np.random.default_rng(seed)
    rows = features if len(features) <= sample else features[rng.choice(len(features), sample)]
    a, b = (
        rows[rng.integers(len(rows), size=4 * sample)],
        rows[rng.integers(len(rows), size=4 * sample)],
    )
    d = np.sqrt(((a - b) ** 2).sum(1))
    d = d[d > 1e-12]
    return float(np.median(d)) if d.size else 1.0


class FeatureGP(PriorGP):
    """``y = b · prior + GP(features)``: an isotropic GP on knowledge features, from trial one."""

    #: observations before the kernel's hyperparameters are fitted to the target's own data
    fit_after: int = 6

    def __init__(
        self,
        features: Callable[[NDArray[np.int64]], Array],
        prior: PriorFn,
        *,
        length_scale: float,
        settings: SurrogateSettings | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(features, prior, settings=settings, seed=seed)
        self.length_scale = max(length_scale, 1e-6)

    def fit(self, idx: NDArray[np.int64], y: Array) -> PriorGP:
        super().fit(idx, y)  # scale and sigma; fits the residual only past min_gp_points
        if 0 < idx.size < self.settings.min_gp_points:
            p = self.prior(idx)
            self._fit_residual(idx, (y - self.scale * p) / self.sigma)
        return self

    def _fit_residual(self, idx: NDArray[np.int64], resid: Array) -> None:
        ls = self.length_scale
        fitted = idx.size >= self.fit_after
        kernel = ConstantKernel(1.0, (0.1, 10.0)) * Matern(
            length_scale=ls, length_scale_bounds=(ls / 4, ls * 4), nu=self.settings.nu
        ) + WhiteKernel(1e-2, (1e-4, 0.5))
        gp = GaussianProcessRegressor(
            kernel,
            normalize_y=False,
            random_state=self.seed,
            optimizer="fmin_l_bfgs_b" if fitted else None,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            gp.fit(self.encode(idx), resid)
        self.gp = gp
