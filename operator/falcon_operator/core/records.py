"""Frozen trial records: what happened when one configuration was tried, and why it failed.

A failed or infeasible trial is an observation in its own right (outcome, failure kind, reason),
never a trial whose objective is silently 0. Records round-trip through plain JSON, so a search
can be rebuilt from the stored history alone.

:class:`FailureKind` says why a trial did not succeed; :data:`POLICY` is the one table that
decides, per kind, the trial's outcome (infeasible: the configuration cannot run; failed: it ran
and broke) and whether it uses up ``maxFailedTrials``. docs/troubleshooting.md's table of
failure kinds is generated from it (``python -m falcon_operator.core.failure_doc``).
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


class FailureKind(enum.StrEnum):
    """Why a trial did not succeed; its policy is :data:`POLICY` (``kind.outcome``, …)."""

    OOM = "oom"
    MODEL_LOAD = "model-load"
    UNSCHEDULABLE = "unschedulable"
    NO_DATA = "no-data"
    SLO = "slo"
    CRASH = "crash"
    TIMEOUT = "timeout"
    RUNNER = "runner"
    MEASUREMENT = "measurement"
    DELETED = "deleted"
    INTERNAL = "internal"

    @property
    def outcome(self) -> Outcome:
        """The outcome of a trial that failed this way (infeasible or failed)."""
        return POLICY[self].outcome

    @property
    def counts_against_budget(self) -> bool:
        """Whether a trial that failed this way uses up ``budget.maxFailedTrials``."""
        return POLICY[self].counts_against_budget

    @property
    def description(self) -> str:
        """One line on when a trial fails this way (the docs' table)."""
        return POLICY[self].description


@dataclass(frozen=True)
class Policy:
    """What a failure kind means for the search."""

    outcome: Outcome
    counts_against_budget: bool
    description: str


_INFEASIBLE, _FAILED = Outcome.INFEASIBLE, Outcome.FAILED

#: THE policy of every failure kind: infeasible kinds say the configuration cannot run (the
#: search learns it and goes on), failed kinds that count end the search past maxFailedTrials
POLICY: Mapping[FailureKind, Policy] = {
    FailureKind.OOM: Policy(
        _INFEASIBLE,
        False,
        "a container was killed for memory (OOMKilled), or the simulated "
        "fleet found the model does not fit the GPU memory",
    ),
    FailureKind.MODEL_LOAD: Policy(
        _INFEASIBLE,
        False,
        "Triton could not load the model in this configuration (it refused "
        "the reloaded configuration, or the runner found the model unavailable)",
    ),
    FailureKind.UNSCHEDULABLE: Policy(
        _INFEASIBLE,
        False,
        "no node can take the trial pod (a GPU type or power cap without a "
        "node pool), or it was not scheduled within pendingTimeoutSeconds",
    ),
    FailureKind.NO_DATA: Policy(
        _INFEASIBLE,
        False,
        "an offline table (falcon replay, the benchmark) has no measurement for this configuration",
    ),
    FailureKind.SLO: Policy(
        _FAILED, False, "the trial ran, but its measured p99 latency breaks objective.sloP99Ms"
    ),
    FailureKind.CRASH: Policy(
        _FAILED, True, "a container of the trial pod exited with an error (not for memory)"
    ),
    FailureKind.TIMEOUT: Policy(
        _FAILED,
        True,
        "the pod was not ready within readyTimeoutSeconds, or the runner did not report in time",
    ),
    FailureKind.RUNNER: Policy(
        _FAILED,
        True,
        "the trial runner reported an error (its error kind is in the reason), "
        "no successful request, or a report the operator cannot read",
    ),
    FailureKind.MEASUREMENT: Policy(
        _FAILED, True, "Triton's request counters disagree with the runner's"
    ),
    FailureKind.DELETED: Policy(
        _FAILED, True, "the trial pod disappeared or ended before the trial finished"
    ),
    FailureKind.INTERNAL: Policy(
        _FAILED, True, "a bug in the operator while running the trial (see its log)"
    ),
}


def _check_policy() -> None:
    missing = set(FailureKind) - set(POLICY)
    if missing:  # pragma: no cover - a kind added without its policy is a bug at import
        raise AssertionError(f"failure kinds without a policy: {sorted(missing)}")


_check_policy()


def failure_kind(text: str) -> FailureKind:
    """The kind named ``text``; DataError naming the known kinds otherwise."""
    try:
        return FailureKind(text)
    except ValueError:
        known = ", ".join(k.value for k in FailureKind)
        raise DataError(f"unknown failure kind {text!r} (known: {known})") from None


@dataclass(frozen=True)
class TrialRecord:
    """One finished trial. Immutable; ``metrics`` holds any extra measurements (rps, p99, …).

    ``failure`` is set iff the outcome is not ok, and then the outcome is the kind's
    (:data:`POLICY`); :meth:`failed` builds such a record.
    """

    config: Mapping[str, Value]
    outcome: Outcome
    objective: float | None = None
    reason: str = ""
    metrics: Mapping[str, float] = field(default_factory=dict)
    failure: FailureKind | None = None

    def __post_init__(self) -> None:
        # keep private copies, so later changes to the caller's dicts cannot alter the record
        object.__setattr__(self, "config", dict(self.config))
        object.__setattr__(self, "metrics", dict(self.metrics))
        if self.outcome is Outcome.OK:
            if self.objective is None or not math.isfinite(self.objective):
                raise DataError(f"an ok trial needs a finite objective, got {self.objective!r}")
            if self.failure is not None:
                raise DataError(f"an ok trial has no failure kind, got {self.failure.value!r}")
            return
        if self.objective is not None:
            raise DataError(f"a {self.outcome.value} trial has no objective")
        if self.failure is None:
            raise DataError(f"a {self.outcome.value} trial needs its failure kind")
        if self.failure.outcome is not self.outcome:
            raise DataError(
                f"a {self.failure.value} failure is {self.failure.outcome.value}, "
                f"not {self.outcome.value}"
            )

    @staticmethod
    def failed(
        config: Mapping[str, Value],
        kind: FailureKind,
        reason: str,
        *,
        metrics: Mapping[str, float] | None = None,
    ) -> TrialRecord:
        """The record of a trial that failed as ``kind``; the outcome is the kind's policy."""
        return TrialRecord(config, kind.outcome, reason=reason, metrics=metrics or {}, failure=kind)

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    @property
    def counts_against_budget(self) -> bool:
        """Whether this trial uses up the failure budget (maxFailedTrials)."""
        return self.failure is not None and self.failure.counts_against_budget

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"config": dict(self.config), "outcome": self.outcome.value}
        if self.objective is not None:
            out["objective"] = self.objective
        if self.reason:
            out["reason"] = self.reason
        if self.metrics:
            out["metrics"] = dict(self.metrics)
        if self.failure is not None:
            out["failure"] = self.failure.value
        return out

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> TrialRecord:
        """A record from :meth:`to_dict`'s form (or a history entry: the same keys).

        A not-ok record's outcome follows its failure kind's policy, so a record written under
        an older policy (an ``oom`` trial stored as ``failed``) reads back under today's; an
        ok record may carry ``"failure": ""``. An unknown kind is a DataError.
        """
        try:
            outcome = Outcome(data["outcome"])
            text = data.get("failure") or ""
            if not isinstance(text, str):
                raise TypeError(f"failure kind {text!r} is not a string")
            kind = failure_kind(text) if text else None
            return TrialRecord(
                config=dict(data["config"]),
                outcome=kind.outcome if kind is not None else outcome,
                objective=None if data.get("objective") is None else float(data["objective"]),
                reason=str(data.get("reason", "")),
                metrics={str(k): float(v) for k, v in dict(data.get("metrics", {})).items()},
                failure=kind,
            )
        except (KeyError, ValueError, TypeError) as exc:  # DataError is a ValueError
            raise DataError(f"malformed trial record {dict(data)!r}: {exc}") from exc


History = Sequence[TrialRecord]


def ok_trials(history: History) -> list[TrialRecord]:
    return [t for t in history if t.ok]


def best_trial(history: History) -> TrialRecord | None:
    ok = ok_trials(history)
    return max(ok, key=lambda t: t.objective or 0.0) if ok else None


def as_config(config: Mapping[str, Value]) -> Config:
    return dict(config)
