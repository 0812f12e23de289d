"""Parsing one scrape: names, labels, counters stored under Triton's names, bad bodies."""

from __future__ import annotations

import pytest

from falcon_operator.metrics import MetricsFormatError, Snapshot, parse_metrics
from falcon_operator.metrics import names as n

GPU_A = "GPU-2f3c8a4e-1b7d-4c55-9e0a-6d8f1a2b3c4d"
GPU_B = "GPU-9a8b7c6d-5e4f-4321-8765-0fedcba98765"


def test_counters_are_stored_under_the_name_triton_exposes(before: Snapshot) -> None:
    values = {
        (s.labels["model"], s.labels["version"]): s.value for s in before.samples(n.INFERENCE_COUNT)
    }
    assert values == {("resnet50", "1"): 4000, ("resnet50", "2"): 100, ("bert", "1"): 50}
    assert before.samples(n.INFERENCE_COUNT + "_total") == ()
    assert before.taken_at == 100.0


def test_model_samples_filter_by_model_and_version(before: Snapshot) -> None:
    failures = list(before.model_samples(n.REQUEST_FAILURE, model="resnet50", version="1"))
    assert sorted(s.labels["reason"] for s in failures) == [
        "BACKEND",
        "CANCELED",
        "OTHER",
        "REJECTED",
    ]
    assert sum(s.value for s in failures) == 3
    every_version = list(before.model_samples(n.REQUEST_SUCCESS, model="resnet50"))
    assert sorted(s.value for s in every_version) == [100, 1000]
    assert list(before.model_samples(n.REQUEST_SUCCESS, model="resnet50", version="7")) == []


def test_models_and_gpu_gauges(before: Snapshot) -> None:
    assert before.models() == ("bert", "resnet50")
    assert before.gauge_by_gpu(n.GPU_POWER_LIMIT) == {GPU_A: 70.0, GPU_B: 70.0}
    assert before.gauge_by_gpu(n.GPU_MEMORY_USED_BYTES, gpu_uuids={GPU_B}) == {GPU_B: 2e9}


def test_other_metric_types_are_kept_by_sample_name(before: Snapshot) -> None:
    assert before.samples("nv_inference_queue_summary_us_count")[0].value == 1000
    assert before.samples("nv_pinned_memory_pool_total_bytes")[0].value == 268435456
    assert before.samples("nv_cpu_utilization")[0].value == 0.125


def test_empty_body_is_an_empty_snapshot() -> None:
    snap = parse_metrics("", taken_at=1.0)
    assert snap.models() == ()
    assert snap.samples(n.REQUEST_SUCCESS) == ()


@pytest.mark.parametrize(
    "body", ["<html><body>404 page not found</body></html>", '{"error": "no"}', "a b c"]
)
def test_a_body_that_is_not_prometheus_text_is_a_format_error(body: str) -> None:
    with pytest.raises(MetricsFormatError, match="not Prometheus text format"):
        parse_metrics(body, taken_at=0.0)
