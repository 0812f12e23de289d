"""The one small Kubernetes client of the controller: plain dicts in and out, async.

Calls go through the official client in worker threads. API errors become the operator's two
kinds: :class:`TransientError` (server errors, throttling, connection problems: retry later)
and :class:`PermanentError` (forbidden, invalid: retrying will not help). "Not found" and
"already exists" are answers, not errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from falcon_operator.core.errors import PermanentError, TransientError
from falcon_operator.reconcile.ownership import APPLY_CONFLICT
from falcon_operator.spec.constants import API_VERSION, FIELD_MANAGER, GROUP, KIND, PLURAL, VERSION
from falcon_operator.trials.manifest import SearchRef

log = logging.getLogger(__name__)

T = TypeVar("T")
Obj = dict[str, Any]
MERGE = "application/merge-patch+json"
APPLY = "application/apply-patch+yaml"


def load_api_client(kubeconfig: str | None = None) -> client.ApiClient:
    """In-cluster credentials when running in a pod (and no kubeconfig given), else kubeconfig."""
    cfg = client.Configuration()
    if kubeconfig is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
        config.load_incluster_config(client_configuration=cfg)  # type: ignore[no-untyped-call]
    else:
        config.load_kube_config(config_file=kubeconfig, client_configuration=cfg)  # type: ignore[no-untyped-call]
    cfg.connection_pool_maxsize = 64
    return client.ApiClient(cfg)


#: the condition reason of a transport failure (no HTTP answer at all)
UNREACHABLE = "ApiServerUnreachable"


def _error(exc: ApiException, what: str) -> Exception:
    """The operator's error for an API error answer: 409 (conflict), 429 (throttled) and 5xx are
    transient; the rest (403 forbidden -- RBAC or an exceeded ResourceQuota --, 422 invalid, ...)
    permanent. The reason is the API's own Status reason (``Forbidden``, ``Invalid``,
    ``TooManyRequests``, ...), the message keeps the API's message (it names the quota)."""
    try:
        status = json.loads(exc.body or "{}")
        message, reason = status.get("message") or exc.reason, status.get("reason") or ""
    except (ValueError, AttributeError):
        message, reason = exc.reason, ""
    text = f"{what}: {exc.status} {message}"
    reason = str(reason) or f"Http{exc.status}"
    if exc.status in (409, 429) or (exc.status or 0) >= 500:
        return TransientError(text, delay=5.0, reason=reason)
    return PermanentError(text, reason=reason)


class Kube:
    """Async access to what the controller reads and writes."""

    def __init__(self, api: client.ApiClient) -> None:
        self.api = api
        self.core = client.CoreV1Api(api)
        self.apps = client.AppsV1Api(api)
        self.custom = client.CustomObjectsApi(api)
        self.coordination = client.CoordinationV1Api(api)
        self.instance = socket.gethostname()

    async def _call(self, what: str, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        """Run ``fn`` in a thread; 404 → None; other API errors → Transient/PermanentError."""
        try:
            result = await asyncio.to_thread(fn, *args, **kw)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise _error(exc, what) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise TransientError(f"{what}: {exc}", delay=5.0, reason=UNREACHABLE) from None
        if kw.get("_preload_content") is False:
            return json.loads(result.data or b"null")
        return result

    async def _create(self, what: str, fn: Callable[..., Any], *args: Any) -> bool:
        """Create; False when it already exists."""
        try:
            await asyncio.to_thread(fn, *args)
        except ApiException as exc:
            if exc.status == 409:
                return False
            raise _error(exc, what) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise TransientError(f"{what}: {exc}", delay=5.0, reason=UNREACHABLE) from None
        return True

    # -- the search --------------------------------------------------------------------------
    async def get_search(self, namespace: str, name: str) -> Obj | None:
        result: Obj | None = await self._call(
            f"get {KIND} {namespace}/{name}",
            self.custom.get_namespaced_custom_object,
            GROUP,
            VERSION,
            namespace,
            PLURAL,
            name,
            _preload_content=False,
        )
        return result

    async def patch_search_status(
        self, namespace: str, name: str, patch: Mapping[str, Any]
    ) -> None:
        await self._call(
            f"patch status of {namespace}/{name}",
            self.custom.patch_namespaced_custom_object_status,
            GROUP,
            VERSION,
            namespace,
            PLURAL,
            name,
            {"status": dict(patch)},
            _content_type=MERGE,
            field_manager=FIELD_MANAGER,
        )

    # -- pods ---------------------------------------------------------------------------------
    async def list_pods(self, namespace: str, selector: str) -> list[Obj]:
        result = await self._call(
            f"list pods {selector}",
            self.core.list_namespaced_pod,
            namespace,
            label_selector=selector,
            _preload_content=False,
        )
        return list((result or {}).get("items") or [])

    async def get_pod(self, namespace: str, name: str) -> Obj | None:
        result: Obj | None = await self._call(
            f"get pod {namespace}/{name}",
            self.core.read_namespaced_pod,
            name,
            namespace,
            _preload_content=False,
        )
        return result

    async def create_pod(self, namespace: str, body: Obj) -> bool:
        name = body["metadata"]["name"]
        return await self._create(
            f"create pod {namespace}/{name}", self.core.create_namespaced_pod, namespace, body
        )

    async def delete_pod(self, namespace: str, name: str) -> None:
        await self._call(
            f"delete pod {namespace}/{name}",
            self.core.delete_namespaced_pod,
            name,
            namespace,
            grace_period_seconds=0,
            propagation_policy="Background",
        )

    # -- config maps ----------------------------------------------------------------------------
    async def get_configmap(self, namespace: str, name: str) -> Obj | None:
        result: Obj | None = await self._call(
            f"get ConfigMap {namespace}/{name}",
            self.core.read_namespaced_config_map,
            name,
            namespace,
            _preload_content=False,
        )
        return result

    async def create_configmap(self, namespace: str, body: Obj) -> bool:
        name = body["metadata"]["name"]
        return await self._create(
            f"create ConfigMap {namespace}/{name}",
            self.core.create_namespaced_config_map,
            namespace,
            body,
        )

    async def patch_configmap(self, namespace: str, name: str, patch: Obj) -> bool:
        """Merge-patch; False when the ConfigMap does not exist."""
        result = await self._call(
            f"patch ConfigMap {namespace}/{name}",
            self.core.patch_namespaced_config_map,
            name,
            namespace,
            patch,
            _content_type=MERGE,
            field_manager=FIELD_MANAGER,
        )
        return result is not None

    # -- server-side apply ----------------------------------------------------------------------
    async def get_deployment(self, namespace: str, name: str) -> Obj | None:
        result: Obj | None = await self._call(
            f"get Deployment {namespace}/{name}",
            self.apps.read_namespaced_deployment,
            name,
            namespace,
            _preload_content=False,
        )
        return result

    async def apply(self, body: Obj, *, force: bool = False) -> None:
        """Server-side apply a ConfigMap or Deployment (field manager falcon-operator). Not
        forced by default: a field another manager owns is a conflict (409), a PermanentError
        with reason ApplyConflict whose message (the API's) lists the fields and managers."""
        meta = body["metadata"]
        kind, name, ns = body["kind"], meta["name"], meta["namespace"]
        fn = {
            "ConfigMap": self.core.patch_namespaced_config_map,
            "Deployment": self.apps.patch_namespaced_deployment,
        }[kind]
        try:
            await self._call(
                f"apply {kind} {ns}/{name}",
                fn,
                name,
                ns,
                body,
                field_manager=FIELD_MANAGER,
                force=force,
                _content_type=APPLY,
            )
        except TransientError as exc:
            if exc.reason != "Conflict":
                raise
            raise PermanentError(str(exc), reason=APPLY_CONFLICT) from None

    # -- events ------------------------------------------------------------------------------------
    async def event(self, ref: SearchRef, type_: str, reason: str, message: str) -> None:
        """Record an Event on the search (best effort: a lost event never fails a search), and
        log it: the operator's log tells a search's story without the API server."""
        level = logging.WARNING if type_ == "Warning" else logging.INFO
        log.log(level, "search %s/%s: %s: %s", ref.namespace, ref.name, reason, message)
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        body = {
            "metadata": {"generateName": f"{ref.name}.", "namespace": ref.namespace},
            "involvedObject": {
                "apiVersion": API_VERSION,
                "kind": KIND,
                "name": ref.name,
                "namespace": ref.namespace,
                "uid": ref.uid,
            },
            "type": type_,
            "reason": reason,
            "message": message[:1024],
            "source": {"component": FIELD_MANAGER},
            "reportingComponent": FIELD_MANAGER,
            "reportingInstance": self.instance,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        with contextlib.suppress(ApiException, urllib3.exceptions.HTTPError, OSError):
            await asyncio.to_thread(self.core.create_namespaced_event, ref.namespace, body)  # type: ignore[arg-type]
