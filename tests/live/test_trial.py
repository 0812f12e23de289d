"""One live trial on real Triton (``make triton``): measured, cross-checked, or clearly failed."""

from __future__ import annotations

from pathlib import Path

from falcon_operator.core.records import FailureKind, Outcome
from falcon_operator.live.judge import LiveObjective
from falcon_operator.live.trial import LiveBackend, LiveTrialSettings

MODEL = (
    Path(__file__).resolve().parents[2] / "operator/falcon_operator/data/models/resnet-mini.onnx"
)
QUICK = LiveTrialSettings(warmup_s=0.5, window_s=1.0, max_windows=4)
CONFIG = {"batchsize": 4, "cpus": 1, "instances": 1, "concurrency": 2, "ortthreads": 1,
          "queuedelayus": 500}  # fmt: skip


def test_a_live_trial_measures_throughput_per_core_and_triton_agrees(tmp_path: Path) -> None:
    backend = LiveBackend(MODEL, objective=LiveObjective(slo_p99_ms=1000), settings=QUICK,
                          work_dir=tmp_path)  # fmt: skip
    record = backend.run(CONFIG)
    assert record.outcome is Outcome.OK, record.reason
    m = record.metrics
    assert m["rps"] > 0 and 0 < m["p99_ms"] < 1000
    assert record.objective == m["rps"] / 1  # one core
    assert m["triton_rps"] > 0 and m["avg_batch_size"] >= 1  # Triton's own counters
    assert list(tmp_path.iterdir()) == []  # the trial's repository and log are gone


def test_an_slo_no_configuration_meets_fails_the_trial_with_the_measured_p99() -> None:
    backend = LiveBackend(MODEL, objective=LiveObjective(slo_p99_ms=0.001), settings=QUICK)
    record = backend.run(CONFIG)
    assert record.failure is FailureKind.SLO
    assert "breaks the 0.001 ms SLO" in record.reason


def test_a_model_triton_cannot_load_is_a_model_load_failure(tmp_path: Path) -> None:
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not an onnx model")
    record = LiveBackend(broken, objective=LiveObjective(), settings=QUICK).run(CONFIG)
    assert record.outcome is Outcome.INFEASIBLE
    assert record.failure is FailureKind.MODEL_LOAD
    assert "Triton did not serve it" in record.reason


def test_a_metrics_endpoint_that_never_answers_is_retried_then_reported() -> None:
    import socket
    import time

    from falcon_operator.live.trial import _first_snapshot
    from falcon_operator.metrics import ScrapeError, TritonMetrics

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    try:
        _first_snapshot(TritonMetrics(f"http://127.0.0.1:{port}/metrics"), within_s=0.5)
    except ScrapeError as exc:
        assert "cannot connect" in str(exc)
    else:
        raise AssertionError("a closed port gave a snapshot")
    assert time.monotonic() - started >= 0.5
