"""Twins of a pending configuration: those the surrogate cannot tell apart from it.

A Kriging believer adds each pending (or already picked) configuration to the data at its
posterior mean. That lowers the expected improvement near it only where the GP's covariance
reaches, and not at all before the GP is fitted (fewer than ``min_gp_points`` successes, when the
acquisition is the posterior mean): one batch could then hold the same configuration at four MPS
memory limits. Exact conditioning would give a configuration that the model predicts exactly
like a pending one (same mean, same feasibility) no improvement left, since the believer's
fantasy already "measured" it; this module finds those configurations so the batch skips them.

Operationally, a knob's value is *indifferent* at configuration ``p`` when setting that knob
alone to it changes neither the posterior mean of the objective nor the sources' share that ran
there by more than ``tolerance`` (relative); the twins of ``p`` are the configurations that
differ from ``p`` only in knobs set to indifferent values (e.g. another MPS memory limit, or a
power cap the model predicts costs under 10 %).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from falcon_operator.core.space import Space

Array = NDArray[np.float64]
Index = NDArray[np.int64]
#: objective-unit posterior mean (and the sources' ran share, or None) at indices
Predict = Callable[[Index], tuple[Array, Array | None]]


def strides(space: Space) -> Index:
    """Index step of one value of each knob (the last knob varies fastest)."""
    radices = np.array(space.radices, dtype=np.int64)
    return np.concatenate([np.cumprod(radices[::-1])[::-1][1:], [1]]).astype(np.int64)


def knob_line(space: Space, index: int, j: int) -> Index:
    """The configurations that differ from ``index`` only in knob ``j`` (``index`` included)."""
    code = int(space.codes(np.array([index], dtype=np.int64))[0, j])
    step = int(strides(space)[j])
    return index + (np.arange(space.knobs[j].size, dtype=np.int64) - code) * step


def _close(values: Array, at: int, tolerance: float) -> NDArray[np.bool_]:
    ref = abs(float(values[at]))
    return np.asarray(np.abs(values - values[at]) <= tolerance * max(ref, 1e-12))


def indifferent_moves(
    space: Space, index: int, predict: Predict, *, tolerance: float
) -> list[Index]:
    """Per knob, the index steps to the values the model says do not matter at ``index``
    (0, staying, always among them; module docstring)."""
    out: list[Index] = []
    codes = space.codes(np.array([index], dtype=np.int64))[0]
    for j, step in enumerate(strides(space)):
        line = knob_line(space, index, j)
        at = int(codes[j])
        mean, ran = predict(line)
        keep = _close(mean, at, tolerance)
        if ran is not None:
            keep &= _close(ran, at, tolerance)
        out.append((np.flatnonzero(keep).astype(np.int64) - at) * int(step))
    return out


def twins(space: Space, index: int, predict: Predict, *, tolerance: float) -> set[int]:
    """Configurations other than ``index`` differing from it only in indifferent values."""
    delta = np.zeros(1, dtype=np.int64)
    for moves in indifferent_moves(space, index, predict, tolerance=tolerance):
        if moves.size > 1:
            delta = np.add.outer(delta, moves).ravel()
    return {index + int(d) for d in delta if d}
