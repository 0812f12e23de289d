"""The heuristic rules ``heterbo`` (search/heterbo.py) draws from other models and from the target.

Each rule is a small pure function over a space's indices, so that each can be checked alone:

- :func:`knob_effects` and :func:`additive_prior` — the *prior features* of the other models:
  for every knob value, the mean over the source models (each divided by its own best, only the
  cells where it ran) of the objective at configurations with that value; a configuration's
  prior is the sum of its values' effects (an additive main-effects model).
- :func:`value_best` and :func:`has_weak_value` — a knob value at which no source model came
  within ``level`` of its own best is weak (postponed while other configurations remain).
- :func:`harder_than_failure` — a failed trial rules out the configurations that ask at least as
  much with at most its resources: a batch at least as large, no more CPUs, no higher power
  cap, no larger MPS memory limit, the same GPU type (out of memory and a broken latency SLO
  only get worse that way).
- :func:`exploration_cost` — what one trial at each configuration costs, relative to the
  cheapest: its price per hour (a trial runs for about the same time everywhere).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from falcon_operator.core.knobs import BATCH, CPUS, GPU, GPU_MEMORY, POWER
from falcon_operator.core.objective import Objective
from falcon_operator.core.space import Space

Array = NDArray[np.float64]
Index = NDArray[np.int64]
Mask = NDArray[np.bool_]


def normalised(rows: Array, ran: Array) -> Array:
    """Each row divided by its best value where it ran (rows that never ran stay 0)."""
    best = np.where(ran > 0, rows, -np.inf).max(axis=1, initial=-np.inf)
    scale = np.where(np.isfinite(best) & (best > 0), best, 1.0)
    return np.asarray(np.where(ran > 0, rows, 0.0) / scale[:, None], dtype=float)


def knob_effects(space: Space, idx: Index, rows: Array, ran: Array) -> tuple[float, list[Array]]:
    """The mean normalised objective of the rows' runs, and per knob, per value, the same mean
    over the runs at that value.

    ``rows`` and ``ran`` are (models × ``idx``); a value at which no row ran gets 0.
    """
    values, weight = normalised(rows, ran), (ran > 0).astype(float)
    grand = float((values * weight).sum() / max(weight.sum(), 1.0))
    codes = space.codes(idx)
    effects: list[Array] = []
    for j, knob in enumerate(space.knobs):
        onehot = (codes[:, j][:, None] == np.arange(knob.size)[None, :]).astype(float)
        total = (values * weight).sum(0) @ onehot
        count = weight.sum(0) @ onehot
        effects.append(np.asarray(np.where(count > 0, total / np.maximum(count, 1), 0.0)))
    return grand, effects


def additive_prior(
    space: Space, grand: float, effects: list[Array], idx: Index, *, floor: float = 1e-3
) -> Array:
    """``grand + Σ_k (effect_k(value_k) − grand)`` at ``idx``, floored at ``floor``."""
    codes = space.codes(idx)
    out = np.full(idx.size, grand)
    for j, e in enumerate(effects):
        out += e[codes[:, j]] - grand
    return np.asarray(np.maximum(out, floor), dtype=float)


def value_best(space: Space, idx: Index, rows: Array, ran: Array) -> list[Array]:
    """Per knob, per value: the best normalised objective any row reached at that value (0 where
    none ran). A value whose best is under a level is *weak*: no model seen did well with it."""
    values = normalised(rows, ran).max(0)
    codes = space.codes(idx)
    out: list[Array] = []
    for j, knob in enumerate(space.knobs):
        best = np.zeros(knob.size)
        np.maximum.at(best, codes[:, j], values)
        out.append(best)
    return out


def has_weak_value(space: Space, best: list[Array], idx: Index, *, level: float) -> Mask:
    """Whether each of ``idx`` has a knob value whose :func:`value_best` is under ``level``."""
    codes = space.codes(idx)
    weak = np.zeros(idx.size, dtype=bool)
    for j, b in enumerate(best):
        weak |= b[codes[:, j]] < level
    return weak


#: knobs whose larger values ask more of a configuration (a failure there stays a failure)
HARDER_UP = (BATCH,)
#: knobs whose larger values give it more (a failure with more stays a failure with less)
HARDER_DOWN = (CPUS, POWER, GPU_MEMORY)


def resource_levels(space: Space, idx: Index) -> Array:
    """Each configuration's knob values as numbers, a ``gpumem`` of 0 (no MPS limit: the whole
    GPU) as infinity; categorical knobs as their codes."""
    codes = space.codes(idx)
    out = np.empty(codes.shape)
    for j, knob in enumerate(space.knobs):
        if knob.kind == "categorical":
            out[:, j] = codes[:, j]
            continue
        values = np.array(knob.values, dtype=float)
        if knob.name == GPU_MEMORY:
            values = np.where(values <= 0, np.inf, values)
        out[:, j] = values[codes[:, j]]
    return out


def harder_than_failure(space: Space, cand: Index, bad: Index) -> Mask:
    """Whether each candidate asks at least as much as a failed configuration with at most its
    resources: the same value of every other knob (GPU type, …), a batch at least as large, no
    more CPUs, no higher power cap and no larger MPS memory limit."""
    out = np.zeros(cand.size, dtype=bool)
    if bad.size == 0:
        return out
    c, f = resource_levels(space, cand), resource_levels(space, bad)
    up = np.array([n in HARDER_UP for n in space.names])
    down = np.array([n in HARDER_DOWN for n in space.names])
    same = ~up & ~down
    for row in f:
        out |= (
            (c[:, same] == row[same]).all(1)
            & (c[:, up] >= row[up]).all(1)
            & (c[:, down] <= row[down]).all(1)
        )
    return out


def exploration_cost(space: Space, objective: Objective | None, idx: Index) -> Array:
    """Price per hour at ``idx`` divided by the cheapest of them (1 everywhere without prices:
    no objective, or a space without a GPU-type and a CPU knob)."""
    if objective is None or GPU not in space.names or CPUS not in space.names:
        return np.ones(idx.size)
    price = objective.cost_function(space)(idx)
    cheapest = float(price[price > 0].min()) if (price > 0).any() else 1.0
    return np.asarray(np.maximum(price, cheapest) / cheapest, dtype=float)
