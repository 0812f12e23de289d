"""Turn what a trial measured into its record: two sources, checked against each other.

The runner's report (a typed ``falcon_trial.schema.RunnerReport``) gives throughput and latency
percentiles; Triton's counters over the same run must agree with the runner's request counts,
or the trial is failed (kind ``measurement``). A runner error is kind ``runner``, except a model
Triton could not load (the runner's ``model-load-failed``), which is kind ``model-load``; a
report that cannot be read is kind ``runner`` with the parse error. The price, the SLO and the
score are the search's objective (``core.objective``: requests per second per dollar-hour by
default). (Simulated trials have no runner report: their record comes from the simulated fleet,
trials/simulated.py.)
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from falcon_operator.core.numbers import slo_break
from falcon_operator.core.objective import Objective
from falcon_operator.core.records import FailureKind, Outcome, TrialRecord
from falcon_operator.core.space import Value
from falcon_operator.metrics import WindowMeasurement
from falcon_trial.schema import MODEL_LOAD_FAILED, RunnerReport, SchemaError, Status, parse_report

#: a failure's reason is kept to this many characters
REASON_CHARS = 500

#: runner error kinds (falcon_trial.errors) that are a failure kind of their own
RUNNER_KINDS: Mapping[str, FailureKind] = {MODEL_LOAD_FAILED: FailureKind.MODEL_LOAD}


def failed(config: Mapping[str, Value], kind: FailureKind, reason: str) -> TrialRecord:
    """The record of a trial that failed as ``kind`` (its reason shortened)."""
    return TrialRecord.failed(config, kind, reason[:REASON_CHARS])


def read_report(config: Mapping[str, Value], text: str) -> RunnerReport | TrialRecord:
    """The runner's report from a pod's termination message, or the failed record saying
    why it cannot be read (kind ``runner``)."""
    try:
        return parse_report(text)
    except SchemaError as exc:
        return failed(config, FailureKind.RUNNER, f"the trial runner's report is malformed: {exc}")


def _finite(values: Mapping[str, float | None]) -> dict[str, float]:
    return {k: float(v) for k, v in values.items() if v is not None and math.isfinite(v)}


def cross_check(report: RunnerReport, window: WindowMeasurement | None) -> str:
    """Triton's successes against the runner's, or "" when they agree.

    The window covers exactly the runner's requests (from zero at a fresh trial server's
    readiness, or scraped right before and after the runner's run on a reused one), so Triton
    counts every request the runner saw succeed, and more only for requests the runner gave up
    on (failed at the client, or unfinished when it stopped) that the server still completed.
    """
    if window is None:
        return ""
    totals = report.totals
    ok = float(totals.succeeded) if totals else 0.0
    gave_up = float(totals.failed + totals.unfinished) if totals else 0.0
    triton = float(window.requests)
    if not ok <= triton <= ok + gave_up:
        return (
            f"Triton counted {triton:.0f} successful requests, the runner {ok:.0f} "
            f"(and {gave_up:.0f} it gave up on)"
        )
    return ""


def unusable(
    config: Mapping[str, Value], report: RunnerReport, window: WindowMeasurement | None
) -> TrialRecord | None:
    """The failed record of a run that measured nothing usable: a runner error (its kind:
    ``runner``, or ``model-load``), no result, or Triton's counters disagreeing with the
    runner's (``measurement``); None when the report can be judged."""
    if report.status is Status.ERROR or report.result is None:
        err = report.error
        kind = RUNNER_KINDS.get(err.kind, FailureKind.RUNNER) if err else FailureKind.RUNNER
        what = f"{err.kind}: {err.message}" if err else f"{report.status.value}: no result"
        return failed(config, kind, f"trial runner {what}")
    mismatch = cross_check(report, window)
    return failed(config, FailureKind.MEASUREMENT, mismatch) if mismatch else None


def judge(
    config: Mapping[str, Value],
    report: RunnerReport,
    window: WindowMeasurement | None,
    *,
    objective: Objective,
) -> TrialRecord:
    """The record of a trial whose runner produced ``report``, priced and scored by
    ``objective``."""
    cost_per_hour = objective.cost_per_hour(config)
    if (bad := unusable(config, report, window)) is not None:
        return bad
    result = report.result
    assert result is not None  # a report without a result is unusable
    rps = result.throughput_rps or 0.0
    p99_ms = result.p99_ms if result.p99_ms is not None else math.nan
    metrics = _finite(
        {
            "rps": rps,
            "p50_ms": result.p50_ms,
            "p99_ms": p99_ms,
            "cost_per_hour": cost_per_hour,
            "stable": 1.0 if result.stable else 0.0,
            "concurrency": float(result.concurrency),
            "triton_rps": None if window is None else window.request_rps,
            # the two request counts that were checked against each other
            "runner_requests": None if report.totals is None else report.totals.succeeded,
            "triton_requests": None if window is None else window.requests,
            "avg_batch_size": None if window is None else window.avg_batch_size,
            "gpu_utilization": None if window is None else window.gpu_utilization,
        }
    )
    if rps <= 0:
        return TrialRecord.failed(
            config, FailureKind.RUNNER, "no successful request", metrics=metrics
        )
    if objective.slo_broken(p99_ms):
        reason = slo_break(p99_ms, objective.slo_p99_ms or 0.0)
        return TrialRecord.failed(config, FailureKind.SLO, reason, metrics=metrics)
    score = objective.score(rps=rps, p99_ms=p99_ms, cost_per_hour=cost_per_hour)
    return TrialRecord(dict(config), Outcome.OK, score, metrics=metrics)
