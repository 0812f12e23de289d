"""A live trial's record: throughput per core, the SLO, runner errors, Triton's counters."""

from __future__ import annotations

from typing import Any

from falcon_operator.core.records import FailureKind, Outcome
from falcon_operator.live.judge import LiveObjective, judge
from falcon_operator.metrics import Snapshot, measure_window, parse_metrics
from falcon_trial.schema import parse_report

CONFIG = {"batchsize": 4, "cpus": 2, "concurrency": 4}


def _report(rps: float | None, p99: float | None, *, ok: int = 300, error: str = "") -> str:
    import json

    if error:
        body: dict[str, Any] = {"status": "error", "exit_code": 3,
                                "error": {"kind": error, "message": "boom"}}  # fmt: skip
    else:
        body = {
            "status": "ok", "exit_code": 0,
            "result": {"concurrency": 4, "stable": True, "throughput_rps": rps, "p99_ms": p99},
            "totals": {"succeeded": ok, "failed": 0, "unfinished": 0},
        }  # fmt: skip
    return json.dumps({"schema": "falcon-trial/v1", **body})


def _snapshot(requests: int, at: float) -> Snapshot:
    text = (
        f'nv_inference_request_success{{model="model",version="1"}} {requests}\n'
        f'nv_inference_request_failure{{model="model",version="1"}} 0\n'
    )
    return parse_metrics(text, taken_at=at)


def test_a_trial_scores_its_throughput_per_pinned_core() -> None:
    window = measure_window(_snapshot(0, 0.0), _snapshot(300, 1.0), model="model")
    record = judge(CONFIG, parse_report(_report(300.0, 12.0)), window, objective=LiveObjective())
    assert record.outcome is Outcome.OK
    assert record.objective == 150.0
    assert record.metrics["cores"] == 2.0 and record.metrics["triton_rps"] > 0


def test_a_p99_over_the_slo_fails_the_trial_with_the_figures() -> None:
    record = judge(CONFIG, parse_report(_report(300.0, 80.0)), None,
                   objective=LiveObjective(slo_p99_ms=50))  # fmt: skip
    assert record.failure is FailureKind.SLO
    assert "80" in record.reason and "50" in record.reason


def test_a_runner_error_and_disagreeing_counters_fail_the_trial() -> None:
    record = judge(CONFIG, parse_report(_report(None, None, error="model-load-failed")), None,
                   objective=LiveObjective())  # fmt: skip
    assert record.failure is FailureKind.MODEL_LOAD
    window = measure_window(_snapshot(0, 0.0), _snapshot(10, 1.0), model="model")
    record = judge(CONFIG, parse_report(_report(300.0, 10.0)), window, objective=LiveObjective())
    assert record.failure is FailureKind.MEASUREMENT
    assert "Triton counted 10" in record.reason
