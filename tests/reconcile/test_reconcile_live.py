"""A live trial's Triton window starts at the server's readiness, from zero counters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from falcon_operator.metrics import Sample, Snapshot, measure_window
from falcon_operator.reconcile.measure import server_start
from falcon_operator.trials.readback import PodState, PodView

CREATED = datetime(2026, 1, 1, tzinfo=UTC)


def _view(*, ready_after_s: float | None) -> PodView:
    ready = None if ready_after_s is None else CREATED + timedelta(seconds=ready_after_s)
    return PodView("s-t000", 0, {}, PodState.READY, created_at=CREATED, ready_at=ready)


def _after(requests: float, *, taken_at: float) -> Snapshot:
    sample = Sample({"model": "m", "version": "1"}, requests)
    return Snapshot(taken_at=taken_at, series={"nv_inference_request_success": (sample,)})


def test_window_counts_every_request_since_the_server_got_ready() -> None:
    """The runner's warm-up starts before the operator sees the pod ready: none is missed."""
    wall = CREATED + timedelta(seconds=70)  # 60 s after readiness
    before = server_start(_view(ready_after_s=10.0), now=1000.0, wall=wall)
    assert before.taken_at == pytest.approx(940.0) and not before.series
    window = measure_window(before, _after(1234.0, taken_at=1000.0), model="m")
    assert window.requests == 1234.0 and window.seconds == pytest.approx(60.0)
    assert not window.counter_reset


def test_without_readiness_the_window_starts_at_creation() -> None:
    before = server_start(_view(ready_after_s=None), now=500.0, wall=CREATED + timedelta(10))
    assert before.taken_at == pytest.approx(500.0 - 10 * 86400)
