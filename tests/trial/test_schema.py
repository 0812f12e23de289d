"""The report's typed schema (read by the operator), and the model-load check of the wait."""

from __future__ import annotations

from typing import Any, cast

import pytest

from falcon_trial.client import Client
from falcon_trial.errors import ModelLoadError, ServerNotReadyError
from falcon_trial.schema import (
    SCHEMA,
    MeasurementReport,
    RunnerReport,
    SchemaError,
    WindowFigures,
    parse_report,
)
from falcon_trial.server import load_failure, wait_ready
from falcon_trial.settings import ServerSettings

FULL: dict[str, Any] = {
    "schema": SCHEMA,
    "model": {"name": "m", "version": "1", "platform": "p", "max_batch_size": 8},
    "load": {"protocol": "http", "mode": "fixed", "concurrency": 4, "batch_size": 1},
    "slo_p99_ms": None,
    "status": "ok",
    "exit_code": 0,
    "result": {
        "concurrency": 4,
        "stable": True,
        "throughput_rps": 10.5,
        "p50_ms": 1.0,
        "p90_ms": 2.0,
        "p99_ms": None,
        "mean_ms": 1.5,
        "requests": 42,
        "errors": 0,
        "duration_s": 4.0,
        "throughput_ips": 10.5,
        "windows": [{"rps": 10, "p99_ms": None, "n": 40, "errors": 0}],
    },
    "slo_met": None,
    "totals": {"requests": 45, "succeeded": 42, "failed": 1, "unfinished": 2},
    "ready_wait_s": 0.5,
    "elapsed_s": 6.0,
}


def test_a_full_report_reads_typed_and_writes_back_the_same_json() -> None:
    report = RunnerReport.from_dict(FULL)
    assert report.result is not None and report.result.p99_ms is None
    assert report.result.windows == (WindowFigures(10.0, None, 40, 0),)
    assert report.totals is not None and report.totals.requests == 45
    assert report.to_dict() == FULL


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"result": {"concurrency": 1, "stable": "yes"}}, "result.stable is 'yes'"),
        ({"result": {"concurrency": 1, "stable": True, "windows": {}}}, "result.windows is {}"),
        ({"result": {"concurrency": 1, "stable": True, "windows": [3]}}, "windows[0] is not an"),
        ({"model": {"version": "1"}}, "model.name is missing"),
        ({"load": []}, "load is not an object"),
        ({"totals": {"succeeded": 1.5}}, "totals.succeeded is 1.5"),
        ({"status": "error"}, "an error report needs its error"),
        ({"sweep": {"knee": 4, "reason": "gain", "steps": [{"concurrency": "x"}]}}, "steps[0]"),
    ],
)
def test_a_malformed_part_says_where(change: dict[str, Any], where: str) -> None:
    with pytest.raises(SchemaError, match=r"^.*" + where.replace("[", r"\[").replace("]", r"\]")):
        RunnerReport.from_dict(FULL | change)


def test_the_smallest_trimmed_report_still_reads() -> None:
    report = parse_report(
        '{"schema":"falcon-trial/v1","status":"error","trimmed":true,"exit_code":3}'
    )
    assert report.trimmed and report.error is None and report.result is None
    assert MeasurementReport(1, True).to_dict()["p99_ms"] is None


class FakeClient:
    """Answers readiness and the repository index from fixed values."""

    def __init__(self, ready: bool, state: tuple[str, str] | Exception | None) -> None:
        self.ready, self.state, self.asked = ready, state, 0

    def is_ready(self) -> bool:
        return self.ready

    def model_state(self) -> tuple[str, str] | None:
        self.asked += 1
        if isinstance(self.state, Exception):
            raise self.state
        return self.state


def _wait(client: FakeClient) -> float:
    clock = iter(float(t) for t in range(100))
    settings = ServerSettings(model="m", ready_timeout_s=3.0)
    return wait_ready(
        cast(Client, client), settings, clock=lambda: next(clock), sleep=lambda _: None
    )


def test_a_failed_load_ends_the_wait_at_once_with_tritons_reason() -> None:
    client = FakeClient(False, ("UNAVAILABLE", "failed to allocate\n  memory"))
    with pytest.raises(ModelLoadError, match="could not load model 'm': failed to allocate memory"):
        _wait(client)
    assert client.asked == 1


@pytest.mark.parametrize(
    "state",
    [None, ("LOADING", ""), ("UNAVAILABLE", "unloaded"), ("UNAVAILABLE", ""), OSError("index")],
)
def test_anything_else_is_waited_out(state: tuple[str, str] | Exception | None) -> None:
    client = FakeClient(False, state)
    assert load_failure(cast(Client, client)) is None
    with pytest.raises(ServerNotReadyError, match="answered not ready"):
        _wait(client)
    assert client.asked >= 2


def test_a_ready_server_is_not_asked_for_its_index() -> None:
    client = FakeClient(True, ("UNAVAILABLE", "boom"))
    assert _wait(client) == 1.0 and client.asked == 0
