"""A trial's record from the runner's typed report and Triton's window (two sources)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from falcon_operator.core.catalog import load_catalog
from falcon_operator.core.objective import Objective
from falcon_operator.core.prices import PriceOverrides
from falcon_operator.core.records import FailureKind, Outcome
from falcon_operator.metrics import WindowMeasurement
from falcon_operator.trials.outcome import judge, read_report
from falcon_trial.schema import RunnerReport

CONFIG = {"batchsize": 8, "cpus": 4, "gpumem": 0.0, "gpupower": 75, "gputype": "T4"}


def _objective(slo_p99_ms: float | None) -> Objective:
    """CONFIG costs 0.5 $/h: T4 at 0.5, cores and memory free."""
    prices = PriceOverrides({"T4": 0.5}, cpu_core_hour=0.0, memory_gib_hour=0.0)
    return Objective.of(load_catalog(), prices=prices, slo_p99_ms=slo_p99_ms)


def _data(rps: float = 100.0, p99: float = 20.0, succeeded: int = 400) -> dict[str, Any]:
    return {
        "schema": "falcon-trial/v1",
        "status": "ok",
        "exit_code": 0,
        "result": {
            "throughput_rps": rps,
            "p50_ms": 10.0,
            "p99_ms": p99,
            "stable": True,
            "concurrency": 16,
        },
        "totals": {"succeeded": succeeded, "failed": 0, "unfinished": 0},
    }


def _report(**kw: Any) -> RunnerReport:
    return RunnerReport.from_dict(_data(**kw))


def _window(requests: float = 400.0) -> WindowMeasurement:
    return WindowMeasurement("m", None, 4.0, requests, inferences=requests, executions=50.0)


def test_ok_trial_records_the_runner_figures_and_triton_window() -> None:
    r = judge(CONFIG, _report(), _window(), objective=_objective(50.0))
    assert r.outcome is Outcome.OK and r.failure is None
    assert r.metrics["rps"] == pytest.approx(100.0)
    assert r.metrics["p99_ms"] == pytest.approx(20.0)
    assert r.objective == pytest.approx(200.0)
    assert r.metrics["avg_batch_size"] == pytest.approx(8.0)
    # both request counts that were checked against each other are kept
    assert r.metrics["runner_requests"] == 400 and r.metrics["triton_requests"] == 400
    assert "time_scale" not in r.metrics


def test_slo_break_is_a_failed_trial_of_kind_slo() -> None:
    r = judge(CONFIG, _report(p99=80.0), None, objective=_objective(50.0))
    assert r.outcome is Outcome.FAILED and r.failure is FailureKind.SLO
    assert "breaks the 50 ms SLO" in r.reason and not r.counts_against_budget


def test_sources_that_disagree_fail_the_trial() -> None:
    r = judge(CONFIG, _report(succeeded=400), _window(200.0), objective=_objective(None))
    assert r.outcome is Outcome.FAILED and r.failure is FailureKind.MEASUREMENT
    assert "Triton counted 200" in r.reason


@pytest.mark.parametrize(
    ("triton", "ok"),
    [(400.0, True), (399.0, False), (403.0, True), (404.0, False)],
)
def test_triton_counts_the_runners_successes_and_at_most_what_it_gave_up_on(
    triton: float, ok: bool
) -> None:
    """400 succeeded, 1 failed at the client and 2 unfinished: Triton may have completed those."""
    data = _data(succeeded=400)
    data["totals"].update(failed=1, unfinished=2)
    r = judge(CONFIG, RunnerReport.from_dict(data), _window(triton), objective=_objective(None))
    assert (r.outcome is Outcome.OK) is ok, r.reason
    if not ok:
        assert r.failure is FailureKind.MEASUREMENT and "3 it gave up on" in r.reason


def _error(kind: str, message: str) -> RunnerReport:
    return RunnerReport.from_dict(
        {
            "schema": "falcon-trial/v1",
            "status": "error",
            "exit_code": 3,
            "error": {"kind": kind, "message": message},
        }
    )


def test_runner_error_is_a_failed_trial() -> None:
    r = judge(CONFIG, _error("server-not-ready", "no answer"), None, objective=_objective(None))
    assert r.failure is FailureKind.RUNNER and "server-not-ready: no answer" in r.reason
    assert r.outcome is Outcome.FAILED and r.counts_against_budget


def test_a_model_triton_could_not_load_is_its_own_kind_and_infeasible() -> None:
    report = _error("model-load-failed", "the server could not load model 'm': out of memory")
    r = judge(CONFIG, report, None, objective=_objective(None))
    assert r.failure is FailureKind.MODEL_LOAD and r.outcome is Outcome.INFEASIBLE
    assert not r.counts_against_budget and "model-load-failed" in r.reason


def test_a_report_trimmed_to_its_status_has_no_result() -> None:
    text = '{"schema":"falcon-trial/v1","status":"ok","trimmed":true,"exit_code":0}'
    report = read_report(CONFIG, text)
    assert isinstance(report, RunnerReport) and report.trimmed
    r = judge(CONFIG, report, None, objective=_objective(None))
    assert r.failure is FailureKind.RUNNER and "ok: no result" in r.reason


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "not an object"),
        ('{"status": "ok"}', "report schema None, expected 'falcon-trial/v1'"),
        (json.dumps(_data() | {"status": "great"}), "report status 'great'"),
        (json.dumps(_data() | {"result": {"stable": True}}), "result.concurrency is missing"),
        (json.dumps(_data() | {"totals": {"succeeded": "many"}}), "totals.succeeded is 'many'"),
        (json.dumps(_data() | {"exit_code": True}), "report.exit_code is True, not a number"),
    ],
)
def test_a_malformed_report_is_a_runner_failure_with_the_parse_error(text: str, why: str) -> None:
    r = read_report(CONFIG, text)
    assert not isinstance(r, RunnerReport)
    assert r.failure is FailureKind.RUNNER and r.outcome is Outcome.FAILED
    assert r.reason.startswith("the trial runner's report is malformed: ") and why in r.reason
