"""The real mission's pieces: images on real-0, the chart's values there, and watching its pods.

``import_images`` builds (when missing) and imports the four locally built images into the
real node's containerd; ``operator_values`` are the chart values that run the operator as a pod
on real-0 (hostNetwork, the apiserver's address, free host ports, both taints tolerated, the
busybox image for the init container); ``PodWatcher`` polls a namespace's pods in a thread and
prints every change of phase, readiness or container state, keeping the trial runners'
termination messages; ``diagnostics`` is what a failed run prints.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Any

from kubernetes import client

from falcon_e2e.cluster import Cluster
from falcon_e2e.nodepools import GPU_TAINT
from falcon_e2e.operator import free_port
from falcon_e2e.realnode import POOL, REAL_TAINT, apiserver_env

OPERATOR_IMAGE = "ghcr.io/falcon-operator/falcon-operator:0.1.0"
RUNNER_IMAGE = "ghcr.io/falcon-operator/falcon-trial:0.1.0"
TRITON_IMAGE = "ghcr.io/falcon-operator/tritonserver-cpu:2.51.0"
BUSYBOX_IMAGE = "ghcr.io/falcon-operator/busybox:1.35.0"
IMAGES = (OPERATOR_IMAGE, RUNNER_IMAGE, TRITON_IMAGE, BUSYBOX_IMAGE)
NODE_SELECTOR = {"falcon.io/node-pool": POOL.name}


def log(message: str) -> None:
    print(f"[mission {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def import_images(cluster: Cluster) -> dict[str, Path]:
    """Build what is missing (``images.build``) and import every image into real-0."""
    from images.build import archives

    t0 = time.monotonic()
    built = archives()
    missing = [name for name in IMAGES if name not in built]
    assert not missing, f"images.build has no {missing} (it has {sorted(built)})"
    for name in IMAGES:
        imported = cluster.import_image(built[name])
        assert any(name in n for n in imported), f"{built[name]} imported as {imported}"
    log(f"imported {len(IMAGES)} images into real-0 in {time.monotonic() - t0:.1f} s")
    return {name: built[name] for name in IMAGES}


def operator_values(cluster: Cluster, namespace: str) -> dict[str, Any]:
    """Chart values for one operator pod on real-0 watching ``namespace``."""
    env = apiserver_env(cluster.kubeconfig)
    return {
        "crds": {"enabled": False},  # applied from crds/ by the crds fixture
        "image": {"pullPolicy": "Never"},
        "prepareImage": BUSYBOX_IMAGE,
        "runnerImage": RUNNER_IMAGE,
        # the searches' CPU Triton image (the default policy allows the pinned GPU image only)
        "imagePolicy": {"allowedTritonImages": [TRITON_IMAGE]},
        "watchNamespaces": [namespace],
        "leaderElection": {"enabled": False},
        "pollSeconds": 1,
        "hostNetwork": True,
        "extraEnv": [{"name": k, "value": v} for k, v in sorted(env.items())],
        "metrics": {"port": free_port()},
        "liveness": {"port": free_port()},
        "nodeSelector": dict(NODE_SELECTOR),
        "tolerations": [
            {"key": t["key"], "operator": "Exists", "effect": t["effect"]}
            for t in (GPU_TAINT, REAL_TAINT)
        ],
    }


def _describe(pod: client.V1Pod) -> str:
    status = pod.status
    ready = next((c.status for c in status.conditions or [] if c.type == "Ready"), "-")
    parts = [f"phase={status.phase}", f"ready={ready}"]
    for cs in [*(status.init_container_statuses or []), *(status.container_statuses or [])]:
        state = cs.state
        if state.running:
            what = "running" + ("+ready" if cs.ready else "")
        elif state.terminated:
            what = f"exited {state.terminated.exit_code} ({state.terminated.reason})"
        elif state.waiting:
            what = f"waiting ({state.waiting.reason})"
        else:
            what = "?"
        parts.append(f"{cs.name}:{what}")
    return " ".join(parts)


class PodWatcher:
    """Polls a namespace's pods; logs each change; keeps runner termination messages."""

    def __init__(self, core: client.CoreV1Api, namespace: str, *, interval: float = 0.5) -> None:
        self.core, self.namespace, self.interval = core, namespace, interval
        self.history: list[tuple[float, str, str]] = []
        self.reports: dict[str, str] = {}  #: pod -> the trial-runner's termination message
        self._last: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._t0 = time.monotonic()

    def __enter__(self) -> PodWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                pods = self.core.list_namespaced_pod(self.namespace).items
            except Exception as exc:  # the apiserver is busy: try again
                log(f"pod watcher: {exc}")
                continue
            for name in sorted(set(self._last) - {p.metadata.name for p in pods}):
                if self._last[name] != "gone":
                    self._last[name] = "gone"
                    self.history.append((time.monotonic() - self._t0, name, "gone"))
                    log(f"pod {name}: gone")
            for pod in pods:
                name, text = pod.metadata.name, _describe(pod)
                if self._last.get(name) != text:
                    self._last[name] = text
                    self.history.append((time.monotonic() - self._t0, name, text))
                    log(f"pod {name}: {text}")
                for cs in pod.status.container_statuses or []:
                    term = cs.state.terminated if cs.state else None
                    if cs.name == "trial-runner" and term is not None and term.message:
                        self.reports.setdefault(name, term.message)


def diagnostics(cluster: Cluster, namespace: str) -> str:
    """The namespace's pods described, every container's log, its events (for a failure)."""
    out = []

    def run(*args: str) -> str:
        try:
            return cluster.tool("kubectl", *args)
        except AssertionError as exc:
            return str(exc)

    out.append(run("get", "pods", "-n", namespace, "-o", "wide"))
    out.append(run("describe", "pods", "-n", namespace))
    pods = run("get", "pods", "-n", namespace, "-o", "name").split()
    for pod in pods:
        out.append(f"--- logs of {pod} ---")
        out.append(run("logs", "-n", namespace, pod, "--all-containers", "--tail=60"))
    out.append(run("get", "events", "-n", namespace, "--sort-by=.lastTimestamp"))
    return "\n".join(out)
