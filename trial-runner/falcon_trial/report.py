"""The JSON report: built from a run (or an error), fitted to the termination-message bound.

stdout gets the full report; the termination log gets the same report trimmed, if needed, to
``ReportSettings.max_bytes`` (Kubernetes keeps 4096 bytes): first the per-window lists go, then
the sweep steps lose their percentiles, then only the steps around the knee are kept. A trimmed
report says ``"trimmed": true``. Schema: docs/trial-runner.md.
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
from falcon_trial.settings import ReportSettings, Settings
from falcon_trial.windows import WindowStats

SCHEMA = "falcon-trial/v1"
Report = dict[str, Any]


def _num(x: float, digits: int = 3) -> float | None:
    return round(x, digits) if math.isfinite(x) else None


def _stats(s: WindowStats) -> Report:
    return {
        "throughput_rps": _num(s.throughput_rps, 2),
        "p50_ms": _num(s.p50_ms),
        "p90_ms": _num(s.p90_ms),
        "p99_ms": _num(s.p99_ms),
        "mean_ms": _num(s.mean_ms),
        "requests": s.requests,
        "errors": s.errors,
        "duration_s": _num(s.duration_s, 2),
    }


def measurement_dict(m: Measurement, batch_size: int) -> Report:
    """A measurement: its pooled figures, stability and one compact entry per window."""
    out: Report = {"concurrency": m.concurrency, "stable": m.stable, **_stats(m.summary)}
    out["throughput_ips"] = _num(m.summary.throughput_rps * batch_size, 2)
    out["windows"] = [
        {"rps": _num(w.throughput_rps, 2), "p99_ms": _num(w.p99_ms), "n": w.requests,
         "errors": w.errors}
        for w in m.windows
    ]  # fmt: skip
    return out


def _base(settings: Settings) -> Report:
    s = settings
    return {
        "schema": SCHEMA,
        "model": {"name": s.server.model, "version": s.server.model_version},
        "load": {
            "protocol": s.server.protocol,
            "mode": "sweep" if s.load.sweep_max is not None else "fixed",
            "concurrency": s.load.sweep_max or s.load.concurrency,
            "batch_size": s.inputs.batch_size,
        },
        "slo_p99_ms": s.load.slo_p99_ms,
    }


def build_report(settings: Settings, result: RunResult) -> Report:
    """The report of a completed run (``status`` ok or unstable)."""
    m = result.measurement
    stable = m.stable
    report = _base(settings)
    report["status"] = "ok" if stable else "unstable"
    report["exit_code"] = EXIT_OK if stable else EXIT_UNSTABLE
    model = result.model
    report["model"].update(
        version=model.version, platform=model.platform, max_batch_size=model.max_batch_size
    )
    batch = settings.inputs.batch_size
    report["result"] = measurement_dict(m, batch)
    slo = settings.load.slo_p99_ms
    report["slo_met"] = None if slo is None else bool(m.summary.p99_ms <= slo)
    if result.sweep is not None:
        report["sweep"] = {
            "knee": m.concurrency,
            "reason": result.sweep.reason,
            "steps": [measurement_dict(s, batch) for s in result.sweep.steps],
        }
    t = result.totals
    report["totals"] = {
        "requests": t.requests,
        "succeeded": t.succeeded,
        "failed": t.failed,
        "unfinished": t.unfinished,
    }
    report["ready_wait_s"] = _num(result.ready_wait_s, 2)
    report["elapsed_s"] = _num(result.elapsed_s, 2)
    return report


def error_report(settings: Settings, error: TrialError) -> Report:
    """The report of a failed run: what was asked, and the error."""
    report = _base(settings)
    report["status"] = "error"
    report["exit_code"] = error.exit_code
    report["error"] = {"kind": error.kind, "message": str(error)[:1000]}
    return report


def encode(report: Report) -> str:
    """Compact JSON."""
    return json.dumps(report, separators=(",", ":"), allow_nan=False)


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


def fit(report: Report, max_bytes: int) -> str:
    """The report encoded in at most ``max_bytes`` bytes (trimmed as the module says)."""
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
