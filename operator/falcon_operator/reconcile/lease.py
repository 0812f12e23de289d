"""Leader election with a coordination.k8s.io Lease: only one replica runs the controllers.

A replica takes the Lease when it is free or expired (compare-and-swap on resourceVersion),
renews it every ``renew_s``, and gives up (the process should exit and restart) when a renewal
fails for longer than the lease lasts. Standby replicas retry every ``retry_s``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kubernetes.client.exceptions import ApiException

from falcon_operator.core.errors import TransientError
from falcon_operator.reconcile.kube import Kube

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LeaseSettings:
    """Which Lease, and how long leadership lasts without renewal."""

    name: str = "falcon-operator"
    namespace: str = "default"
    lease_s: int = 15
    renew_s: float = 5.0
    retry_s: float = 2.0


def _micro(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class LeaseElector:
    """Acquire and hold one Lease as ``identity``."""

    def __init__(self, kube: Kube, identity: str, settings: LeaseSettings) -> None:
        self.kube, self.identity, self.settings = kube, identity, settings

    def _body(self, now: datetime, transitions: int, acquired: datetime) -> dict[str, Any]:
        s = self.settings
        return {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": s.name, "namespace": s.namespace},
            "spec": {
                "holderIdentity": self.identity,
                "leaseDurationSeconds": s.lease_s,
                "acquireTime": _micro(acquired),
                "renewTime": _micro(now),
                "leaseTransitions": transitions,
            },
        }

    def _read(self) -> dict[str, Any] | None:
        s = self.settings
        try:
            resp: Any = self.kube.coordination.read_namespaced_lease(
                s.name, s.namespace, _preload_content=False
            )
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        lease: dict[str, Any] = json.loads(resp.data)
        return lease

    def _write(self, body: dict[str, Any], *, create: bool) -> bool:
        """Create or replace (compare-and-swap); False when another replica won."""
        api, s = self.kube.coordination, self.settings
        try:
            if create:
                api.create_namespaced_lease(s.namespace, body)  # type: ignore[arg-type]
            else:
                api.replace_namespaced_lease(s.name, s.namespace, body)  # type: ignore[arg-type]
        except ApiException as exc:
            if exc.status == 409:
                return False
            raise
        return True

    def _try(self) -> bool:
        """One attempt (blocking): True when this replica holds the Lease afterwards."""
        now = datetime.now(UTC)
        lease = self._read()
        if lease is None:
            return self._write(self._body(now, 0, now), create=True)
        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity")
        renewed = _parse(spec.get("renewTime")) or _parse(spec.get("acquireTime"))
        duration = int(spec.get("leaseDurationSeconds") or self.settings.lease_s)
        expired = renewed is None or renewed + timedelta(seconds=duration) < now
        if holder not in (None, "", self.identity) and not expired:
            return False
        mine = holder == self.identity
        acquired = (_parse(spec.get("acquireTime")) or now) if mine else now
        transitions = int(spec.get("leaseTransitions") or 0) + (0 if mine else 1)
        body = self._body(now, transitions, acquired)
        body["metadata"]["resourceVersion"] = lease["metadata"]["resourceVersion"]
        return self._write(body, create=False)

    async def attempt(self) -> bool:
        try:
            return await asyncio.to_thread(self._try)
        except (ApiException, OSError) as exc:
            log.warning("lease %s: %s", self.settings.name, exc)
            return False

    async def acquire(self) -> None:
        """Wait until this replica is the leader."""
        while not await self.attempt():
            await asyncio.sleep(self.settings.retry_s)
        log.info(
            "leader: %s holds lease %s/%s",
            self.identity,
            self.settings.namespace,
            self.settings.name,
        )

    async def hold(self) -> None:
        """Renew until leadership is lost; then raise TransientError."""
        last = asyncio.get_running_loop().time()
        while True:
            await asyncio.sleep(self.settings.renew_s)
            now = asyncio.get_running_loop().time()
            if await self.attempt():
                last = now
            elif now - last > self.settings.lease_s:
                raise TransientError(f"lost lease {self.settings.name}", reason="LeaseLost")

    def release(self) -> None:
        """Let another replica take over at once (best effort, blocking)."""
        try:
            lease = self._read()
            if (
                lease is not None
                and (lease.get("spec") or {}).get("holderIdentity") == self.identity
            ):
                lease["spec"]["holderIdentity"] = None
                lease["spec"]["leaseDurationSeconds"] = 1
                self._write(lease, create=False)
        except (ApiException, OSError):
            pass
