"""Tests for trial records: validation, immutability, dict/JSON round trips."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import pytest

from falcon_operator.core.errors import DataError
from falcon_operator.core.records import Outcome, TrialRecord, best_trial, ok_trials
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


@pytest.mark.parametrize("outcome", [Outcome.INFEASIBLE, Outcome.FAILED])
def test_unsuccessful_trials_carry_no_objective(outcome: Outcome) -> None:
    with pytest.raises(DataError):
        TrialRecord(CFG, outcome, 0.0)
    rec = TrialRecord(CFG, outcome, reason="out of memory")
    assert not rec.ok
    assert rec.objective is None
    assert rec.reason == "out of memory"


def test_record_is_frozen() -> None:
    rec = TrialRecord(CFG, Outcome.OK, 0.5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.objective = 1.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.outcome = Outcome.FAILED  # type: ignore[misc]


RECORDS = [
    TrialRecord(CFG, Outcome.OK, 0.875, metrics={"rps": 101.5, "p99_ms": 12.25}),
    TrialRecord(CFG, Outcome.OK, -3.0),
    TrialRecord(CFG, Outcome.INFEASIBLE, reason="no node fits"),
    TrialRecord({"batchsize": 128, "gpumem": 2.4, "gputype": "V100"}, Outcome.FAILED),
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
    }
    assert RECORDS[2].to_dict() == {
        "config": CFG,
        "outcome": "infeasible",
        "reason": "no node fits",
    }


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
