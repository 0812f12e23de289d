"""What a report shows: a search's trials, its space, its SLO, and the search's view of what it
did not try (report/why.py). Built the same way for an offline search and an operator one."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from falcon_operator.core.objective import Objective
from falcon_operator.core.records import Outcome, TrialRecord, best_trial
from falcon_operator.core.space import Space, Value
from falcon_operator.report.why import Skipped, estimates, skipped, why_line
from falcon_operator.search.falcon import FalconStrategy


@dataclass(frozen=True)
class Trial:
    """One trial as the report lists it."""

    label: str  #: "trial 3" offline, the trial pod's name in the operator
    record: TrialRecord

    def metric(self, key: str) -> float:
        value = self.record.metrics.get(key, math.nan)
        return float(value) if math.isfinite(value) else math.nan


@dataclass(frozen=True)
class ReportData:
    """Everything the page and its plots need."""

    title: str
    space: Space
    trials: list[Trial]
    slo_p99_ms: float | None
    skipped: list[Skipped]
    why: str
    #: extra lines for the page's summary (method, phase, message, ...)
    details: Mapping[str, str] = field(default_factory=dict)
    #: what the scores mean (None: requests per second per dollar-hour)
    goal: Objective | None = None

    @property
    def history(self) -> list[TrialRecord]:
        return [t.record for t in self.trials]

    @property
    def best(self) -> Trial | None:
        best = best_trial(self.history)
        return next((t for t in self.trials if t.record is best), None)

    def counts(self, knob: str) -> dict[Value, dict[Outcome, int]]:
        """How often each value of ``knob`` was tried, by outcome (untried values: zeros)."""
        out: dict[Value, dict[Outcome, int]] = {
            v: dict.fromkeys(Outcome, 0) for v in self.space.knob(knob).values
        }
        k = self.space.knob(knob)
        for t in self.trials:
            if knob in t.record.config:
                out[k.values[k.position(t.record.config[knob])]][t.record.outcome] += 1
        return out


def build(
    title: str,
    space: Space,
    history: Sequence[TrialRecord],
    *,
    strategy: FalconStrategy | None,
    slo_p99_ms: float | None,
    labels: Sequence[str] | None = None,
    details: Mapping[str, str] | None = None,
    goal: Objective | None = None,
) -> ReportData:
    """The report of a search; ``strategy`` (Falcon's, over the search's knowledge) explains
    the values it did not try (without it, they are listed as not tried)."""
    names = list(labels) if labels is not None else [f"trial {i + 1}" for i in range(len(history))]
    trials = [Trial(n, r) for n, r in zip(names, history, strict=True)]
    if strategy is not None:
        skips = skipped(strategy, history, est=estimates(strategy, history), goal=goal)
    else:
        skips = _untried(space, history)
    return ReportData(
        title=title,
        space=space,
        trials=trials,
        slo_p99_ms=slo_p99_ms,
        skipped=skips,
        why=why_line(history, skips),
        details=dict(details or {}),
        goal=goal,
    )


def _untried(space: Space, history: Sequence[TrialRecord]) -> list[Skipped]:
    out = []
    for knob in space.knobs:
        used = {knob.position(r.config[knob.name]) for r in history if knob.name in r.config}
        for pos, value in enumerate(knob.values):
            if pos not in used:
                reason = "not tried (no knowledge base to estimate it)"
                out.append(Skipped(knob.name, value, None, None, None, reason))
    return out
