"""Frozen trial records: what happened when one configuration was tried.

A failed or infeasible trial is an observation in its own right (outcome + reason), never a trial
whose objective is silently 0. Records round-trip through plain JSON, so a search can be rebuilt
from the stored history alone.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from falcon_operator.core.errors import DataError
from falcon_operator.core.space import Config, Value


class Outcome(enum.StrEnum):
    """How a trial ended."""

    OK = "ok"  #: measured; ``objective`` is set
    INFEASIBLE = "infeasible"  #: could not run in that configuration (no node, out of memory, …)
    FAILED = "failed"  #: ran but broke (crash, timeout, broken SLO); says nothing about the optimum


@dataclass(frozen=True)
class TrialRecord:
    """One finished trial. Immutable; ``metrics`` holds any extra measurements (rps, p99, …)."""

    config: Mapping[str, Value]
    outcome: Outcome
    objective: float | None = None
    reason: str = ""
    metrics: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # keep private copies, so later changes to the caller's dicts cannot alter the record
        object.__setattr__(self, "config", dict(self.config))
        object.__setattr__(self, "metrics", dict(self.metrics))
        if self.outcome is Outcome.OK:
            if self.objective is None or not math.isfinite(self.objective):
                raise DataError(f"an ok trial needs a finite objective, got {self.objective!r}")
        elif self.objective is not None:
            raise DataError(f"a {self.outcome.value} trial has no objective")

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"config": dict(self.config), "outcome": self.outcome.value}
        if self.objective is not None:
            out["objective"] = self.objective
        if self.reason:
            out["reason"] = self.reason
        if self.metrics:
            out["metrics"] = dict(self.metrics)
        return out

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> TrialRecord:
        try:
            return TrialRecord(
                config=dict(data["config"]),
                outcome=Outcome(data["outcome"]),
                objective=None if data.get("objective") is None else float(data["objective"]),
                reason=str(data.get("reason", "")),
                metrics={str(k): float(v) for k, v in dict(data.get("metrics", {})).items()},
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise DataError(f"malformed trial record {dict(data)!r}: {exc}") from exc


History = Sequence[TrialRecord]


def ok_trials(history: History) -> list[TrialRecord]:
    return [t for t in history if t.ok]


def best_trial(history: History) -> TrialRecord | None:
    ok = ok_trials(history)
    return max(ok, key=lambda t: t.objective or 0.0) if ok else None


def as_config(config: Mapping[str, Value]) -> Config:
    return dict(config)
