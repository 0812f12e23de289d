"""Acquisition functions over discrete candidates: expected improvement, Thompson sampling, and a
feasibility weight learned from infeasible/failed trials."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import expit
from scipy.stats import norm

from falcon_operator.core.space import Space

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
    points = np.vstack([ok, bad]) if ok.size else bad
    n_ok = len(ok) if ok.size else 0
    w_ok, w_bad = np.zeros(len(cand)), np.empty(len(cand))
    # row blocks keep the (rows × points × dims) differences in cache; the operations and their
    # order are those of the one-shot expression, so the values are bit for bit the same
    for start in range(0, len(cand), _BLOCK):
        rows = slice(start, start + _BLOCK)
        diff = cand[rows, None, :] - points[None, :, :]
        np.square(diff, out=diff)
        kernel = diff.sum(-1)
        np.negative(kernel, out=kernel)
        np.divide(kernel, 2 * length**2, out=kernel)
        np.exp(kernel, out=kernel)
        if n_ok:
            w_ok[rows] = kernel[:, :n_ok].sum(1)
        w_bad[rows] = kernel[:, n_ok:].sum(1)
    return np.asarray((prior_ok + w_ok) / (prior_ok + w_ok + w_bad), dtype=float)


#: candidates per block in :func:`feasibility`
_BLOCK = 256


def logistic_feasibility(
    cand: Array,
    ok: Array,
    bad: Array,
    *,
    base_rate: float = 0.9,
    prior_sd: float = 2.0,
) -> Array:
    """P(trial runs) from a Bayesian logistic regression on configuration features (MAP).

    Weights have a N(0, ``prior_sd``²) prior and the intercept a prior centred on
    logit(``base_rate``), so a lone failure moves little, while failures that share one knob
    value (out of memory at batch 128 on several GPUs) and successes that do not (batch 1 runs)
    put the blame on that value and not on the others: the model explains away, which a
    distance kernel cannot.
    """
    if bad.size == 0:
        return np.ones(len(cand))
    theta = logistic_fit(ok, bad, base_rate=base_rate, prior_sd=prior_sd)
    return np.asarray(expit(cand @ theta[:-1] + theta[-1]), dtype=float)


def logistic_fit(ok: Array, bad: Array, *, base_rate: float = 0.9, prior_sd: float = 2.0) -> Array:
    """The MAP weights of :func:`logistic_feasibility` (the intercept last), to predict many
    candidates with one fit: ``expit(cand @ theta[:-1] + theta[-1])``."""
    x = np.vstack([ok, bad]) if ok.size else bad
    y = np.r_[np.ones(len(ok)), np.zeros(len(bad))]
    sign = 2 * y - 1
    b0 = float(np.log(base_rate / (1 - base_rate)))

    def loss(theta: Array) -> tuple[float, Array]:
        w, b = theta[:-1], theta[-1]
        z = sign * (x @ w + b)
        value = float(np.logaddexp(0, -z).sum() + (w @ w) / (2 * prior_sd**2)
                      + (b - b0) ** 2 / (2 * prior_sd**2))  # fmt: skip
        g = -sign * expit(-z)
        grad = np.r_[x.T @ g + w / prior_sd**2, g.sum() + (b - b0) / prior_sd**2]
        return value, grad

    theta0 = np.r_[np.zeros(x.shape[1]), b0]
    return np.asarray(minimize(loss, theta0, jac=True, method="L-BFGS-B").x, dtype=float)


def source_agreement(
    ran: Array, ok_idx: NDArray[np.int64], bad_idx: NDArray[np.int64], *, error: float
) -> Array:
    """Weights over the sources (rows of ``ran``: 1 where a source ran) by how well each one's
    runnable cells match the target's trials: a source that ran where the target ran and failed
    where it failed agrees; each disagreement costs a factor ``error`` (a source may be wrong)."""
    agree_ok = np.log(np.where(ran[:, ok_idx] > 0, 1 - error, error)).sum(1)
    agree_bad = np.log(np.where(ran[:, bad_idx] > 0, error, 1 - error)).sum(1)
    logw = agree_ok + agree_bad
    w = np.exp(logw - logw.max())
    return np.asarray(w / w.sum(), dtype=float)


def feasibility_features(space: Space, idx: NDArray[np.int64]) -> Array:
    """Encoding plus a one-hot of every ordinal knob's value (so a threshold can be learnt)."""
    codes = space.codes(idx)
    encoded = space.encode(idx)
    ordinal = [j for j, knob in enumerate(space.knobs) if knob.kind == "ordinal"]
    width = encoded.shape[1] + sum(space.knobs[j].size for j in ordinal)
    out = np.zeros((len(idx), width))
    out[:, : encoded.shape[1]] = encoded
    rows, offset = np.arange(len(idx)), encoded.shape[1]
    for j in ordinal:
        out[rows, offset + codes[:, j]] = 1.0
        offset += space.knobs[j].size
    return out
