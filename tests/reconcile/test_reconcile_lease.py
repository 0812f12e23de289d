"""Leader election (reconcile/lease.py) against an in-memory coordination API that does what the
API server does: create fails when the Lease exists, replace is a compare-and-swap on the
resourceVersion (409 when another replica wrote first)."""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import pytest
from kubernetes.client.exceptions import ApiException

from falcon_operator.core.errors import TransientError
from falcon_operator.reconcile.kube import Kube
from falcon_operator.reconcile.lease import LeaseElector, LeaseSettings

SETTINGS = LeaseSettings(name="falcon", namespace="ops", lease_s=15, renew_s=0.05, retry_s=0.05)


class Coordination:
    """One namespace's Leases."""

    def __init__(self) -> None:
        self.leases: dict[str, dict[str, Any]] = {}
        self.version = 0
        self.down = False  #: the API server is unreachable

    def _check(self) -> None:
        if self.down:
            raise ApiException(status=503, reason="ServiceUnavailable")

    def read_namespaced_lease(self, name: str, namespace: str, **_: Any) -> Any:
        self._check()
        if name not in self.leases:
            raise ApiException(status=404, reason="NotFound")
        return SimpleNamespace(data=json.dumps(self.leases[name]).encode())

    def _store(self, body: dict[str, Any]) -> None:
        self.version += 1
        stored = copy.deepcopy(body)
        stored["metadata"]["resourceVersion"] = str(self.version)
        self.leases[body["metadata"]["name"]] = stored

    def create_namespaced_lease(self, namespace: str, body: dict[str, Any]) -> None:
        self._check()
        if body["metadata"]["name"] in self.leases:
            raise ApiException(status=409, reason="AlreadyExists")
        self._store(body)

    def replace_namespaced_lease(self, name: str, namespace: str, body: dict[str, Any]) -> None:
        self._check()
        if self.leases[name]["metadata"]["resourceVersion"] != body["metadata"]["resourceVersion"]:
            raise ApiException(status=409, reason="Conflict")
        self._store(body)

    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = self.leases["falcon"]["spec"]
        return spec


def _elector(api: Coordination, who: str, settings: LeaseSettings = SETTINGS) -> LeaseElector:
    return LeaseElector(cast(Kube, SimpleNamespace(coordination=api)), who, settings)


def test_one_replica_leads_and_the_other_waits() -> None:
    api = Coordination()
    a, b = _elector(api, "a"), _elector(api, "b")
    assert asyncio.run(a.attempt()) is True
    assert asyncio.run(b.attempt()) is False
    spec = api.spec()
    assert spec["holderIdentity"] == "a" and spec["leaseTransitions"] == 0
    acquired = spec["acquireTime"]
    assert asyncio.run(a.attempt()) is True  # a renewal: same acquisition, new renewTime
    assert api.spec()["acquireTime"] == acquired and api.spec()["leaseTransitions"] == 0


def test_an_expired_lease_is_taken_over_and_counted_as_a_transition() -> None:
    api = Coordination()
    assert asyncio.run(_elector(api, "a").attempt())
    stale = datetime.now(UTC) - timedelta(seconds=60)
    api.leases["falcon"]["spec"]["renewTime"] = stale.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert asyncio.run(_elector(api, "b").attempt()) is True
    assert api.spec()["holderIdentity"] == "b" and api.spec()["leaseTransitions"] == 1


def test_a_lost_compare_and_swap_is_no_leadership() -> None:
    api = Coordination()
    a = _elector(api, "a")
    assert asyncio.run(a.attempt())
    stale = datetime.now(UTC) - timedelta(seconds=60)
    api.leases["falcon"]["spec"]["renewTime"] = stale.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    b = _elector(api, "b")
    read = api.read_namespaced_lease

    def read_then_someone_writes(name: str, namespace: str, **kw: Any) -> Any:
        resp = read(name, namespace, **kw)
        api._store(api.leases[name])  # another replica renewed in between
        return resp

    api.read_namespaced_lease = read_then_someone_writes  # type: ignore[method-assign]
    assert asyncio.run(b.attempt()) is False


def test_release_lets_another_replica_take_over_at_once() -> None:
    api = Coordination()
    a, b = _elector(api, "a"), _elector(api, "b")
    assert asyncio.run(a.attempt()) and not asyncio.run(b.attempt())
    a.release()
    assert api.spec()["holderIdentity"] is None
    assert asyncio.run(b.attempt()) is True
    b.release()
    b.release()  # twice, or by a non-holder: harmless
    _elector(api, "c").release()


def test_an_unreachable_api_server_is_no_leadership_not_a_crash() -> None:
    api = Coordination()
    api.down = True
    assert asyncio.run(_elector(api, "a").attempt()) is False


def test_hold_gives_up_when_renewals_fail_longer_than_the_lease() -> None:
    api = Coordination()
    settings = LeaseSettings(name="falcon", namespace="ops", lease_s=0, renew_s=0.05)
    a = _elector(api, "a", settings)
    assert asyncio.run(a.attempt())

    async def hold() -> None:
        api.down = True
        await asyncio.wait_for(a.hold(), 5.0)

    with pytest.raises(TransientError) as info:
        asyncio.run(hold())
    assert info.value.reason == "LeaseLost"
