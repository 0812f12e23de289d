"""Concurrency sweep: 1, 2, 4, ... up to a maximum, stopping at the knee.

After each step the sweep stops when the p99 SLO is broken (the knee is the previous step, or
the first step when even that breaks it: ``reason "slo"``) or when throughput grew by less than
``min_gain`` over the previous step (the knee is the previous step: doubling the concurrency
bought nothing but latency; ``reason "gain"``). Reaching the maximum makes the last step the knee
(``reason "max"``). The logic is pure: ``run_sweep`` takes the measuring function.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from falcon_trial.measure import Measurement


@dataclasses.dataclass(frozen=True)
class SweepResult:
    """Every step measured and the index of the chosen one (the knee)."""

    steps: tuple[Measurement, ...]
    knee: int
    reason: str
    """``gain``, ``slo`` or ``max``."""

    @property
    def chosen(self) -> Measurement:
        """The knee step."""
        return self.steps[self.knee]


def levels(maximum: int) -> list[int]:
    """1, 2, 4, ... below ``maximum``, then ``maximum`` itself."""
    out = []
    c = 1
    while c < maximum:
        out.append(c)
        c *= 2
    return [*out, maximum]


def _breaks_slo(m: Measurement, slo_p99_ms: float | None) -> bool:
    return slo_p99_ms is not None and not m.summary.p99_ms <= slo_p99_ms


def run_sweep(
    measure_at: Callable[[int], Measurement],
    maximum: int,
    *,
    min_gain: float = 0.05,
    slo_p99_ms: float | None = None,
) -> SweepResult:
    """Measure each level in turn until the knee (see the module docstring)."""
    steps: list[Measurement] = []
    for concurrency in levels(maximum):
        step = measure_at(concurrency)
        steps.append(step)
        if _breaks_slo(step, slo_p99_ms):
            return SweepResult(tuple(steps), max(0, len(steps) - 2), "slo")
        if len(steps) > 1:
            before = steps[-2].summary.throughput_rps
            if step.summary.throughput_rps < before * (1.0 + min_gain):
                return SweepResult(tuple(steps), len(steps) - 2, "gain")
    return SweepResult(tuple(steps), len(steps) - 1, "max")
