"""A trial's verdict from the runner's report and Triton's window (two sources)."""

from __future__ import annotations

from typing import Any

import pytest

from falcon_operator.core.records import Outcome
from falcon_operator.metrics import WindowMeasurement
from falcon_operator.trials.outcome import judge

CONFIG = {"batchsize": 8, "cpus": 4, "gpumem": 0.0, "gpupower": 75, "gputype": "T4"}


def _report(rps: float = 100.0, p99: float = 20.0, succeeded: int = 400) -> dict[str, Any]:
    return {
        "status": "ok",
        "result": {
            "throughput_rps": rps,
            "p50_ms": 10.0,
            "p99_ms": p99,
            "stable": True,
            "concurrency": 16,
        },
        "totals": {"succeeded": succeeded},
    }


def _window(requests: float = 400.0) -> WindowMeasurement:
    return WindowMeasurement("m", None, 4.0, requests, inferences=requests, executions=50.0)


def test_ok_trial_records_the_runner_figures_and_triton_window() -> None:
    v = judge(CONFIG, _report(), _window(), cost_per_hour=0.5, slo_p99_ms=50.0)
    assert v.record.outcome is Outcome.OK and v.failure == ""
    assert v.record.metrics["rps"] == pytest.approx(100.0)
    assert v.record.metrics["p99_ms"] == pytest.approx(20.0)
    assert v.record.objective == pytest.approx(200.0)
    assert v.record.metrics["avg_batch_size"] == pytest.approx(8.0)
    # both request counts that were checked against each other are kept
    assert v.record.metrics["runner_requests"] == 400 and v.record.metrics["triton_requests"] == 400
    assert "time_scale" not in v.record.metrics


def test_slo_break_is_a_failed_trial_of_kind_slo() -> None:
    v = judge(CONFIG, _report(p99=80.0), None, cost_per_hour=0.5, slo_p99_ms=50.0)
    assert v.record.outcome is Outcome.FAILED and v.failure == "slo"
    assert "breaks the 50 ms SLO" in v.record.reason


def test_sources_that_disagree_fail_the_trial() -> None:
    v = judge(CONFIG, _report(succeeded=400), _window(200.0), cost_per_hour=0.5, slo_p99_ms=None)
    assert v.record.outcome is Outcome.FAILED and v.failure == "measurement"
    assert "Triton counted 200" in v.record.reason


@pytest.mark.parametrize(
    ("triton", "ok"),
    [(400.0, True), (399.0, False), (403.0, True), (404.0, False)],
)
def test_triton_counts_the_runners_successes_and_at_most_what_it_gave_up_on(
    triton: float, ok: bool
) -> None:
    """400 succeeded, 1 failed at the client and 2 unfinished: Triton may have completed those."""
    report = _report(succeeded=400)
    report["totals"].update(failed=1, unfinished=2)
    v = judge(CONFIG, report, _window(triton), cost_per_hour=0.5, slo_p99_ms=None)
    assert (v.record.outcome is Outcome.OK) is ok, v.record.reason
    if not ok:
        assert v.failure == "measurement" and "3 it gave up on" in v.record.reason


def test_runner_error_is_a_failed_trial() -> None:
    report = {"status": "error", "error": {"kind": "server-not-ready", "message": "no answer"}}
    v = judge(CONFIG, report, None, cost_per_hour=0.5, slo_p99_ms=None)
    assert v.failure == "runner" and "server-not-ready: no answer" in v.record.reason
