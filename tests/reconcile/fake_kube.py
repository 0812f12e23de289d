"""The one in-memory API server of the reconcile tests, with the methods of
:class:`falcon_operator.reconcile.kube.Kube`. Plain dicts in and out.

It holds what the controller reads and writes: ConfigMaps (the model's, the history -- merge-
patched like the API server does --, any other), trial pods, the searches' status (merge-patched),
the events they record and the objects applied. Knobs for the special cases: ``ready_after_s``
(a created pod is Pending that long, then Ready on a KWOK node), ``create_error`` (create_pod
raises it: quota exceeded, a bug), ``killed_as`` (every created pod is killed with that reason and
exit code) and :meth:`FakeKube.add_ready_pod` (a pod that exists without being created). Tests
subclass it to override one call (a patch that fails, an apply that is forbidden, ...).
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
EPOCH = "2026-01-01T00:00:00Z"


def _merge(into: Obj, patch: Mapping[str, Any]) -> None:
    """JSON merge patch (RFC 7386): None deletes a key, dicts merge, the rest replaces."""
    for key, value in patch.items():
        if value is None:
            into.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


def ready_pod_manifest(name: str, *, created: str = EPOCH, ready_at: str = EPOCH) -> Obj:
    """Pod ``name`` as the API server returns it: Running on a KWOK node, Ready at ``ready_at``."""
    return {
        "metadata": {"name": name, "creationTimestamp": created},
        "spec": {"nodeName": "kwok-t4-0"},
        "status": {
            "phase": "Running",
            "podIP": "127.1.0.9",
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": ready_at}],
        },
    }


def killed_status(reason: str, exit_code: int) -> Obj:
    """The status of a pod whose Triton container the kubelet ended (``OOMKilled``, ``Error``)."""
    term = {"terminated": {"exitCode": exit_code, "reason": reason, "message": ""}}
    return {
        "phase": "Failed",
        "reason": reason,
        "containerStatuses": [
            {"name": "triton", "state": term},
            {"name": "trial-runner", "state": {"terminated": {"exitCode": 0}}},
        ],
    }


class FakeKube:
    """The cluster state of one namespace's searches; survives any number of operator restarts."""

    def __init__(
        self,
        *,
        model_configmap: str = "resnet-mini-model",
        model_key: str = "model.onnx",
        ready_after_s: float = 0.0,
        killed_as: tuple[str, int] | None = None,
    ) -> None:
        data = base64.b64encode(MODEL.read_bytes()).decode()
        model = {"metadata": {"name": model_configmap}, "binaryData": {model_key: data}}
        self.configmaps: dict[str, Obj] = {model_configmap: model}
        self.pods: dict[str, Obj] = {}
        self.status: dict[str, Obj] = {}  #: search name -> its status
        self.status_patches: list[Obj] = []  #: every status patch, in order
        self.events: list[tuple[str, str, str]] = []  #: (type, reason, message)
        self.applied: list[Obj] = []
        self.forced: list[bool] = []  #: the force flag of every apply, in order
        self.deployments: dict[str, Obj] = {}
        self.created_pods: list[str] = []  #: every pod ever created, in order
        #: every key merge-patched into a ConfigMap's data, in order: a trial recorded twice shows
        self.appended: list[str] = []
        #: raised by create_pod (e.g. a PermanentError: quota exceeded); None: create
        self.create_error: Exception | None = None
        self.create_calls = 0
        #: seconds from a pod's creation to its readiness (Pending until then)
        self.ready_after_s = ready_after_s
        #: (reason, exit code) every created pod is killed with; None: they run
        self.killed_as = killed_as
        self._created: dict[str, float] = {}

    @property
    def kube(self) -> Kube:
        """This fake typed as the real client (what the code under test expects)."""
        return cast(Kube, self)

    # -- the search ------------------------------------------------------------------------------
    async def patch_search_status(
        self, namespace: str, name: str, patch: Mapping[str, Any]
    ) -> None:
        self.status_patches.append(copy.deepcopy(dict(patch)))
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

    def add_ready_pod(self, name: str, *, ready_at: str = EPOCH) -> Obj:
        """Pod ``name`` Running and Ready (created at EPOCH, not through create_pod)."""
        pod = ready_pod_manifest(name, ready_at=ready_at)
        self.pods[name] = pod
        return pod

    async def create_pod(self, namespace: str, body: Obj) -> bool:
        self.create_calls += 1
        if self.create_error is not None:
            raise self.create_error
        name = body["metadata"]["name"]
        if name in self.pods:
            return False
        now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        server = ready_pod_manifest(name, created=now, ready_at=now)
        pod = copy.deepcopy(body)
        pod["metadata"]["creationTimestamp"] = now
        pod["spec"] |= server["spec"]
        pod["status"] = server["status"]
        if self.killed_as is not None:
            pod["status"] = killed_status(*self.killed_as)
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
        self.appended += list(patch.get("data") or {})
        _merge(self.configmaps[name], patch)
        return True

    def history(self, search: str) -> Obj:
        """Search ``search``'s history ConfigMap's data (t000.json → JSON); {} when none."""
        return dict((self.configmaps.get(f"{search}-trials") or {}).get("data") or {})

    async def get_deployment(self, namespace: str, name: str) -> Obj | None:
        return copy.deepcopy(self.deployments.get(name))

    async def apply(self, body: Obj, *, force: bool = False) -> None:
        self.applied.append(copy.deepcopy(body))
        self.forced.append(force)
        store = self.deployments if body["kind"] == "Deployment" else self.configmaps
        store[body["metadata"]["name"]] = copy.deepcopy(body)

    # -- events ----------------------------------------------------------------------------------
    async def event(self, ref: SearchRef, type_: str, reason: str, message: str) -> None:
        self.events.append((type_, reason, message))

    def reasons(self) -> list[str]:
        return [reason for _, reason, _ in self.events]

    def said(self) -> list[tuple[str, str]]:
        """The events as (reason, message)."""
        return [(reason, message) for _, reason, message in self.events]


class Never:
    """A stop flag that is never set: the search runs to its end."""

    def is_set(self) -> bool:
        return False


def model_ref() -> Obj:
    """A search's ``spec.model``: ResNet-mini from the model ConfigMap FakeKube holds."""
    ref = {"name": "resnet-mini-model", "key": "model.onnx"}
    return {"name": "resnet-mini", "configMapRef": ref}


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
            "model": model_ref(),
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
