"""Window statistics and the stability rule (pure functions, no clocks).

A window is the set of requests that completed while it was open. Its throughput counts
successful requests per second; latency percentiles use the nearest-rank method (p99 of
1..100 ms is 99 ms) over successful requests. The last ``count`` windows are *stable* when, for
throughput and for p99 alike, ``max <= (1 + tolerance) * min`` (perf_analyzer's rule: 3 windows,
10%). The reported figure pools those windows: all their latencies, all their requests over
their total duration.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

NAN = float("nan")


@dataclasses.dataclass(frozen=True)
class WindowStats:
    """One window (or several pooled): counts, throughput and latency in milliseconds."""

    duration_s: float
    requests: int
    """Successful requests completed in the window."""
    errors: int
    """Failed requests completed in the window."""
    throughput_rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    """Latency figures are NaN when no request succeeded."""

    @property
    def error_fraction(self) -> float:
        """Failed / completed (0 when nothing completed)."""
        done = self.requests + self.errors
        return self.errors / done if done else 0.0


def percentile_ms(latencies_s: ArrayLike, q: float) -> float:
    """Nearest-rank ``q``-th percentile of latencies given in seconds, in milliseconds."""
    values = np.asarray(latencies_s, dtype=np.float64)
    if values.size == 0:
        return NAN
    return float(np.percentile(values, q, method="inverted_cdf")) * 1000.0


def window_stats(latencies_s: ArrayLike, errors: int, duration_s: float) -> WindowStats:
    """Statistics of one window: successful latencies (seconds), failures, its length."""
    values = np.asarray(latencies_s, dtype=np.float64)
    return WindowStats(
        duration_s=duration_s,
        requests=int(values.size),
        errors=errors,
        throughput_rps=values.size / duration_s if duration_s > 0 else NAN,
        p50_ms=percentile_ms(values, 50),
        p90_ms=percentile_ms(values, 90),
        p99_ms=percentile_ms(values, 99),
        mean_ms=float(values.mean()) * 1000.0 if values.size else NAN,
    )


def _within(values: Sequence[float], tolerance: float) -> bool:
    if any(not math.isfinite(v) or v <= 0 for v in values):
        return False
    return max(values) <= (1.0 + tolerance) * min(values)


def is_stable(windows: Sequence[WindowStats], *, count: int = 3, tolerance: float = 0.10) -> bool:
    """True when the last ``count`` windows agree on throughput and p99 within ``tolerance``."""
    if len(windows) < count:
        return False
    last = windows[-count:]
    return _within([w.throughput_rps for w in last], tolerance) and _within(
        [w.p99_ms for w in last], tolerance
    )


def pooled(latencies_s: Sequence[ArrayLike], windows: Sequence[WindowStats]) -> WindowStats:
    """One figure for several windows: their latencies pooled, requests over total duration."""
    arrays = [np.asarray(x, dtype=np.float64) for x in latencies_s]
    values = np.concatenate(arrays) if arrays else np.empty(0)
    return window_stats(values, sum(w.errors for w in windows), sum(w.duration_s for w in windows))
