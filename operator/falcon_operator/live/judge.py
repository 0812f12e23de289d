"""A live trial's record: the runner's report checked against Triton's counters, scored per core.

The objective of a live search is **throughput per CPU core under a p99 SLO**: requests per
second the server answered, divided by the cores it was pinned to. A trial whose p99 breaks the
SLO fails (kind ``slo``, not counted against the budget), as on the GPU path; a runner error is
kind ``runner`` (``model-load`` when Triton could not load the model), and Triton's successes
must agree with the runner's (kind ``measurement`` otherwise: trials/outcome.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from falcon_operator.core.knobs import CPUS
from falcon_operator.core.numbers import slo_break
from falcon_operator.core.records import FailureKind, Outcome, TrialRecord
from falcon_operator.core.space import Value
from falcon_operator.metrics import WindowMeasurement
from falcon_operator.trials.outcome import unusable
from falcon_trial.schema import RunnerReport

UNIT = "rps/core"


@dataclass(frozen=True)
class LiveObjective:
    """Requests per second per pinned CPU core, under an optional p99 latency objective."""

    slo_p99_ms: float | None = None

    def slo_broken(self, p99_ms: float) -> bool:
        """Whether ``p99_ms`` breaks the SLO (an unknown p99 breaks any SLO)."""
        return self.slo_p99_ms is not None and not p99_ms <= self.slo_p99_ms

    def score(self, *, rps: float, cores: float) -> float:
        """Throughput per core (0 when nothing was served)."""
        return rps / cores if rps > 0 and cores > 0 else 0.0


def judge(
    config: Mapping[str, Value],
    report: RunnerReport,
    window: WindowMeasurement | None,
    *,
    objective: LiveObjective,
) -> TrialRecord:
    """The record of a live trial whose runner produced ``report``."""
    if (bad := unusable(config, report, window)) is not None:
        return bad
    result = report.result
    assert result is not None  # a report without a result is unusable
    rps = result.throughput_rps or 0.0
    p99_ms = result.p99_ms if result.p99_ms is not None else math.nan
    cores = float(config[CPUS])
    metrics = {
        "rps": rps,
        "p99_ms": p99_ms,
        "cores": cores,
        "stable": 1.0 if result.stable else 0.0,
        "concurrency": float(result.concurrency),
    }
    if window is not None:
        metrics["triton_rps"] = window.request_rps
        if (batch := window.avg_batch_size) is not None:
            metrics["avg_batch_size"] = batch
    metrics = {k: v for k, v in metrics.items() if math.isfinite(v)}
    if rps <= 0:
        return TrialRecord.failed(
            config, FailureKind.RUNNER, "no successful request", metrics=metrics
        )
    if objective.slo_broken(p99_ms):
        reason = slo_break(p99_ms, objective.slo_p99_ms or 0.0)
        return TrialRecord.failed(config, FailureKind.SLO, reason, metrics=metrics)
    score = objective.score(rps=rps, cores=cores)
    return TrialRecord(dict(config), Outcome.OK, score, metrics=metrics)
