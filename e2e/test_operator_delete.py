"""Deleting a search mid-trial removes its trial pods quickly (explicit cleanup + owner refs)."""

from __future__ import annotations

import sys
import time

import yaml
from falcon_e2e.cluster import wait_for
from falcon_e2e.operator import (
    EXAMPLE,
    GROUP,
    PLURAL,
    VERSION,
    OperatorProcess,
    create_search,
    trial_pods,
)
from kubernetes import client


def test_deleting_a_search_mid_trial_deletes_its_pods(
    core: client.CoreV1Api,
    custom: client.CustomObjectsApi,
    namespace: str,
    model: str,
    operator: OperatorProcess,
) -> None:
    body = yaml.safe_load(EXAMPLE.read_text())
    body["spec"]["budget"].update(measurementSeconds=3, maxParallelTrials=2)
    create_search(custom, namespace, body)
    wait_for(
        lambda: len(trial_pods(core, namespace, "resnet-mini")) >= 2,
        timeout=60,
        interval=0.2,
        what="two trial pods",
    )
    t0 = time.monotonic()
    custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "resnet-mini")
    wait_for(
        lambda: not trial_pods(core, namespace, "resnet-mini"),
        timeout=30,
        interval=0.2,
        what="every trial pod deleted",
    )
    pods_gone = time.monotonic() - t0

    def search_gone() -> bool:
        items = custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)["items"]
        return not items

    wait_for(search_gone, timeout=30, interval=0.2, what="the search gone")
    assert operator.alive()
    print(
        f"\n[e2e] delete: trial pods gone {pods_gone:.1f} s after the search was deleted, "
        f"search gone after {time.monotonic() - t0:.1f} s",
        file=sys.stderr,
    )
