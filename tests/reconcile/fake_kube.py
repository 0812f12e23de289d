"""An in-memory API server with the methods of :class:`falcon_operator.reconcile.kube.Kube`.

Shared by the reconcile tests that drive the real search code (run_search, SearchLoop, the
history store, the finisher): ConfigMaps (merge-patched like the API server does), trial pods
(Ready on a KWOK node ``ready_after_s`` after creation, unless ``create_error`` refuses them),
the search's status (merge-patched) and the events it records. Plain dicts in and out.
"""

from __future__ import annotations

import base64
import copy
import math
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import falcon_operator
from falcon_operator.reconcile.kube import Kube
from falcon_operator.trials.manifest import SearchRef

MODEL = Path(falcon_operator.__file__).parent / "data/models/resnet-mini.onnx"
Obj = dict[str, Any]


def _merge(into: Obj, patch: Mapping[str, Any]) -> None:
    """JSON merge patch (RFC 7386): None deletes a key, dicts merge, the rest replaces."""
    for key, value in patch.items():
        if value is None:
            into.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


class FakeKube:
    """The cluster state of one namespace's searches; survives any number of operator restarts."""

    def __init__(
        self, *, model_configmap: str = "resnet-mini-model", ready_after_s: float = 0.0
    ) -> None:
        data = base64.b64encode(MODEL.read_bytes()).decode()
        self.configmaps: dict[str, Obj] = {
            model_configmap: {
                "metadata": {"name": model_configmap},
                "binaryData": {"model.onnx": data},
            }
        }
        self.pods: dict[str, Obj] = {}
        self.status: dict[str, Obj] = {}  #: search name -> its status
        self.events: list[tuple[str, str, str]] = []  #: (type, reason, message)
        self.applied: list[Obj] = []
        self.created_pods: list[str] = []  #: every pod ever created, in order
        #: raised by create_pod (e.g. a PermanentError: quota exceeded); None: create
        self.create_error: Exception | None = None
        self.create_calls = 0
        #: seconds from a pod's creation to its readiness (Pending until then)
        self.ready_after_s = ready_after_s
        self._created: dict[str, float] = {}

    @property
    def kube(self) -> Kube:
        """This fake typed as the real client (what the code under test expects)."""
        return cast(Kube, self)

    # -- the search ------------------------------------------------------------------------------
    async def patch_search_status(
        self, namespace: str, name: str, patch: Mapping[str, Any]
    ) -> None:
        _merge(self.status.setdefault(name, {}), patch)

    # -- pods ------------------------------------------------------------------------------------
    def _pod(self, name: str) -> Obj:
        pod = copy.deepcopy(self.pods[name])
        if time.monotonic() - self._created.get(name, -math.inf) < self.ready_after_s:
            pod["status"] = {"phase": "Pending"}
        return pod

    async def list_pods(self, namespace: str, selector: str) -> list[Obj]:
        wanted = dict(term.split("=", 1) for term in selector.split(","))
        return [
            self._pod(name)
            for name, p in self.pods.items()
            if all(p["metadata"].get("labels", {}).get(k) == v for k, v in wanted.items())
        ]

    async def get_pod(self, namespace: str, name: str) -> Obj | None:
        return self._pod(name) if name in self.pods else None

    async def create_pod(self, namespace: str, body: Obj) -> bool:
        self.create_calls += 1
        if self.create_error is not None:
            raise self.create_error
        name = body["metadata"]["name"]
        if name in self.pods:
            return False
        pod = copy.deepcopy(body)
        now = datetime.now(UTC).replace(microsecond=0)
        pod["metadata"]["creationTimestamp"] = now.isoformat().replace("+00:00", "Z")
        pod["spec"]["nodeName"] = "kwok-t4-0"
        pod["status"] = {
            "phase": "Running",
            "podIP": "127.1.0.9",
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "lastTransitionTime": pod["metadata"]["creationTimestamp"],
                }
            ],
        }
        self.pods[name] = pod
        self._created[name] = time.monotonic()
        self.created_pods.append(name)
        return True

    async def delete_pod(self, namespace: str, name: str) -> None:
        self.pods.pop(name, None)

    # -- config maps -----------------------------------------------------------------------------
    async def get_configmap(self, namespace: str, name: str) -> Obj | None:
        cm = self.configmaps.get(name)
        return copy.deepcopy(cm) if cm is not None else None

    async def create_configmap(self, namespace: str, body: Obj) -> bool:
        name = body["metadata"]["name"]
        if name in self.configmaps:
            return False
        self.configmaps[name] = copy.deepcopy(body)
        return True

    async def patch_configmap(self, namespace: str, name: str, patch: Obj) -> bool:
        if name not in self.configmaps:
            return False
        _merge(self.configmaps[name], patch)
        return True

    async def apply(self, body: Obj) -> None:
        self.applied.append(copy.deepcopy(body))

    # -- events ----------------------------------------------------------------------------------
    async def event(self, ref: SearchRef, type_: str, reason: str, message: str) -> None:
        self.events.append((type_, reason, message))

    def reasons(self) -> list[str]:
        return [reason for _, reason, _ in self.events]


def search_body(
    name: str = "resnet-mini",
    *,
    budget: Mapping[str, Any] | None = None,
    space: Mapping[str, Any] | None = None,
    algorithm: Mapping[str, Any] | None = None,
    status: Mapping[str, Any] | None = None,
) -> Obj:
    """An InferenceConfigSearch as the daemon gets it: ResNet-mini from its ConfigMap."""
    body: Obj = {
        "metadata": {"name": name, "namespace": "team-a", "uid": f"uid-{name}", "generation": 1},
        "spec": {
            "model": {
                "name": "resnet-mini",
                "configMapRef": {"name": "resnet-mini-model", "key": "model.onnx"},
            },
            "searchSpace": dict(
                space or {"gpus": [{"type": "T4"}, {"type": "V100"}], "batchSizes": [1, 4, 8]}
            ),
            "objective": {"sloP99Ms": 50.0},
            "budget": dict(budget or {"maxTrials": 4, "maxParallelTrials": 2}),
            "algorithm": dict(algorithm or {"name": "random", "seed": 1}),
        },
    }
    if status is not None:
        body["status"] = dict(status)
    return body
