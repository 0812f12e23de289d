"""Surrogate: a scikit-learn Gaussian process on the residual between observations and a prior.

The prior mean comes from the knowledge base (in the knowledge base's units); the surrogate first
fits a positive scale ``b`` so that ``y ≈ b · prior`` (objective units differ between tables and
clusters), then a GP on the standardised residuals. With fewer than ``min_gp_points``
observations no GP is fitted and the posterior is the scaled prior with the prior's spread.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

Array = NDArray[np.float64]
PriorFn = Callable[[NDArray[np.int64]], Array]


@dataclass(frozen=True)
class SurrogateSettings:
    """How the residual GP is built."""

    #: observations needed before a GP is fitted on the residuals
    min_gp_points: int = 3
    #: Matérn smoothness
    nu: float = 2.5
    #: bounds of the (ARD) length scales in the [0, 1] encoding
    length_scale_bounds: tuple[float, float] = (0.05, 20.0)
    #: bounds of the white-noise level, as a fraction of the residual variance
    noise_bounds: tuple[float, float] = (1e-4, 1.0)
    #: keep the residual GP only if it beats "residual = white noise" by the BIC penalty of its
    #: extra hyperparameters (Occam's razor); otherwise trust the prior alone
    occam_gate: bool = True
    #: spread (σ) of a target around the prior, relative to the prior's typical value, used
    #: before the GP has data and as the GP's signal amplitude prior
    prior_spread: float = 0.1


class PriorGP:
    """Posterior of ``y(x) = b · prior(x) + GP residual`` over encoded configurations."""

    def __init__(
        self,
        encode: Callable[[NDArray[np.int64]], Array],
        prior: PriorFn,
        *,
        settings: SurrogateSettings | None = None,
        seed: int = 0,
    ) -> None:
        self.encode = encode
        self.prior = prior
        self.settings = settings or SurrogateSettings()
        self.seed = seed
        self.scale = 1.0
        self.sigma = 1.0
        self.gp: GaussianProcessRegressor | None = None

    def fit(self, idx: NDArray[np.int64], y: Array) -> PriorGP:
        st = self.settings
        p = self.prior(idx) if idx.size else np.empty(0)
        if idx.size and float(p @ p) > 0:
            self.scale = max(float(y @ p) / float(p @ p), 1e-12)
        elif idx.size:
            self.scale = max(float(np.mean(np.abs(y))), 1e-12)
        typical = float(np.mean(np.abs(y))) if idx.size else 1.0
        self.sigma = max(st.prior_spread * typical, 1e-12)
        self.gp = None
        if idx.size >= st.min_gp_points:
            self._fit_residual(idx, (y - self.scale * p) / self.sigma)
        return self

    def _fit_residual(self, idx: NDArray[np.int64], resid: Array) -> None:
        """Fit the residual GP; keep it only if it passes the Occam gate."""
        st = self.settings
        kernel = _kernel(self.encode(idx[:1]).shape[1], st)
        gp = GaussianProcessRegressor(kernel, normalize_y=False, random_state=self.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            gp.fit(self.encode(idx), resid)
        if not st.occam_gate or _beats_white_noise(gp, resid):
            self.gp = gp

    def to_model(self, y: Array) -> Array:
        """Objective values in the units ``predict`` works in (identity here)."""
        return y

    def from_model(self, z: float) -> float:
        return z

    def predict(self, idx: NDArray[np.int64]) -> tuple[Array, Array]:
        """Posterior mean and standard deviation (objective units) at ``idx``."""
        mu = self.scale * self.prior(idx)
        if self.gp is None:
            return mu, np.full(idx.size, self.sigma)
        r_mu, r_sd = self.gp.predict(self.encode(idx), return_std=True)
        return mu + self.sigma * r_mu, self.sigma * np.maximum(r_sd, 1e-9)


def _kernel(n_features: int, st: SurrogateSettings) -> Any:
    return ConstantKernel(1.0, (1e-2, 1e2)) * Matern(
        length_scale=np.full(n_features, 0.5), length_scale_bounds=st.length_scale_bounds, nu=st.nu
    ) + WhiteKernel(0.1, st.noise_bounds)


def _beats_white_noise(gp: GaussianProcessRegressor, resid: Array) -> bool:
    """BIC comparison of the fitted GP against i.i.d. Gaussian residuals."""
    n = resid.size
    var = max(float(np.mean(resid**2)), 1e-12)
    lml_noise = -0.5 * n * (np.log(2 * np.pi * var) + 1.0)
    extra = len(gp.kernel_.theta) - 1  # hyperparameters beyond the noise level
    return bool(gp.log_marginal_likelihood_value_ - lml_noise > 0.5 * extra * np.log(n))


def plain_gp(seed: int, n_features: int) -> GaussianProcessRegressor:
    """A cold GP (constant mean via normalize_y) for baselines without a prior."""
    kernel = ConstantKernel(1.0, (1e-2, 1e2)) * Matern(
        length_scale=np.full(n_features, 0.5), length_scale_bounds=(0.05, 20.0), nu=2.5
    ) + WhiteKernel(1e-2, (1e-6, 1.0))
    return GaussianProcessRegressor(kernel, normalize_y=True, random_state=seed)


def fit_quietly(gp: GaussianProcessRegressor, x: Array, y: Array) -> GaussianProcessRegressor:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gp.fit(x, y)
    return gp


class LogPriorGP(PriorGP):
    """The same model on ``log y``: ``log y = a + log prior(x) + GP residual``.

    For priors that only know the *shape* of a response (KOP resource curves: min-max normalised
    throughput divided by price), not its scale: the offset ``a`` is fitted, effects multiply,
    and the residual spread ``prior_spread`` is in log units (1.0 ≈ a factor e either way), so the
    search trusts the curves' ranking only as far as the data agrees.
    """

    log_floor: float = 1e-3  #: smallest prior value taken seriously (curves reach 0)

    def to_model(self, y: Array) -> Array:
        return np.log(np.maximum(y, 1e-300))

    def _log_prior(self, idx: NDArray[np.int64]) -> Array:
        return np.log(np.maximum(self.prior(idx), self.log_floor * self._prior_max))

    def fit(self, idx: NDArray[np.int64], y: Array) -> PriorGP:
        st = self.settings
        self._prior_max = float(np.max(self.prior(idx))) if idx.size else 1.0
        self._prior_max = max(self._prior_max, 1e-300)
        z = self.to_model(y)
        lp = self._log_prior(idx) if idx.size else np.empty(0)
        self.offset = float(np.mean(z - lp)) if idx.size else 0.0
        self.sigma = st.prior_spread
        self.gp = None
        if idx.size >= st.min_gp_points:
            self._fit_residual(idx, (z - self.offset - lp) / self.sigma)
        return self

    def predict(self, idx: NDArray[np.int64]) -> tuple[Array, Array]:
        """Posterior mean and standard deviation of ``log y`` at ``idx``."""
        mu = self.offset + self._log_prior(idx)
        if self.gp is None:
            return mu, np.full(idx.size, self.sigma)
        r_mu, r_sd = self.gp.predict(self.encode(idx), return_std=True)
        return mu + self.sigma * r_mu, self.sigma * np.maximum(r_sd, 1e-9)

    def from_model(self, z: float) -> float:
        return float(np.exp(z))
