"""Window statistics and the stability rule, checked with hand-computed numbers."""

from __future__ import annotations

import math

import pytest

from falcon_trial.windows import WindowStats, is_stable, percentile_ms, pooled, window_stats


def _w(rps: float, p99: float) -> WindowStats:
    return WindowStats(1.0, int(rps), 0, rps, p99 / 2, p99 / 1.5, p99, p99 / 2)


def test_nearest_rank_percentiles() -> None:
    latencies = [i / 1000 for i in range(1, 101)]  # 1..100 ms
    assert percentile_ms(latencies, 50) == pytest.approx(50.0)
    assert percentile_ms(latencies, 90) == pytest.approx(90.0)
    assert percentile_ms(latencies, 99) == pytest.approx(99.0)
    assert percentile_ms([0.007], 99) == pytest.approx(7.0)
    assert math.isnan(percentile_ms([], 99))


def test_window_stats_by_hand() -> None:
    # 4 successes of 10, 20, 30, 40 ms and 1 failure in 2 seconds
    s = window_stats([0.010, 0.020, 0.030, 0.040], errors=1, duration_s=2.0)
    assert s.requests == 4 and s.errors == 1
    assert s.throughput_rps == pytest.approx(2.0)
    assert s.p50_ms == pytest.approx(20.0)
    assert s.p90_ms == pytest.approx(40.0)
    assert s.p99_ms == pytest.approx(40.0)
    assert s.mean_ms == pytest.approx(25.0)
    assert s.error_fraction == pytest.approx(0.2)


def test_a_window_without_successes_has_nan_latencies() -> None:
    s = window_stats([], errors=3, duration_s=1.0)
    assert s.throughput_rps == 0 and math.isnan(s.p99_ms) and s.error_fraction == 1.0


def test_stable_when_the_last_three_agree_within_ten_percent() -> None:
    # early windows disagree; the last three: rps 100, 105, 109 (109 <= 110), p99 10, 10.5, 11
    windows = [_w(50, 30), _w(100, 10), _w(105, 10.5), _w(109, 11)]
    assert is_stable(windows)


def test_unstable_when_throughput_spreads_more_than_ten_percent() -> None:
    assert not is_stable([_w(100, 10), _w(105, 10), _w(111, 10)])  # 111 > 1.1 * 100


def test_unstable_when_p99_spreads_more_than_ten_percent() -> None:
    assert not is_stable([_w(100, 10), _w(100, 10), _w(100, 11.2)])


def test_fewer_windows_than_required_are_not_stable() -> None:
    assert not is_stable([_w(100, 10), _w(100, 10)])
    assert is_stable([_w(100, 10), _w(100, 10)], count=2)


def test_tolerance_is_configurable() -> None:
    windows = [_w(100, 10), _w(120, 10), _w(110, 10)]
    assert not is_stable(windows)
    assert is_stable(windows, tolerance=0.2)


def test_empty_windows_are_never_stable() -> None:
    assert not is_stable([_w(0, math.nan)] * 3)


def test_pooled_figures_cover_all_windows() -> None:
    a = window_stats([0.010] * 3, 0, 1.0)
    b = window_stats([0.020] * 5, 2, 1.0)
    p = pooled([[0.010] * 3, [0.020] * 5], [a, b])
    assert p.requests == 8 and p.errors == 2
    assert p.throughput_rps == pytest.approx(4.0)
    assert p.p50_ms == pytest.approx(20.0)
    assert p.mean_ms == pytest.approx((3 * 10 + 5 * 20) / 8)
