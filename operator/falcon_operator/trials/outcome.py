"""Turn what a trial measured into its record: two sources, checked against each other.

The runner's report gives throughput and latency percentiles; Triton's counters over the same
run must agree with the runner's request counts, or the trial is failed ("measurement"). The
objective is requests per second per dollar-hour. (Simulated trials have no runner report:
their verdict comes from the simulated fleet, trials/simulated.py.)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from falcon_operator.core.numbers import slo_break
from falcon_operator.core.records import Outcome, TrialRecord
from falcon_operator.core.space import Value
from falcon_operator.metrics import WindowMeasurement


@dataclass(frozen=True)
class Verdict:
    """A trial's record and, when it failed, the failure kind (see history.TrialEntry)."""

    record: TrialRecord
    failure: str = ""


def failed(config: Mapping[str, Value], failure: str, reason: str) -> Verdict:
    outcome = Outcome.INFEASIBLE if failure == "unschedulable" else Outcome.FAILED
    return Verdict(TrialRecord(dict(config), outcome, reason=reason[:500]), failure)


def _finite(values: Mapping[str, float | None]) -> dict[str, float]:
    return {k: float(v) for k, v in values.items() if v is not None and math.isfinite(v)}


def _cross_check(report: Mapping[str, Any], window: WindowMeasurement | None) -> str:
    """Triton's successes against the runner's, or "" when they agree.

    The window covers exactly the runner's requests (from zero at a fresh trial server's
    readiness, or scraped right before and after an in-process run on a reused one), so Triton
    counts every request the runner saw succeed, and more only for requests the runner gave up
    on (failed at the client, or unfinished when it stopped) that the server still completed.
    """
    if window is None:
        return ""
    totals = report.get("totals") or {}
    ok = float(totals.get("succeeded", 0))
    gave_up = float(totals.get("failed", 0)) + float(totals.get("unfinished", 0))
    triton = float(window.requests)
    if not ok <= triton <= ok + gave_up:
        return (
            f"Triton counted {triton:.0f} successful requests, the runner {ok:.0f} "
            f"(and {gave_up:.0f} it gave up on)"
        )
    return ""


def judge(
    config: Mapping[str, Value],
    report: Mapping[str, Any],
    window: WindowMeasurement | None,
    *,
    cost_per_hour: float,
    slo_p99_ms: float | None,
) -> Verdict:
    """The verdict of a trial whose runner produced ``report``."""
    if report.get("status") == "error" or "result" not in report:
        err = report.get("error") or {}
        return failed(
            config,
            "runner",
            f"trial runner {err.get('kind', 'error')}: {err.get('message', 'no result')}",
        )
    mismatch = _cross_check(report, window)
    if mismatch:
        return failed(config, "measurement", mismatch)
    result = report["result"]
    rps = float(result.get("throughput_rps") or 0.0)
    p99 = result.get("p99_ms")
    p99_ms = float(p99) if p99 is not None else math.nan
    metrics = _finite(
        {
            "rps": rps,
            "p50_ms": _number(result.get("p50_ms")),
            "p99_ms": p99_ms,
            "cost_per_hour": cost_per_hour,
            "stable": 1.0 if result.get("stable") else 0.0,
            "concurrency": float(result.get("concurrency") or 0),
            "triton_rps": None if window is None else window.request_rps,
            # the two request counts that were checked against each other
            "runner_requests": _number((report.get("totals") or {}).get("succeeded")),
            "triton_requests": None if window is None else window.requests,
            "avg_batch_size": None if window is None else window.avg_batch_size,
            "gpu_utilization": None if window is None else window.gpu_utilization,
        }
    )
    if rps <= 0:
        return Verdict(
            TrialRecord(
                dict(config), Outcome.FAILED, reason="no successful request", metrics=metrics
            ),
            "runner",
        )
    if slo_p99_ms is not None and not p99_ms <= slo_p99_ms:
        reason = slo_break(p99_ms, slo_p99_ms)
        return Verdict(
            TrialRecord(dict(config), Outcome.FAILED, reason=reason, metrics=metrics), "slo"
        )
    return Verdict(TrialRecord(dict(config), Outcome.OK, rps / cost_per_hour, metrics=metrics))


def _number(value: Any) -> float | None:
    return None if value is None else float(value)
