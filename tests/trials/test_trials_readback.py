"""Reading trial pods back, and the history records of finished trials."""

from __future__ import annotations

import json
from typing import Any

import pytest

from falcon_operator.core.errors import DataError
from falcon_operator.core.records import FailureKind, Outcome, TrialRecord
from falcon_operator.trials.history import TrialEntry, decode_history, encode_entry, records
from falcon_operator.trials.readback import PodState, failure_reason, never_schedulable, read_pod

CONFIG = {"batchsize": 8, "cpus": 4, "gpumem": 0.0, "gpupower": 75, "gputype": "T4"}
META = {
    "name": "s-t002",
    "creationTimestamp": "2026-01-01T00:00:00Z",
    "annotations": {
        "autoconfig.falcon.io/configuration": json.dumps(CONFIG),
        "autoconfig.falcon.io/trial-index": "2",
    },
}
NO_POOL = (
    "0/12 nodes are available: 1 node(s) had untolerated taint {x: y}, 11 node(s) didn't "
    "match Pod's node affinity/selector. preemption: 0/12 nodes are available: 12 "
    "Preemption is not helpful for scheduling."
)
BUSY = (
    "0/12 nodes are available: 2 Insufficient nvidia.com/gpu, 10 node(s) didn't match Pod's "
    "node affinity/selector. preemption: 0/12 nodes are available: 2 No preemption victims "
    "found for incoming pod, 10 Preemption is not helpful for scheduling."
)


def _pod(status: dict[str, Any], **meta: Any) -> dict[str, Any]:
    return {"metadata": META | meta, "spec": {"nodeName": "t4-pl75-0"}, "status": status}


def _finished_runner(*, triton_ready: bool, exit_code: int = 0) -> dict[str, Any]:
    """A pod as the kubelet reports it once the runner container has exited and Triton runs."""
    report = json.dumps(
        {"schema": "falcon-trial/v1", "status": "ok", "exit_code": 0, "ready_wait_s": 4.5}
    )
    return {
        "phase": "Running",
        "podIP": "198.18.0.9",
        "conditions": [
            {"type": "PodScheduled", "status": "True"},
            {
                "type": "Ready",
                "status": "False",
                "reason": "ContainersNotReady",
                "lastTransitionTime": "2026-01-01T00:01:00Z",
            },
        ],
        "containerStatuses": [
            {"name": "triton", "ready": triton_ready, "state": {"running": {}}},
            {
                "name": "trial-runner",
                "ready": False,
                "state": {
                    "terminated": {
                        "exitCode": exit_code,
                        "reason": "Completed",
                        "message": report,
                        "startedAt": "2026-01-01T00:00:02Z",
                        "finishedAt": "2026-01-01T00:01:00Z",
                    }
                },
            },
        ],
    }


def test_pod_whose_runner_finished_is_ready_while_triton_serves() -> None:
    """Real kubelet: the Ready condition is False once the runner ended; the pod is reusable."""
    view = read_pod(_pod(_finished_runner(triton_ready=True)))
    assert view.state is PodState.READY and view.ip == "198.18.0.9"
    assert view.runner_report is not None and json.loads(view.runner_report)["status"] == "ok"
    # Triton got ready when the runner saw it ready: its start plus ready_wait_s
    assert view.ready_at is not None and view.created_at is not None
    assert (view.ready_at - view.created_at).total_seconds() == 6.5


def test_pod_whose_runner_finished_and_triton_is_not_ready_is_starting() -> None:
    view = read_pod(_pod(_finished_runner(triton_ready=False)))
    assert view.state is PodState.STARTING


def test_ready_pod() -> None:
    view = read_pod(
        _pod(
            {
                "phase": "Running",
                "podIP": "127.1.0.7",
                "conditions": [
                    {"type": "PodScheduled", "status": "True"},
                    {
                        "type": "Ready",
                        "status": "True",
                        "lastTransitionTime": "2026-01-01T00:00:03Z",
                    },
                ],
            }
        )
    )
    assert view.state is PodState.READY and view.ip == "127.1.0.7"
    assert view.index == 2 and view.config == CONFIG and view.node == "t4-pl75-0"
    assert view.ready_at is not None and view.created_at is not None
    assert (view.ready_at - view.created_at).total_seconds() == 3


def test_unschedulable_pod_and_the_schedulers_reasons() -> None:
    view = read_pod(
        _pod(
            {
                "phase": "Pending",
                "conditions": [
                    {
                        "type": "PodScheduled",
                        "status": "False",
                        "reason": "Unschedulable",
                        "message": NO_POOL,
                    }
                ],
            }
        )
    )
    assert view.state is PodState.UNSCHEDULABLE and view.message == NO_POOL
    assert never_schedulable(NO_POOL)
    assert not never_schedulable(BUSY)  # busy GPUs free up: wait
    assert not never_schedulable("something else")


@pytest.mark.parametrize(
    ("reason", "code", "oom"),
    # a bare SIGKILL (137) is a deadline or a preemption as often as memory: only the kubelet's
    # OOMKilled says out of memory
    [("OOMKilled", 137, True), ("Error", 1, False), ("Error", 137, False)],
)
def test_failed_pod(reason: str, code: int, oom: bool) -> None:
    term = {"terminated": {"exitCode": code, "reason": reason, "message": "x"}}
    view = read_pod(
        _pod(
            {
                "phase": "Failed",
                "reason": reason,
                "containerStatuses": [
                    {"name": "triton", "state": term},
                    {"name": "trial-runner", "state": term},
                ],
            }
        )
    )
    assert view.state is PodState.FAILED and view.oom_killed is oom
    assert view.failure is (FailureKind.OOM if oom else FailureKind.CRASH)
    assert f"triton: {reason} (exit {code})" in failure_reason(view)


def test_runner_report_and_deleting_pod() -> None:
    report = {"terminated": {"exitCode": 0, "reason": "Completed", "message": '{"status":"ok"}'}}
    view = read_pod(
        _pod(
            {
                "phase": "Running",
                "containerStatuses": [
                    {"name": "triton", "state": {"running": {}}},
                    {"name": "trial-runner", "state": report},
                ],
            }
        )
    )
    assert view.runner_report == '{"status":"ok"}'
    gone = read_pod(_pod({"phase": "Running"}, deletionTimestamp="2026-01-01T00:01:00Z"))
    assert gone.state is PodState.DELETING
    assert read_pod({"metadata": {"name": "x"}}).config is None


def test_a_report_the_operator_cannot_read_still_reads_the_pod_back() -> None:
    """The report is judged (and the trial failed) when it is measured; here no wait is added."""
    status = _finished_runner(triton_ready=True)
    status["containerStatuses"][1]["state"]["terminated"]["message"] = '{"schema": "x/v9"}'
    view = read_pod(_pod(status))
    assert view.state is PodState.READY and view.ready_at is not None
    assert view.created_at is not None
    assert (view.ready_at - view.created_at).total_seconds() == 2.0


def _entry(index: int, kind: FailureKind | None = None) -> TrialEntry:
    cfg = dict(CONFIG, batchsize=2**index)
    record = (
        TrialRecord(cfg, Outcome.OK, 100.0 + index, metrics={"rps": 50.0})
        if kind is None
        else TrialRecord.failed(cfg, kind, "boom")
    )
    return TrialEntry(index, f"s-t{index:03d}", record, pod=f"s-t{index:03d}")


def test_history_round_trip_in_index_order() -> None:
    entries = [_entry(2), _entry(0, FailureKind.CRASH), _entry(1)]
    data: dict[str, str] = {}
    for e in entries:
        data |= encode_entry(e)
    assert sorted(data) == ["t000.json", "t001.json", "t002.json"]
    assert json.loads(data["t000.json"])["failure"] == "crash"
    assert json.loads(data["t001.json"])["failure"] == ""  # the key entries always had
    back = decode_history(data)
    assert [e.index for e in back] == [0, 1, 2]
    assert back[0] == entries[1] and back[2] == entries[0]
    assert [r.outcome for r in records(back)] == [Outcome.FAILED, Outcome.OK, Outcome.OK]
    assert back[0].record.failure is FailureKind.CRASH


def test_only_counted_kinds_use_up_the_failure_budget() -> None:
    assert _entry(0, FailureKind.CRASH).counts_as_failed
    assert not _entry(0, FailureKind.SLO).counts_as_failed
    assert not _entry(0, FailureKind.UNSCHEDULABLE).counts_as_failed
    assert not _entry(0).counts_as_failed


def test_an_oom_trial_does_not_use_up_the_failure_budget() -> None:
    """Out of memory says the configuration cannot run: infeasible, like the fleet says."""
    oom = _entry(0, FailureKind.OOM)
    assert oom.record.outcome is Outcome.INFEASIBLE and not oom.counts_as_failed


def test_an_old_history_entry_reads_back_under_the_one_policy() -> None:
    """Entries written before one policy: an OOM stored as failed, an ok one with ``""``."""
    old_oom = {
        "index": 0,
        "name": "s-t000",
        "config": CONFIG,
        "outcome": "failed",
        "reason": "triton: OOMKilled (exit 137)",
        "failure": "oom",
        "pod": "s-t000",
    }
    old_ok = {"index": 1, "name": "s-t001", "config": CONFIG, "outcome": "ok", "objective": 12.5}
    old_ok["failure"] = ""
    back = decode_history({"t000.json": json.dumps(old_oom), "t001.json": json.dumps(old_ok)})
    assert back[0].record.outcome is Outcome.INFEASIBLE and not back[0].counts_as_failed
    assert back[0].record.failure is FailureKind.OOM and back[1].record.failure is None
    unknown = dict(old_oom, failure="melted")
    with pytest.raises(DataError, match="unknown failure kind 'melted'"):
        decode_history({"t000.json": json.dumps(unknown)})


@pytest.mark.parametrize(
    "data", [{"t000.json": "{"}, {"t000.json": "[]"}, {"t000.json": '{"index": 0}'}]
)
def test_malformed_history_is_a_data_error(data: dict[str, str]) -> None:
    with pytest.raises(DataError):
        decode_history(data)
