"""The JSON report: built from a run (or an error), fitted to the termination-message bound.

stdout gets the full report; the termination log gets the same report trimmed, if needed, to
``ReportSettings.max_bytes`` (Kubernetes keeps 4096 bytes): first the per-window lists go, then
the sweep steps lose their percentiles, then only the steps around the knee are kept. A trimmed
report says ``"trimmed": true``. The report is a ``falcon_trial.schema.RunnerReport`` (schema:
docs/trial-runner.md); trimming works on its JSON form.
"""

from __future__ import annotations

import copy
import json
import math
import os
from pathlib import Path
from typing import Any

from falcon_trial.errors import EXIT_OK, EXIT_UNSTABLE, ReportError, TrialError
from falcon_trial.measure import Measurement
from falcon_trial.runner import RunResult
from falcon_trial.schema import (
    SCHEMA,
    ErrorInfo,
    LoadRef,
    MeasurementReport,
    ModelRef,
    RunnerReport,
    Status,
    SweepReport,
    WindowFigures,
)
from falcon_trial.settings import ReportSettings, Settings

Report = dict[str, Any]


def _num(x: float, digits: int = 3) -> float | None:
    return round(x, digits) if math.isfinite(x) else None


def measurement_report(m: Measurement, batch_size: int) -> MeasurementReport:
    """A measurement: its pooled figures, stability and one compact entry per window."""
    s = m.summary
    return MeasurementReport(
        concurrency=m.concurrency,
        stable=m.stable,
        throughput_rps=_num(s.throughput_rps, 2),
        p50_ms=_num(s.p50_ms),
        p90_ms=_num(s.p90_ms),
        p99_ms=_num(s.p99_ms),
        mean_ms=_num(s.mean_ms),
        requests=s.requests,
        errors=s.errors,
        duration_s=_num(s.duration_s, 2),
        throughput_ips=_num(s.throughput_rps * batch_size, 2),
        windows=tuple(
            WindowFigures(_num(w.throughput_rps, 2), _num(w.p99_ms), w.requests, w.errors)
            for w in m.windows
        ),
    )


def _asked(settings: Settings) -> tuple[ModelRef, LoadRef]:
    s = settings
    model = ModelRef(s.server.model, s.server.model_version)
    load = LoadRef(
        protocol=s.server.protocol,
        mode="sweep" if s.load.sweep_max is not None else "fixed",
        concurrency=s.load.sweep_max or s.load.concurrency,
        batch_size=s.inputs.batch_size,
    )
    return model, load


def build_report(settings: Settings, result: RunResult) -> RunnerReport:
    """The report of a completed run (``status`` ok or unstable)."""
    m = result.measurement
    stable = m.stable
    asked, load = _asked(settings)
    info = result.model
    batch = settings.inputs.batch_size
    slo = settings.load.slo_p99_ms
    sweep = None
    if result.sweep is not None:
        steps = tuple(measurement_report(s, batch) for s in result.sweep.steps)
        sweep = SweepReport(m.concurrency, result.sweep.reason, steps)
    t = result.totals
    return RunnerReport(
        status=Status.OK if stable else Status.UNSTABLE,
        exit_code=EXIT_OK if stable else EXIT_UNSTABLE,
        model=ModelRef(asked.name, info.version, info.platform, info.max_batch_size),
        load=load,
        slo_p99_ms=slo,
        result=measurement_report(m, batch),
        slo_met=None if slo is None else bool(m.summary.p99_ms <= slo),
        sweep=sweep,
        totals=t,
        ready_wait_s=_num(result.ready_wait_s, 2),
        elapsed_s=_num(result.elapsed_s, 2),
    )


def error_report(settings: Settings, error: TrialError) -> RunnerReport:
    """The report of a failed run: what was asked, and the error."""
    model, load = _asked(settings)
    return RunnerReport(
        status=Status.ERROR,
        exit_code=error.exit_code,
        model=model,
        load=load,
        slo_p99_ms=settings.load.slo_p99_ms,
        error=ErrorInfo(error.kind, str(error)[:1000]),
    )


def encode(report: RunnerReport | Report) -> str:
    """Compact JSON."""
    data = report.to_dict() if isinstance(report, RunnerReport) else report
    return json.dumps(data, separators=(",", ":"), allow_nan=False)


def _trims(report: Report) -> list[Report]:
    """Ever smaller versions of ``report``."""
    out = []
    r = copy.deepcopy(report)
    r["trimmed"] = True
    for step in r.get("sweep", {}).get("steps", []):
        step.pop("windows", None)
    out.append(copy.deepcopy(r))
    r.get("result", {}).pop("windows", None)
    out.append(copy.deepcopy(r))
    keep = ("concurrency", "stable", "throughput_rps", "p99_ms", "errors")
    if "sweep" in r:
        r["sweep"]["steps"] = [{k: s[k] for k in keep if k in s} for s in r["sweep"]["steps"]]
        out.append(copy.deepcopy(r))
        steps = r["sweep"]["steps"]
        knee = next((i for i, s in enumerate(steps) if s["concurrency"] == r["sweep"]["knee"]), 0)
        chosen = sorted({0, knee - 1, knee, knee + 1, len(steps) - 1} & set(range(len(steps))))
        r["sweep"]["steps"] = [steps[i] for i in chosen]
        r["sweep"]["steps_omitted"] = len(steps) - len(chosen)
        out.append(copy.deepcopy(r))
        r["sweep"].pop("steps")
        out.append(copy.deepcopy(r))
    if "error" in r:
        r["error"]["message"] = r["error"]["message"][:200]
        out.append(copy.deepcopy(r))
    return out


def fit(typed: RunnerReport, max_bytes: int) -> str:
    """The report encoded in at most ``max_bytes`` bytes (trimmed as the module says)."""
    report = typed.to_dict()
    text = encode(report)
    for smaller in _trims(report):
        if len(text.encode()) <= max_bytes:
            break
        text = encode(smaller)
    if len(text.encode()) > max_bytes:  # cannot happen with sane inputs; never exceed anyway
        text = encode({"schema": SCHEMA, "status": report.get("status"), "trimmed": True,
                       "exit_code": report.get("exit_code")})  # fmt: skip
    return text


def check_writable(settings: ReportSettings) -> None:
    """Fail early (``ReportError``) when an explicitly given termination log cannot be written."""
    if not settings.termination_log_required:
        return
    path = Path(settings.termination_log)
    target = path if path.exists() else path.parent
    if not (target.exists() and os.access(target, os.W_OK)) or path.is_dir():
        raise ReportError(f"cannot write termination log {path}: not writable")


def write_termination_log(text: str, settings: ReportSettings) -> bool:
    """Write the report; the default path is used only where it exists (Kubernetes mounts it).

    True when written. An explicitly given path that cannot be written raises ``ReportError``.
    """
    path = Path(settings.termination_log)
    if not settings.termination_log_required and not path.is_file():
        return False
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        if settings.termination_log_required:
            raise ReportError(f"cannot write termination log {path}: {exc.strerror}") from exc
        return False
    return True
