"""Restart safety: an operator killed mid-search (SIGKILL) and restarted finishes the search
with exactly the trials an undisturbed run has: no trial twice, no trial lost, no orphan pod.
"""

from __future__ import annotations

import copy
import json
import sys
import time

import yaml
from falcon_e2e.cluster import wait_for
from falcon_e2e.operator import (
    EXAMPLE,
    OperatorProcess,
    create_search,
    history,
    history_records,
    trial_pods,
    wait_search,
)
from kubernetes import client


def test_killed_operator_resumes_the_search_without_duplicates(
    core: client.CoreV1Api,
    custom: client.CustomObjectsApi,
    namespace: str,
    model: str,
    operator: OperatorProcess,
) -> None:
    spec = yaml.safe_load(EXAMPLE.read_text())
    spec["spec"]["output"]["mode"] = "Status"
    undisturbed = copy.deepcopy(spec)
    undisturbed["metadata"]["name"] = "undisturbed"
    create_search(custom, namespace, undisturbed)
    assert wait_search(custom, namespace, "undisturbed", timeout=180)["status"]["phase"] == (
        "Succeeded"
    )
    expected = history_records(core, namespace, "undisturbed")

    spec["metadata"]["name"] = "disturbed"
    create_search(custom, namespace, spec)

    def mid_trial() -> bool:
        try:
            done = len(history(core, namespace, "disturbed"))
        except client.ApiException:
            return False
        return done >= 2 and bool(trial_pods(core, namespace, "disturbed"))

    wait_for(mid_trial, timeout=120, interval=0.2, what="two trials recorded, one running")
    operator.kill()
    at_kill = len(history(core, namespace, "disturbed"))
    in_flight = trial_pods(core, namespace, "disturbed")
    time.sleep(2)
    operator.start()
    obj = wait_search(custom, namespace, "disturbed", timeout=180)
    assert obj["status"]["phase"] == "Succeeded", obj["status"].get("message")
    got = history_records(core, namespace, "disturbed")
    # the same budget used: as many trials as the undisturbed run, each index once
    assert len(got) == len(expected) == 6
    assert [r["index"] for r in got] == list(range(6))
    assert len({r["name"] for r in got}) == 6
    assert len({json.dumps(r["config"], sort_keys=True) for r in got}) == 6
    # the first trial has no measurement behind it: the same seed gives the same configuration
    assert got[0]["config"] == expected[0]["config"]
    # the pod that was running when the operator died was adopted, not duplicated
    assert all(p in {r["pod"] for r in got} for p in in_flight)
    wait_for(lambda: not trial_pods(core, namespace, "disturbed"), timeout=30, what="no pods")
    print(
        f"\n[e2e] restart: killed after {at_kill} recorded trials with {in_flight} running; "
        f"finished with {len(got)} trials (undisturbed: {len(expected)})",
        file=sys.stderr,
    )
