"""Status, recommendation and error mapping: pure pieces of the controller."""

from __future__ import annotations

import pytest
from kubernetes.client.exceptions import ApiException

from falcon_operator.core.catalog import load_catalog
from falcon_operator.core.errors import PermanentError, SpecError, TransientError
from falcon_operator.core.records import FailureKind, Outcome, TrialRecord
from falcon_operator.reconcile import plan
from falcon_operator.reconcile.faults import FaultPlan
from falcon_operator.reconcile.kube import _error
from falcon_operator.reconcile.output import recommendation
from falcon_operator.reconcile.status import progress_status, set_condition
from falcon_operator.spec import parse_spec, resolve
from falcon_operator.trials.history import TrialEntry
from falcon_operator.trials.manifest import SearchRef

CFG = {"batchsize": 8, "cpus": 4, "gpumem": 0.0, "gpupower": 75, "gputype": "T4"}


def test_conditions_keep_their_transition_time_until_they_change() -> None:
    first = set_condition([], "Ready", False, "Running", "m", generation=1, now="t1")
    same = set_condition(first, "Ready", False, "Running", "m2", generation=2, now="t2")
    assert same[0]["lastTransitionTime"] == "t1" and same[0]["observedGeneration"] == 2
    flipped = set_condition(same, "Ready", True, "Done", "m3", generation=2, now="t3")
    assert flipped[0] == {
        "type": "Ready",
        "status": "True",
        "reason": "Done",
        "message": "m3",
        "lastTransitionTime": "t3",
        "observedGeneration": 2,
    }
    both = set_condition(flipped, "Failed", False, "Ok", "", generation=2, now="t3")
    assert [c["type"] for c in both] == ["Ready", "Failed"]


def test_progress_status() -> None:
    ok = TrialRecord(
        CFG, Outcome.OK, 13467.6159, metrics={"rps": 500.0, "p99_ms": 3.0, "cost_per_hour": 0.4}
    )
    bad = TrialRecord.failed(dict(CFG, batchsize=1), FailureKind.CRASH, "Error (exit 1)")
    entries = [
        TrialEntry(0, "s-t000", ok, pod="s-t000"),
        TrialEntry(1, "s-t001", bad, pod="s-t000", reused=True, saved_s=4.0),
    ]
    status = progress_status(
        entries,
        plan.count(entries, running=1),
        max_trials=6,
        recent=1,
        history_configmap="s-trials",
    )
    assert status["trials"] == {
        "done": 2,
        "ok": 1,
        "infeasible": 0,
        "failed": 1,
        "failedCounted": 1,
        "running": 1,
        "max": 6,
        "progress": "2/6",
    }
    assert [t["name"] for t in status["recentTrials"]] == ["s-t001"]
    assert status["recentTrials"][0]["reason"] == "Error (exit 1)"
    assert status["recentTrials"][0]["failure"] == "crash"
    assert status["best"] == {
        "trial": "s-t000",
        "config": CFG,
        "objective": 13468.0,  # four significant digits, as events print it (13468)
        "rps": 500.0,
        "p99Ms": 3.0,
        "costPerHour": 0.4,
        "gpu": "T4",
    }
    assert status["reuse"] == {"trials": 1, "savedSeconds": 4.0}
    assert status["history"] == {"configMap": "s-trials", "records": 2}


def test_recommendation_follows_the_spec() -> None:
    spec = parse_spec(
        {
            "model": {"name": "resnet", "configMapRef": {"name": "cm", "key": "model.onnx"}},
            "searchSpace": {"gpus": [{"type": "T4", "nodeSelector": {"pool": "t4"}}]},
            "output": {"deploymentName": "serve", "replicas": 3, "labels": {"team": "a"}},
        }
    )
    rs = resolve(spec, load_catalog())
    cm, dep = recommendation(rs, SearchRef("s", "ns", "u"), TrialRecord(CFG, Outcome.OK, 1.0))
    assert dep["metadata"]["name"] == "serve" and dep["spec"]["replicas"] == 3
    pod = dep["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"pool": "t4", "autoconfig.falcon.io/gpu-power-limit": "75"}
    assert dep["metadata"]["labels"]["team"] == "a"
    assert dep["spec"]["template"]["metadata"]["labels"]["team"] == "a"
    assert "team" not in dep["spec"]["selector"]["matchLabels"]
    (prepare,) = pod["initContainers"]
    ref = prepare["env"][0]["valueFrom"]["configMapKeyRef"]
    assert ref == {"name": cm["metadata"]["name"], "key": "config.pbtxt"}
    assert "max_batch_size: 8" in cm["data"]["config.pbtxt"]
    assert "ownerReferences" not in dep["metadata"]  # outlives its search


def test_fault_plan() -> None:
    assert FaultPlan.parse(None).fault(0) is None
    assert FaultPlan.parse("oom").fault(5) == "oom"
    crash = FaultPlan.parse("crash@0,2")
    assert [crash.fault(i) for i in range(3)] == ["crash", None, "crash"]
    with pytest.raises(SpecError):
        FaultPlan.parse("explode")


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (500, TransientError),
        (503, TransientError),
        (429, TransientError),
        (409, TransientError),
        (403, PermanentError),
        (422, PermanentError),
    ],
)
def test_api_errors_map_to_retry_or_permanent(status: int, kind: type) -> None:
    exc = ApiException(status=status, reason="x")
    exc.body = '{"message": "the reason"}'
    err = _error(exc, "patch thing")
    assert isinstance(err, kind) and str(err) == f"patch thing: {status} the reason"
