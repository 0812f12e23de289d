"""Curve composition: an unseen model's predicted objective from its operators' resource curves.

A model's time per request is the sum of its operators' times. The profile gives each operator's
share of that time at a reference configuration (the space's median value of every knob); the
KOP resource curves give how an operator's throughput changes over a knob pair. So, before any
trial, the model's relative time at configuration ``x`` is predicted as

    time(x) / time(ref) = Σ_op share_op · τ_op(x) / τ_op(ref)

where ``log τ_op(x)/τ_op(ref)`` combines the operator's pair curves log-additively: every knob's
main effect once (the mean over the curves that vary it) plus every pair's interaction. Curves
over the same knob pair are averaged first (the paper data has several folders per pair). A
curve cell is a relative throughput; values are floored at ``floor`` (the paper's curves are
min-max normalised, so their worst cell is 0 and a ratio needs a floor; the fleet's are
throughput over the best cell, in (0, 1]). Operators without curves are left out and the shares
renormalised over the rest. The predicted throughput ``1 / time`` is scored by the search's
objective at each configuration's price, and divided by its best, like a source table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from falcon_operator.core.objective import Objective
from falcon_operator.core.space import Space
from falcon_operator.knowledge.base import Knowledge
from falcon_operator.knowledge.curves import Curve

Array = NDArray[np.float64]


def _pair_grid(space: Space, curve: Curve, floor: float) -> Array:
    """The curve's log relative time on the space's grid of its knob pair."""
    k1, k2 = space.knob(curve.knob1), space.knob(curve.knob2)
    v1 = np.array([v for v in k1.values for _ in k2.values], dtype=object)
    v2 = np.array([v for _ in k1.values for v in k2.values], dtype=object)
    values = np.maximum(curve.values(v1, v2), floor).reshape(k1.size, k2.size)
    return np.asarray(-np.log(values), dtype=float)


def operator_log_time(
    space: Space, curves: Sequence[Curve], codes: NDArray[np.int64], *, floor: float
) -> Array:
    """``log τ_op(x) / τ_op(ref)`` at the configurations ``codes`` (rows of knob positions)."""
    names = space.names
    ref = np.array([(k.size - 1) // 2 for k in space.knobs], dtype=np.int64)
    groups: dict[tuple[int, int], list[Array]] = {}
    for c in curves:
        if c.knob1 in names and c.knob2 in names and c.knob1 != c.knob2:
            key = (names.index(c.knob1), names.index(c.knob2))
            groups.setdefault(key, []).append(_pair_grid(space, c, floor))
    out = np.zeros(len(codes))
    mains: dict[int, list[Array]] = {}
    for (j1, j2), grids in sorted(groups.items()):
        g = np.mean(grids, axis=0) - np.mean(grids, axis=0)[ref[j1], ref[j2]]
        main1, main2 = g[:, ref[j2]], g[ref[j1], :]
        c1, c2 = codes[:, j1], codes[:, j2]
        out += g[c1, c2] - main1[c1] - main2[c2]  # the pair's interaction
        mains.setdefault(j1, []).append(main1[c1])
        mains.setdefault(j2, []).append(main2[c2])
    for effects in mains.values():
        out += np.mean(effects, axis=0)  # each knob's main effect once
    return out


def composed_throughput(
    space: Space,
    knowledge: Knowledge,
    profile: Mapping[str, float],
    idx: NDArray[np.int64],
    *,
    floor: float = 0.05,
) -> Array | None:
    """Predicted throughput at ``idx`` relative to the reference configuration; None when no
    operator of the profile has a curve over two of the space's knobs."""
    names = set(space.names)
    terms: list[tuple[float, list[Curve]]] = []
    for op, share in sorted(profile.items()):
        curves = [c for c in knowledge.curves_of(op) if {c.knob1, c.knob2} <= names]
        if curves and share > 0:
            terms.append((share, curves))
    if not terms:
        return None
    codes = space.codes(idx)
    total = sum(s for s, _ in terms)
    time = np.zeros(idx.size)
    for share, curves in terms:
        time += share / total * np.exp(operator_log_time(space, curves, codes, floor=floor))
    return np.asarray(1.0 / time, dtype=float)


def composed_row(
    space: Space,
    knowledge: Knowledge,
    profile: Mapping[str, float],
    *,
    objective: Objective | None = None,
    floor: float = 0.05,
) -> Array | None:
    """The composed prediction over the whole space, scored by ``objective`` at each
    configuration's price (throughput alone without one) and divided by its best."""
    idx = space.all_indices()
    rps = composed_throughput(space, knowledge, profile, idx, floor=floor)
    if rps is None:
        return None
    score = objective.scores(rps, objective.cost_function(space)(idx)) if objective else rps
    best = float(score.max())
    return np.asarray(score / best, dtype=float) if best > 0 else None
