"""Tests for trial records: validation, immutability, dict/JSON round trips, failure policy."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import pytest

from falcon_operator.core.errors import DataError
from falcon_operator.core.records import (
    POLICY,
    FailureKind,
    Outcome,
    TrialRecord,
    best_trial,
    ok_trials,
)
from falcon_operator.core.space import Value

CFG: dict[str, Value] = {"batchsize": 4, "gpumem": 1.2, "gputype": "T4"}


def test_ok_record() -> None:
    rec = TrialRecord(CFG, Outcome.OK, 0.5, metrics={"rps": 12.0})
    assert rec.ok
    assert rec.objective == 0.5


@pytest.mark.parametrize("objective", [None, math.nan, math.inf, -math.inf])
def test_ok_needs_a_finite_objective(objective: float | None) -> None:
    with pytest.raises(DataError):
        TrialRecord(CFG, Outcome.OK, objective)


@pytest.mark.parametrize("kind", [FailureKind.OOM, FailureKind.CRASH])
def test_unsuccessful_trials_carry_no_objective(kind: FailureKind) -> None:
    with pytest.raises(DataError):
        TrialRecord(CFG, kind.outcome, 0.0, failure=kind)
    rec = TrialRecord.failed(CFG, kind, "out of memory")
    assert not rec.ok
    assert rec.objective is None
    assert rec.reason == "out of memory"
    assert rec.failure is kind and rec.outcome is kind.outcome


def test_the_failure_kind_is_set_iff_the_trial_did_not_succeed() -> None:
    with pytest.raises(DataError, match="needs its failure kind"):
        TrialRecord(CFG, Outcome.FAILED, reason="crash")
    with pytest.raises(DataError, match="no failure kind"):
        TrialRecord(CFG, Outcome.OK, 1.0, failure=FailureKind.SLO)
    with pytest.raises(DataError, match="oom failure is infeasible, not failed"):
        TrialRecord(CFG, Outcome.FAILED, failure=FailureKind.OOM)


def test_one_policy_table_covers_every_kind() -> None:
    assert set(POLICY) == set(FailureKind)
    infeasible = {k for k in FailureKind if k.outcome is Outcome.INFEASIBLE}
    assert {FailureKind.OOM, FailureKind.UNSCHEDULABLE} <= infeasible
    assert all(k.outcome is Outcome.FAILED for k in set(FailureKind) - infeasible)
    not_counted = {k for k in FailureKind if not k.counts_against_budget}
    assert {FailureKind.OOM, FailureKind.UNSCHEDULABLE, FailureKind.SLO} <= not_counted
    for kind in (FailureKind.CRASH, FailureKind.TIMEOUT, FailureKind.RUNNER,
                 FailureKind.MEASUREMENT, FailureKind.INTERNAL):  # fmt: skip
        assert kind.counts_against_budget and kind.outcome is Outcome.FAILED
    assert all(k.description and "\n" not in k.description for k in FailureKind)


def test_failed_picks_the_outcome_from_the_policy() -> None:
    oom = TrialRecord.failed(CFG, FailureKind.OOM, "OOMKilled", metrics={"rps": 0.0})
    assert oom.outcome is Outcome.INFEASIBLE and not oom.counts_against_budget
    assert oom.metrics == {"rps": 0.0}
    crash = TrialRecord.failed(CFG, FailureKind.CRASH, "exit 1")
    assert crash.outcome is Outcome.FAILED and crash.counts_against_budget
    slo = TrialRecord.failed(CFG, FailureKind.SLO, "slow")
    assert slo.outcome is Outcome.FAILED and not slo.counts_against_budget
    assert not TrialRecord(CFG, Outcome.OK, 1.0).counts_against_budget


def test_record_is_frozen() -> None:
    rec = TrialRecord(CFG, Outcome.OK, 0.5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.objective = 1.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.outcome = Outcome.FAILED  # type: ignore[misc]


RECORDS = [
    TrialRecord(CFG, Outcome.OK, 0.875, metrics={"rps": 101.5, "p99_ms": 12.25}),
    TrialRecord(CFG, Outcome.OK, -3.0),
    TrialRecord.failed(CFG, FailureKind.UNSCHEDULABLE, "no node fits"),
    TrialRecord.failed({"batchsize": 128, "gpumem": 2.4, "gputype": "V100"}, FailureKind.CRASH, ""),
]


@pytest.mark.parametrize("rec", RECORDS)
def test_to_dict_from_dict_round_trip(rec: TrialRecord) -> None:
    data = rec.to_dict()
    assert data["outcome"] == rec.outcome.value
    assert TrialRecord.from_dict(data) == rec
    via_json = TrialRecord.from_dict(json.loads(json.dumps(data)))
    assert via_json == rec
    assert via_json.outcome is rec.outcome
    assert via_json.to_dict() == data


def test_to_dict_leaves_out_empty_fields() -> None:
    assert RECORDS[3].to_dict() == {
        "config": {"batchsize": 128, "gpumem": 2.4, "gputype": "V100"},
        "outcome": "failed",
        "failure": "crash",
    }
    assert RECORDS[2].to_dict() == {
        "config": CFG,
        "outcome": "infeasible",
        "reason": "no node fits",
        "failure": "unschedulable",
    }
    assert "failure" not in RECORDS[0].to_dict()


def test_an_ok_record_may_carry_an_empty_failure() -> None:
    """History entries always wrote the key: ``""`` for a successful trial."""
    data = {"config": CFG, "outcome": "ok", "objective": 2.0, "failure": ""}
    assert TrialRecord.from_dict(data) == TrialRecord(CFG, Outcome.OK, 2.0)


def test_a_record_written_under_the_old_policy_reads_back_under_todays() -> None:
    """Before one policy, an out-of-memory trial was stored as failed (counted)."""
    data = {"config": CFG, "outcome": "failed", "reason": "OOMKilled", "failure": "oom"}
    rec = TrialRecord.from_dict(data)
    assert rec.outcome is Outcome.INFEASIBLE and rec.failure is FailureKind.OOM
    assert not rec.counts_against_budget


def test_an_unknown_failure_kind_is_a_data_error_naming_the_known_ones() -> None:
    data = {"config": CFG, "outcome": "failed", "failure": "exploded"}
    with pytest.raises(DataError, match=r"unknown failure kind 'exploded' \(known: oom, "):
        TrialRecord.from_dict(data)


@pytest.mark.parametrize(
    "data",
    [
        {"outcome": "ok", "objective": 1.0},  # no config
        {"config": CFG, "objective": 1.0},  # no outcome
        {"config": CFG, "outcome": "exploded"},  # unknown outcome
        {"config": CFG, "outcome": "ok", "objective": "fast"},  # objective not a number
        {"config": CFG, "outcome": "ok"},  # ok without objective
        {"config": CFG, "outcome": "ok", "objective": math.nan},
        {"config": CFG, "outcome": "infeasible", "objective": 0.0},
        {"config": CFG, "outcome": "ok", "objective": 1.0, "metrics": {"rps": "many"}},
        {"config": 5, "outcome": "ok", "objective": 1.0},  # config not a mapping
        {"config": CFG, "outcome": "failed"},  # a failed record without its kind
        {"config": CFG, "outcome": "failed", "failure": ""},
        {"config": CFG, "outcome": "failed", "failure": 3},  # kind not a string
        {"config": CFG, "outcome": "ok", "objective": 1.0, "failure": "slo"},
    ],
)
def test_malformed_dict_raises_data_error(data: dict[str, Any]) -> None:
    with pytest.raises(DataError):
        TrialRecord.from_dict(data)


def test_best_trial_ignores_unsuccessful_trials() -> None:
    history = [RECORDS[2], RECORDS[1], RECORDS[3], RECORDS[0]]
    assert ok_trials(history) == [RECORDS[1], RECORDS[0]]
    assert best_trial(history) is RECORDS[0]
    assert best_trial([RECORDS[2], RECORDS[3]]) is None
    assert best_trial([RECORDS[1]]) is RECORDS[1]
