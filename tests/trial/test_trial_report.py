"""The JSON report: content, the termination-message size bound, where it is written."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from falcon_trial.errors import ReportError, ServerNotReadyError
from falcon_trial.measure import Measurement
from falcon_trial.model import ModelInfo, TensorSpec
from falcon_trial.report import (
    build_report,
    check_writable,
    encode,
    error_report,
    fit,
    write_termination_log,
)
from falcon_trial.runner import RunResult
from falcon_trial.schema import SCHEMA, RunnerReport, SchemaError, Status, parse_report
from falcon_trial.schema import RequestTotals as Totals
from falcon_trial.settings import LoadSettings, ReportSettings, ServerSettings, Settings
from falcon_trial.sweep import SweepResult
from falcon_trial.windows import WindowStats

MODEL = ModelInfo("resnet", "1", "onnxruntime_onnx", 8, (TensorSpec("x", "FP32", (3,)),), ())


def _measurement(c: int, windows: int = 3, *, stable: bool = True) -> Measurement:
    ws = tuple(
        WindowStats(3.0, 3000 + i, i % 2, 1000.123456 + i, 1.23456, 2.3456, 9.87654321 + i, 1.5)
        for i in range(windows)
    )
    return Measurement(c, stable, ws, ws[-1])


def _result(*, sweep_steps: int = 0, windows: int = 3, stable: bool = True) -> RunResult:
    sweep = None
    if sweep_steps:
        steps = tuple(_measurement(2**i, windows) for i in range(sweep_steps))
        sweep = SweepResult(steps, sweep_steps // 2, "gain")
        chosen = sweep.chosen
    else:
        chosen = _measurement(4, windows, stable=stable)
    return RunResult(MODEL, chosen, sweep, Totals(10000, 3, 0), 1.5, 40.0)


def _settings(**load: object) -> Settings:
    return Settings(server=ServerSettings(model="resnet"), load=LoadSettings(**load))  # type: ignore[arg-type]


def test_report_of_a_fixed_run() -> None:
    report = build_report(_settings(concurrency=4, slo_p99_ms=10.0), _result()).to_dict()
    assert report["status"] == "ok" and report["exit_code"] == 0
    assert report["model"] == {
        "name": "resnet", "version": "1", "platform": "onnxruntime_onnx", "max_batch_size": 8
    }  # fmt: skip
    r = report["result"]
    assert r["concurrency"] == 4 and r["stable"] is True
    assert r["throughput_rps"] == 1002.12 and r["p99_ms"] == 11.877
    assert len(r["windows"]) == 3
    assert report["slo_met"] is False
    assert report["totals"] == {"requests": 10003, "succeeded": 10000, "failed": 3, "unfinished": 0}
    assert "sweep" not in report
    json.loads(encode(report))


def test_an_unstable_run_has_its_own_status_and_exit_code() -> None:
    report = build_report(_settings(), _result(stable=False))
    assert report.status is Status.UNSTABLE and report.exit_code == 6


def test_nan_latency_is_written_as_null() -> None:
    s = WindowStats(1.0, 0, 5, 0.0, math.nan, math.nan, math.nan, math.nan)
    run = RunResult(MODEL, Measurement(1, False, (s,), s), None, Totals(0, 5, 0), 0.0, 1.0)
    report = json.loads(encode(build_report(_settings(), run)))
    assert report["result"]["p99_ms"] is None


def test_error_report() -> None:
    report = error_report(
        _settings(), ServerNotReadyError("server x not ready after 5 s")
    ).to_dict()
    assert report["status"] == "error" and report["exit_code"] == 3
    assert report["error"] == {
        "kind": "server-not-ready",
        "message": "server x not ready after 5 s",
    }


def test_a_short_report_is_not_trimmed() -> None:
    report = build_report(_settings(sweep_max=8), _result(sweep_steps=4))
    text = fit(report, 4000)
    assert text == encode(report) and "trimmed" not in json.loads(text)


@pytest.mark.parametrize(("steps", "windows"), [(11, 10), (40, 10), (200, 50)])
def test_a_long_sweep_fits_the_termination_message(steps: int, windows: int) -> None:
    report = build_report(_settings(sweep_max=1024), _result(sweep_steps=steps, windows=windows))
    assert len(encode(report).encode()) > 4000
    text = fit(report, 4000)
    assert len(text.encode()) <= 4000
    fitted = json.loads(text)
    assert fitted["trimmed"] is True and fitted["status"] == "ok"
    full = report.to_dict()
    assert fitted["result"]["throughput_rps"] == full["result"]["throughput_rps"]
    assert fitted["sweep"]["knee"] == full["sweep"]["knee"]
    assert fitted["totals"] == full["totals"]
    # the operator reads the trimmed copy back as the same typed report, less what was cut
    back = parse_report(text)
    assert back.trimmed and back.result is not None and report.result is not None
    assert back.result.throughput_rps == report.result.throughput_rps
    assert back.totals == report.totals and back != report
    assert back.sweep is not None and report.sweep is not None
    assert back.sweep.knee == report.sweep.knee


def test_a_huge_error_message_fits() -> None:
    report = error_report(_settings(), ServerNotReadyError("x" * 20000))
    assert len(fit(report, 600).encode()) <= 600


def test_explicit_termination_log_is_written(tmp_path: Path) -> None:
    path = tmp_path / "termination-log"
    settings = ReportSettings(termination_log=str(path), termination_log_required=True)
    check_writable(settings)
    assert write_termination_log('{"a":1}', settings)
    assert path.read_text() == '{"a":1}'


def test_unwritable_explicit_termination_log_is_an_error(tmp_path: Path) -> None:
    settings = ReportSettings(
        termination_log=str(tmp_path / "missing" / "log"), termination_log_required=True
    )
    with pytest.raises(ReportError, match="cannot write termination log"):
        check_writable(settings)
    with pytest.raises(ReportError):
        write_termination_log("{}", settings)


def test_default_termination_log_is_skipped_where_it_does_not_exist(tmp_path: Path) -> None:
    missing = ReportSettings(termination_log=str(tmp_path / "nodir" / "termination-log"))
    check_writable(missing)
    assert not write_termination_log("{}", missing)
    present = tmp_path / "termination-log"
    present.write_text("")
    assert write_termination_log("{}", ReportSettings(termination_log=str(present)))
    assert present.read_text() == "{}"


@pytest.mark.parametrize("sweep_steps", [0, 4])
def test_the_typed_report_round_trips_through_its_json(sweep_steps: int) -> None:
    report = build_report(
        _settings(sweep_max=8 if sweep_steps else None), _result(sweep_steps=sweep_steps)
    )
    text = encode(report)
    assert parse_report(text) == report
    assert encode(parse_report(text)) == text
    error = error_report(_settings(), ServerNotReadyError("no"))
    assert parse_report(encode(error)) == error


def test_the_json_keeps_the_documented_key_order() -> None:
    """docs/trial-runner.md's order; the operator and people read the same text."""
    data = json.loads(encode(build_report(_settings(sweep_max=8), _result(sweep_steps=2))))
    assert list(data) == [
        "schema", "model", "load", "slo_p99_ms", "status", "exit_code", "result", "slo_met",
        "sweep", "totals", "ready_wait_s", "elapsed_s",
    ]  # fmt: skip
    assert data["schema"] == SCHEMA == "falcon-trial/v1"
    assert list(data["result"]) == [
        "concurrency", "stable", "throughput_rps", "p50_ms", "p90_ms", "p99_ms", "mean_ms",
        "requests", "errors", "duration_s", "throughput_ips", "windows",
    ]  # fmt: skip
    assert list(data["result"]["windows"][0]) == ["rps", "p99_ms", "n", "errors"]
    error = json.loads(encode(error_report(_settings(), ServerNotReadyError("no"))))
    assert list(error) == ["schema", "model", "load", "slo_p99_ms", "status", "exit_code", "error"]


def test_a_report_of_another_schema_is_refused() -> None:
    data = build_report(_settings(), _result()).to_dict()
    with pytest.raises(SchemaError, match="report schema 'falcon-trial/v2'"):
        RunnerReport.from_dict(data | {"schema": "falcon-trial/v2"})
    with pytest.raises(SchemaError, match="an error report needs its error"):
        RunnerReport(Status.ERROR, 3)
