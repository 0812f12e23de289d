"""Acquisition functions over discrete candidates: expected improvement, Thompson sampling, and a
feasibility weight learned from infeasible/failed trials."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.stats import norm

Array = NDArray[np.float64]


def expected_improvement(mu: Array, sd: Array, best: float, *, xi: float = 0.0) -> Array:
    """EI of maximising: E[max(0, f(x) - best - xi)] under N(mu, sd²)."""
    sd = np.maximum(sd, 1e-12)
    imp = mu - best - xi
    z = imp / sd
    return np.asarray(imp * norm.cdf(z) + sd * norm.pdf(z), dtype=float)


def thompson(mu: Array, sd: Array, rng: np.random.Generator) -> Array:
    """One independent posterior draw per candidate (marginal Thompson sampling)."""
    return np.asarray(mu + sd * rng.standard_normal(mu.shape), dtype=float)


def feasibility(
    cand: Array, ok: Array, bad: Array, *, length: float = 0.35, prior_ok: float = 1.0
) -> Array:
    """Probability that each candidate runs, from nearby successes and failures.

    A kernel-weighted vote (Nadaraya–Watson with an RBF of ``length`` in the [0, 1] encoding) with
    ``prior_ok`` pseudo-successes at every candidate: far from any failure it stays near 1, next to
    a failure it drops towards the local failure rate.
    """
    if bad.size == 0:
        return np.ones(len(cand))

    def weight(points: Array) -> Array:
        if points.size == 0:
            return np.zeros(len(cand))
        d2 = ((cand[:, None, :] - points[None, :, :]) ** 2).sum(-1)
        return np.asarray(np.exp(-d2 / (2 * length**2)).sum(1), dtype=float)

    w_ok, w_bad = weight(ok), weight(bad)
    return np.asarray((prior_ok + w_ok) / (prior_ok + w_ok + w_bad), dtype=float)
