"""A small numpy MLP meta-learned over tasks with first-order MAML, and its few-shot adaptation.

The regression model of Morphling (Wang et al., SoCC'21): configuration features in, the
model's normalised objective out. A *task* is one source model's table (every cell where it ran,
divided by the table's best value). Meta-training (first-order MAML, Finn et al. 2017 with the
first-order approximation) learns an initialisation from which :func:`adapt` — ``steps`` plain
gradient steps on a few observed points — fits a task well:

- every iteration, each task draws a support set of ``k`` cells (``k`` uniform in 1..``k_max``,
  the same ``k`` for all tasks) and a query set of ``query`` cells;
- support and query values are divided by the support's best value (:func:`unit_scale`, as at
  search time, where the target's units are unknown: the model learns values relative to the
  best trial so far), the parameters adapted on the support with :func:`adapt`, and the query
  loss's gradient
  at the adapted parameters (first order: no second derivatives) averaged over tasks;
- Adam moves the initialisation along it.

Every task is processed at once (batched matrix products over a leading task axis). The
randomness (initial weights, support and query draws) comes from ``seed`` alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
#: weights and biases of the 3-layer MLP: W1, b1, W2, b2, W3, b3 (with an optional task axis)
Params = tuple[Array, Array, Array, Array, Array, Array]


@dataclass(frozen=True)
class MetaSettings:
    """Network size, inner loop and meta-training schedule (docs/algorithm.md, morphling)."""

    hidden: int = 32
    #: gradient steps of the inner loop, at meta-training and at search time alike
    steps: int = 10
    #: step size of the inner loop
    inner_lr: float = 0.2
    #: meta-training iterations (each over every task at once)
    iterations: int = 400
    outer_lr: float = 3e-3
    #: largest support set drawn at meta-training (the search's trial budget)
    k_max: int = 30
    query: int = 128


def init_params(n_features: int, hidden: int, rng: np.random.Generator) -> Params:
    """Glorot-uniform hidden weights, standard-normal output weights (the output layer is
    scaled by 1/sqrt(hidden), so one inner step size suits every layer), zero biases."""

    def glorot(n_in: int, n_out: int) -> Array:
        bound = np.sqrt(6.0 / (n_in + n_out))
        return rng.uniform(-bound, bound, (n_in, n_out))

    return (
        glorot(n_features, hidden),
        np.zeros(hidden),
        glorot(hidden, hidden),
        np.zeros(hidden),
        rng.standard_normal((hidden, 1)),
        np.zeros(1),
    )


def predict(params: Params, x: Array) -> Array:
    """Predictions for ``x`` (rows, or a leading task axis matching batched ``params``)."""
    w1, b1, w2, b2, w3, b3 = params
    h1 = np.tanh(x @ w1 + b1[..., None, :])
    h2 = np.tanh(h1 @ w2 + b2[..., None, :])
    return np.asarray((h2 @ w3)[..., 0] / np.sqrt(w3.shape[-2]) + b3, dtype=float)


def grad(params: Params, x: Array, y: Array, mask: Array | None = None) -> tuple[Params, Array]:
    """Gradient of the mean squared error over the rows of ``x`` (per task when batched), and
    the per-task loss. ``mask`` (0/1 per row) leaves padded rows out."""
    w1, b1, w2, b2, w3, b3 = params
    m = np.ones(y.shape) if mask is None else mask
    count = np.maximum(m.sum(-1, keepdims=True), 1.0)
    h1 = np.tanh(x @ w1 + b1[..., None, :])
    h2 = np.tanh(h1 @ w2 + b2[..., None, :])
    c = 1.0 / np.sqrt(w3.shape[-2])
    err = ((h2 @ w3)[..., 0] * c + b3 - y) * m
    loss = (err**2).sum(-1) / count[..., 0]
    d_out = 2 * err / count
    sw = np.swapaxes
    g_w3 = c * (sw(h2, -1, -2) @ d_out[..., None])
    g_b3 = d_out.sum(-1, keepdims=True)
    d2 = d_out[..., None] * c * sw(w3, -1, -2) * (1 - h2**2)
    g_w2 = sw(h1, -1, -2) @ d2
    d1 = (d2 @ sw(w2, -1, -2)) * (1 - h1**2)
    g_w1 = sw(x, -1, -2) @ d1
    return (g_w1, d1.sum(-2), g_w2, d2.sum(-2), g_w3, g_b3), loss


def adapt(
    params: Params,
    x: Array,
    y: Array,
    *,
    steps: int,
    lr: float,
    mask: Array | None = None,
) -> Params:
    """``steps`` plain gradient steps on the squared error at (``x``, ``y``): the adaptation."""
    for _ in range(steps):
        g, _ = grad(params, x, y, mask)
        params = tuple(p - lr * d for p, d in zip(params, g, strict=True))  # type: ignore[assignment]
    return params


def unit_scale(y: Array, mask: Array | None = None) -> Array:
    """The target's unit: its best observed value (per task when batched), so the observations
    the model adapts to are relative to the best trial so far and a better configuration
    predicts above 1."""
    m = np.ones(y.shape) if mask is None else mask
    return np.asarray(np.maximum(np.abs(y * m).max(-1), 1e-12), dtype=float)


def meta_train(
    x: Array,
    tasks: Array,
    ran: Array,
    *,
    settings: MetaSettings | None = None,
    seed: int = 0,
) -> Params:
    """First-order MAML over ``tasks`` (rows of normalised values at ``x``; ``ran`` marks cells
    with a value). Returns the meta-learned initialisation."""
    s = settings or MetaSettings()
    rng = np.random.default_rng(seed)
    params = init_params(x.shape[1], s.hidden, rng)
    n_tasks = tasks.shape[0]
    cells = [np.flatnonzero(r > 0) for r in ran]
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
    beta1, beta2 = 0.9, 0.999
    for it in range(1, s.iterations + 1):
        k = int(rng.integers(1, s.k_max + 1))
        sup = np.stack([rng.choice(c, size=k, replace=c.size < k) for c in cells])
        qry = np.stack([rng.choice(c, size=s.query, replace=c.size < s.query) for c in cells])
        rows = np.arange(n_tasks)[:, None]
        xs, xq = x[sup], x[qry]
        batched = tuple(np.broadcast_to(p, (n_tasks, *p.shape)) for p in params)
        b = unit_scale(tasks[rows, sup])[:, None]
        fast = adapt(batched, xs, tasks[rows, sup] / b, steps=s.steps, lr=s.inner_lr)  # type: ignore[arg-type]
        g, _ = grad(fast, xq, tasks[rows, qry] / b)
        new = []
        for j, (p, d) in enumerate(zip(params, g, strict=True)):
            d = d.mean(0)
            m1, m2 = moments[j]
            m1 = beta1 * m1 + (1 - beta1) * d
            m2 = beta2 * m2 + (1 - beta2) * d * d
            moments[j] = (m1, m2)
            step = s.outer_lr * (m1 / (1 - beta1**it)) / (np.sqrt(m2 / (1 - beta2**it)) + 1e-8)
            new.append(p - step)
        params = tuple(new)  # type: ignore[assignment]
    return params
