"""The metrics page, read with the operator's own parser (falcon_operator.metrics)."""

from __future__ import annotations

import urllib.request

import pytest
from testserver_helpers import client, resnet_input, snapshot
from tritonclient.utils import InferenceServerException

from falcon_operator.metrics import SeriesMissingError, measure_window
from falcon_operator.metrics import names as n
from falcon_trial.testserver import RunningServer


def test_counts_match_the_requests_sent(fast_server: RunningServer) -> None:
    c = client(fast_server)
    before = snapshot(fast_server)
    for i in range(12):
        c.infer("resnet", [resnet_input(1 + i % 3)])  # batches 1, 2, 3 → 24 samples
    with pytest.raises(InferenceServerException):
        c.infer("resnet", [resnet_input(9)])  # over max_batch_size: one failure
    after = snapshot(fast_server)
    m = measure_window(before, after, model="resnet", version="1")
    assert (m.requests, m.inferences, m.failures) == (12, 24, 1)
    assert m.executions == 12  # one client, one request at a time: nothing to batch
    assert m.avg_batch_size == pytest.approx(2.0)
    assert m.avg_request_ms is not None and m.avg_compute_ms is not None
    assert m.avg_queue_ms is not None
    assert 0 < m.avg_compute_ms <= m.avg_request_ms
    assert not m.counter_reset


def test_triton_names_types_help_and_labels(fast_server: RunningServer) -> None:
    snap = snapshot(fast_server)
    for name in n.MODEL_COUNTERS:
        assert {s.labels["model"] for s in snap.samples(name)} == {"resnet"}, name
    reasons = {s.labels["reason"] for s in snap.samples(n.REQUEST_FAILURE)}
    assert reasons == {"OTHER", "BACKEND", "REJECTED", "CANCELED"}
    (gpu,) = snap.gauge_by_gpu(n.GPU_POWER_LIMIT).items()
    assert gpu[0].startswith("GPU-") and gpu[1] == pytest.approx(70.0)  # T4 TDP, no cap
    assert snap.gauge_by_gpu(n.GPU_MEMORY_TOTAL_BYTES)[gpu[0]] == pytest.approx(16e9)
    text = urllib.request.urlopen(fast_server.metrics_url).read().decode()
    assert "# TYPE nv_inference_request_success counter" in text
    assert "# TYPE nv_gpu_utilization gauge" in text
    assert "# HELP nv_inference_count Number of inferences performed" in text


def test_an_unloaded_model_has_no_series_and_reloads_from_zero(fast_server: RunningServer) -> None:
    c = client(fast_server)
    c.infer("resnet", [resnet_input(1)])
    c.unload_model("resnet")
    with pytest.raises(SeriesMissingError):
        measure_window(snapshot(fast_server), snapshot(fast_server), model="resnet")
    c.load_model("resnet")
    assert [s.value for s in snapshot(fast_server).samples(n.REQUEST_SUCCESS)] == [0]
