"""Run ``falcon operator run --simulate-trials`` against the e2e cluster, and watch searches."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client
from prometheus_client.parser import text_string_to_metric_families

from falcon_e2e.cluster import REPO, wait_for

GROUP, VERSION, PLURAL = "autoconfig.falcon.io", "v1alpha1", "inferenceconfigsearches"
MODEL = REPO / "operator/falcon_operator/data/models/resnet-mini.onnx"
EXAMPLE = REPO / "examples/inference-config-search.yaml"
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Usage:
    """CPU seconds and peak resident memory of a process."""

    cpu_s: float
    peak_rss_mb: float


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def usage(pid: int) -> Usage:
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(stat[11]) + int(stat[12])) / TICKS
    peak = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
    return Usage(cpu, peak)


class OperatorProcess:
    """One operator process (simulated trials) watching some namespaces."""

    def __init__(self, kubeconfig: Path, namespaces: list[str], log: Path, *extra: str) -> None:
        self.kubeconfig, self.namespaces, self.log, self.extra = kubeconfig, namespaces, log, extra
        self.proc: subprocess.Popen[bytes] | None = None
        self.last_usage: Usage | None = None
        self.metrics_port = free_port()

    def start(self) -> OperatorProcess:
        args = [
            sys.executable,
            "-m",
            "falcon_operator.cli.operator",
            "--kubeconfig",
            str(self.kubeconfig),
            "--simulate-trials",
            "--poll-seconds",
            "0.5",
            "--metrics-port",
            str(self.metrics_port),
            "--lease-namespace",
            self.namespaces[0],
            *self.extra,
        ]
        for ns in self.namespaces:
            args += ["--namespace", ns]
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        with self.log.open("ab") as fh:
            self.proc = subprocess.Popen(args, stdout=fh, stderr=subprocess.STDOUT, env=env)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def sample(self) -> Usage:
        self.last_usage = usage(self.pid)
        return self.last_usage

    def metric(self, name: str) -> float:
        """One sample of the operator's own /metrics (0 when absent)."""
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        text = urllib.request.urlopen(url, timeout=10).read().decode()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name:
                    return float(sample.value)
        return 0.0

    def kill(self) -> None:
        """SIGKILL: no cleanup at all, as when a node dies."""
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)

    def stop(self, timeout: float = 60.0) -> int | None:
        if self.proc is None:
            return None
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)
        return self.proc.returncode

    def tail(self, n: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])


def model_configmap(
    core: client.CoreV1Api, namespace: str, name: str = "resnet-mini-model"
) -> None:
    data = base64.b64encode(MODEL.read_bytes()).decode()
    core.create_namespaced_config_map(
        namespace,
        client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name=name), binary_data={"model.onnx": data}
        ),
    )


def search_manifest(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """An InferenceConfigSearch of the shipped ResNet-mini (ConfigMap resnet-mini-model, the
    ``model`` fixture's) with ``spec``'s other sections."""
    model = {
        "name": "resnet-mini",
        "configMapRef": {"name": "resnet-mini-model", "key": "model.onnx"},
    }
    return {
        "apiVersion": "autoconfig.falcon.io/v1alpha1",
        "kind": "InferenceConfigSearch",
        "metadata": {"name": name},
        "spec": {"model": model, **spec},
    }


def get_search(api: client.CustomObjectsApi, ns: str, name: str) -> dict[str, Any]:
    obj: dict[str, Any] = api.get_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, name)
    return obj


def create_search(api: client.CustomObjectsApi, ns: str, body: dict[str, Any]) -> None:
    api.create_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, body)


def wait_search(
    api: client.CustomObjectsApi,
    ns: str,
    name: str,
    phases: tuple[str, ...] = ("Succeeded", "Failed"),
    timeout: float = 120.0,
) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        obj = get_search(api, ns, name)
        return obj if (obj.get("status") or {}).get("phase") in phases else None

    return wait_for(check, timeout=timeout, interval=0.5, what=f"search {ns}/{name} in {phases}")


def condition(obj: dict[str, Any], type_: str) -> dict[str, Any]:
    conds = (obj.get("status") or {}).get("conditions") or []
    return next((c for c in conds if c["type"] == type_), {})


def trial_pods(core: client.CoreV1Api, ns: str, search: str) -> list[str]:
    pods = core.list_namespaced_pod(ns, label_selector=f"autoconfig.falcon.io/search={search}")
    return [p.metadata.name for p in pods.items]


def history(core: client.CoreV1Api, ns: str, search: str) -> dict[str, str]:
    cm = core.read_namespaced_config_map(f"{search}-trials", ns)
    return dict(cm.data or {})


def history_records(core: client.CoreV1Api, ns: str, search: str) -> list[dict[str, Any]]:
    """The search's trial records, in trial order (the history ConfigMap's keys sort so)."""
    return [json.loads(v) for _, v in sorted(history(core, ns, search).items())]


def delete_searches(api: client.CustomObjectsApi, ns: str, timeout: float = 60.0) -> None:
    """Delete every search of ``ns`` and wait until they are gone (the operator must run)."""
    api.delete_collection_namespaced_custom_object(GROUP, VERSION, ns, PLURAL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not api.list_namespaced_custom_object(GROUP, VERSION, ns, PLURAL)["items"]:
            return
        time.sleep(0.5)
    # the operator did not release them: drop the finalizers so the namespace can go
    for obj in api.list_namespaced_custom_object(GROUP, VERSION, ns, PLURAL)["items"]:
        api.patch_namespaced_custom_object(
            GROUP, VERSION, ns, PLURAL, obj["metadata"]["name"], {"metadata": {"finalizers": None}}
        )
