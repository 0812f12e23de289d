"""Window deltas checked against numbers computed by hand from the data files.

Between ``triton_before.txt`` and ``triton_after.txt`` (10 s):
resnet50 v1: +2000 requests, +8000 inferences, +1000 executions, +4 failures (BACKEND),
+40e6 us request, +8e6 us queue, +24e6 us compute; v2: +500, +1000, +250, 0, +5e6, +0.5e6, +3e6.
"""

from __future__ import annotations

import pytest

from falcon_operator.metrics import (
    CounterResetError,
    MetricsError,
    SeriesMissingError,
    Snapshot,
    measure_window,
)
from falcon_operator.metrics import names as n

GPU_A = "GPU-2f3c8a4e-1b7d-4c55-9e0a-6d8f1a2b3c4d"


def test_one_version(before: Snapshot, after: Snapshot) -> None:
    m = measure_window(before, after, model="resnet50", version="1")
    assert (m.seconds, m.requests, m.inferences, m.executions, m.failures) == (
        10,
        2000,
        8000,
        1000,
        4,
    )
    assert m.request_rps == pytest.approx(200.0)
    assert m.inference_rps == pytest.approx(800.0)
    assert m.failure_rps == pytest.approx(0.4)
    assert m.avg_batch_size == pytest.approx(8.0)
    assert m.avg_request_ms == pytest.approx(20.0)
    assert m.avg_queue_ms == pytest.approx(4.0)
    assert m.avg_compute_ms == pytest.approx(12.0)
    assert not m.counter_reset and m.resets == ()


def test_every_version_is_summed(before: Snapshot, after: Snapshot) -> None:
    m = measure_window(before, after, model="resnet50")
    assert (m.requests, m.inferences, m.executions) == (2500, 9000, 1250)
    assert m.request_rps == pytest.approx(250.0)
    assert m.avg_batch_size == pytest.approx(7.2)
    assert m.avg_request_ms == pytest.approx(18.0)
    assert m.avg_queue_ms == pytest.approx(3.4)
    assert m.avg_compute_ms == pytest.approx(10.8)


def test_an_idle_model_has_no_averages(before: Snapshot, after: Snapshot) -> None:
    m = measure_window(before, after, model="bert")
    assert m.requests == 0 and m.request_rps == 0.0
    assert m.avg_batch_size is None and m.avg_request_ms is None and m.avg_compute_ms is None
    assert m.summary()["avg_queue_ms"] is None


def test_gpu_gauges_come_from_the_second_snapshot(before: Snapshot, after: Snapshot) -> None:
    m = measure_window(before, after, model="resnet50")
    assert [g.uuid for g in m.gpus] == sorted([GPU_A, "GPU-9a8b7c6d-5e4f-4321-8765-0fedcba98765"])
    assert m.gpu_utilization == pytest.approx(0.5)
    assert m.gpu_memory_used_bytes == pytest.approx(6e9)
    assert m.gpu_power_w == pytest.approx(82.5)
    one = measure_window(before, after, model="resnet50", gpu_uuids=[GPU_A])
    assert len(one.gpus) == 1
    g = one.gpus[0]
    assert (g.utilization, g.memory_used_bytes, g.power_w, g.power_limit_w) == (0.75, 4e9, 52.5, 70)


def test_a_reset_counts_the_value_after_the_reset_and_is_flagged(
    before: Snapshot, restarted: Snapshot
) -> None:
    m = measure_window(before, restarted, model="resnet50", version="1")
    assert m.counter_reset
    assert set(m.resets) == {
        n.REQUEST_SUCCESS, n.REQUEST_FAILURE, n.INFERENCE_COUNT, n.EXEC_COUNT,
        n.REQUEST_DURATION_US, n.QUEUE_DURATION_US, n.COMPUTE_INFER_DURATION_US,
    }  # fmt: skip
    assert (m.requests, m.inferences, m.executions, m.failures) == (150, 600, 80, 0)
    assert m.avg_batch_size == pytest.approx(7.5)
    assert m.avg_request_ms == pytest.approx(20.0)
    assert m.avg_queue_ms == pytest.approx(2.0)
    assert m.avg_compute_ms == pytest.approx(12.0)
    assert m.summary()["counter_reset"] is True


def test_a_vanished_version_counts_as_reset_to_zero(before: Snapshot, restarted: Snapshot) -> None:
    m = measure_window(before, restarted, model="resnet50")
    assert m.requests == 150  # v1 after its reset; v2 is gone
    assert n.REQUEST_SUCCESS in m.resets


def test_an_unchanged_model_is_not_flagged(before: Snapshot, restarted: Snapshot) -> None:
    m = measure_window(before, restarted, model="bert")
    assert m.resets == () and m.requests == 0


def test_reset_can_raise_a_retryable_error(before: Snapshot, restarted: Snapshot) -> None:
    with pytest.raises(CounterResetError, match="counters went down") as info:
        measure_window(before, restarted, model="resnet50", on_reset="raise")
    assert info.value.retryable and n.REQUEST_SUCCESS in info.value.metrics


def test_unknown_model_names_the_models_present(before: Snapshot, after: Snapshot) -> None:
    with pytest.raises(SeriesMissingError, match=r"'yolo'.*\['bert', 'resnet50'\]"):
        measure_window(before, after, model="yolo")
    with pytest.raises(SeriesMissingError, match="version '3'"):
        measure_window(before, after, model="resnet50", version="3")


def test_the_window_must_move_forward(before: Snapshot) -> None:
    with pytest.raises(MetricsError, match="must be taken later"):
        measure_window(before, before, model="resnet50")


def test_missing_latency_counters_give_none(after: Snapshot) -> None:
    counts_only = Snapshot(
        after.taken_at,
        {k: v for k, v in after.series.items() if not k.endswith("_duration_us")},
    )
    early = Snapshot(90.0, counts_only.series)
    m = measure_window(early, counts_only, model="resnet50")
    assert m.request_us is None and m.avg_request_ms is None and m.avg_batch_size is None
