"""The concurrency sweep stops at the knee (gain below 5%, SLO broken, or the maximum)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from falcon_trial.measure import Measurement
from falcon_trial.sweep import levels, run_sweep
from falcon_trial.windows import WindowStats


def _m(c: int, rps: float, p99: float) -> Measurement:
    s = WindowStats(1.0, int(rps), 0, rps, p99, p99, p99, p99)
    return Measurement(c, True, (s,), s)


def _table(
    rows: Mapping[int, tuple[float, float]],
) -> tuple[Callable[[int], Measurement], list[int]]:
    asked: list[int] = []

    def measure_at(c: int) -> Measurement:
        asked.append(c)
        return _m(c, *rows[c])

    return measure_at, asked


def test_levels_double_and_end_at_the_maximum() -> None:
    assert levels(1) == [1]
    assert levels(8) == [1, 2, 4, 8]
    assert levels(12) == [1, 2, 4, 8, 12]


def test_stops_when_the_gain_falls_below_five_percent() -> None:
    rows = {1: (100, 10), 2: (190, 10.5), 4: (300, 13), 8: (310, 25), 16: (320, 50)}
    measure_at, asked = _table(rows)
    result = run_sweep(measure_at, 16)
    assert asked == [1, 2, 4, 8]
    assert result.reason == "gain" and result.chosen.concurrency == 4
    assert [s.concurrency for s in result.steps] == [1, 2, 4, 8]


def test_stops_when_p99_breaks_the_slo() -> None:
    rows = {1: (100, 10), 2: (190, 15), 4: (350, 30), 8: (600, 60)}
    measure_at, asked = _table(rows)
    result = run_sweep(measure_at, 8, slo_p99_ms=20)
    assert asked == [1, 2, 4]
    assert result.reason == "slo" and result.chosen.concurrency == 2


def test_slo_broken_at_concurrency_one_chooses_it_anyway() -> None:
    measure_at, _ = _table({1: (100, 80), 2: (150, 90)})
    result = run_sweep(measure_at, 2, slo_p99_ms=50)
    assert result.reason == "slo" and result.chosen.concurrency == 1 and len(result.steps) == 1


def test_reaching_the_maximum_chooses_the_last_step() -> None:
    measure_at, _ = _table({1: (100, 10), 2: (200, 10), 4: (400, 10)})
    result = run_sweep(measure_at, 4)
    assert result.reason == "max" and result.chosen.concurrency == 4
