"""Ernest's optimal experiment design: which few configurations to measure first.

Ernest (NSDI'16, §4.2; ``expt_design.py`` in amplab/ernest) chooses its training experiments
by A-optimal design under a cost budget: with x_i the features of candidate i and c_i its cost,
pick experiments S minimising

    tr( (Σ_{i∈S} x_i x_iᵀ)⁻¹ )   subject to  Σ_{i∈S} c_i ≤ B,

the total variance of the fitted θ. Ernest relaxes S to weights λ_i ∈ [0, 1], solves the convex
program with CVX, and runs the candidates whose weight exceeds 0.3. Here the same criterion is
optimised without a convex solver, by the classic greedy for A-optimal design: starting from the
experiments already made (``fixed``), add the candidate with the largest decrease of the trace
per unit cost, tr(A⁻¹) − tr((A + x xᵀ)⁻¹) = ‖A⁻¹x‖² / (1 + xᵀA⁻¹x) (Sherman–Morrison), among
those the remaining budget affords, until none fits. On Falcon's spaces the relaxation spreads
its weight over many near-identical configurations (the same GPU at three power caps rates
alike), and its 0.3 cut then keeps a handful of twins; the greedy picks one of them and moves
on, which is the spread design the relaxation describes.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

#: a small ridge keeps the information matrix invertible while the design is still thin
RIDGE = 1e-6


def trace_gain(inv: Array, x: Array) -> Array:
    """tr(A⁻¹) − tr((A + x_i x_iᵀ)⁻¹) for each row x_i of ``x``, given ``inv`` = A⁻¹."""
    ax = x @ inv
    return np.asarray(
        np.einsum("ij,ij->i", ax, ax) / (1.0 + np.einsum("ij,ij->i", ax, x)), dtype=float
    )


def greedy_a_optimal(
    x: Array,
    cost: Array,
    budget: float,
    *,
    fixed: Array | None = None,
    limit: int | None = None,
    jitter: Array | None = None,
) -> list[int]:
    """Rows of ``x`` in the order the greedy design adds them (see the module doc).

    ``cost`` (positive) is charged against ``budget``; ``fixed`` holds the feature rows of the
    experiments already made; at most ``limit`` rows are returned. ``jitter`` (tiny, one per
    row) breaks exact ties.
    """
    p = x.shape[1]
    info = RIDGE * np.eye(p)
    if fixed is not None and fixed.size:
        info = info + fixed.T @ fixed
    tie = np.zeros(x.shape[0]) if jitter is None else jitter
    picks: list[int] = []
    left = budget
    open_ = np.ones(x.shape[0], dtype=bool)
    while limit is None or len(picks) < limit:
        affordable = open_ & (cost <= left + 1e-12)
        if not affordable.any():
            break
        inv = np.asarray(np.linalg.inv(info), dtype=float)
        score = trace_gain(inv, x) / cost
        score = np.where(affordable, score * (1.0 + 1e-9 * tie), -np.inf)
        i = int(np.argmax(score))
        picks.append(i)
        open_[i] = False
        left -= float(cost[i])
        info = info + np.outer(x[i], x[i])
    return picks
