"""Simulated time: servers that are busy until a known instant, and a utilisation meter.

A reservation is made on a schedule, not by sleeping a duration: work starts when both it and
a server are ready, so an event loop that wakes a coroutine late does not slow the simulated
machine down (the late start is absorbed, not accumulated).
"""

from __future__ import annotations

from collections import deque


class Lanes:
    """``count`` identical servers (CPU cores, or one GPU); each is free from a given instant."""

    def __init__(self, count: int) -> None:
        if count < 1:
            raise ValueError("at least one lane")
        self._free = [float("-inf")] * count

    def reserve(self, earliest: float, duration: float) -> tuple[float, float]:
        """Book ``duration`` on the lane free soonest, not before ``earliest``: (start, end)."""
        i = min(range(len(self._free)), key=self._free.__getitem__)
        start = max(earliest, self._free[i])
        self._free[i] = start + duration
        return start, start + duration


class BusyMeter:
    """Share of the last ``window`` seconds that booked intervals covered (for GPU utilisation)."""

    def __init__(self, window: float = 1.0) -> None:
        self.window = window
        self._intervals: deque[tuple[float, float]] = deque()

    def add(self, start: float, end: float) -> None:
        self._intervals.append((start, end))

    def utilization(self, now: float) -> float:
        since = now - self.window
        while self._intervals and self._intervals[0][1] <= since:
            self._intervals.popleft()
        busy = sum(max(0.0, min(e, now) - max(s, since)) for s, e in self._intervals)
        return min(1.0, busy / self.window)
