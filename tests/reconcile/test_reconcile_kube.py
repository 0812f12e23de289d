"""kube.py's error mapping: the API server's answers become the operator's two error kinds,
with the API's own Status reason; "not found" and "already exists" are answers."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import urllib3
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from falcon_operator.core.errors import PermanentError, TransientError
from falcon_operator.reconcile.kube import UNREACHABLE, Kube

QUOTA = (
    'pods "s-t000" is forbidden: exceeded quota: zero-pods, requested: pods=1, used: pods=0,'
    " limited: pods=0"
)


def _api_error(status: int, reason: str, message: str) -> ApiException:
    exc = ApiException(status=status, reason=reason)
    exc.body = json.dumps({"kind": "Status", "status": "Failure", "message": message,
                           "reason": reason, "code": status})  # fmt: skip
    return exc


def _raising(exc: BaseException) -> Any:
    def call(*_: Any, **__: Any) -> Any:
        raise exc

    return call


@pytest.fixture
def kube() -> Kube:
    return Kube(client.ApiClient(client.Configuration()))


def test_a_quota_refusal_is_permanent_with_the_reason_forbidden_and_the_quota_named(
    kube: Kube,
) -> None:
    fn = _raising(_api_error(403, "Forbidden", QUOTA))
    with pytest.raises(PermanentError) as info:
        asyncio.run(kube._create("create pod team-a/s-t000", fn))
    assert info.value.reason == "Forbidden"
    assert str(info.value) == f"create pod team-a/s-t000: 403 {QUOTA}"


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (409, "Conflict"),
        (429, "TooManyRequests"),
        (500, "InternalError"),
        (503, "ServiceUnavailable"),
    ],
)
def test_conflicts_throttling_and_server_errors_are_transient(
    kube: Kube, status: int, reason: str
) -> None:
    with pytest.raises(TransientError) as info:
        asyncio.run(kube._call("patch status", _raising(_api_error(status, reason, "try again"))))
    assert info.value.reason == reason and info.value.delay == 5.0
    assert "try again" in str(info.value)


def test_an_invalid_object_is_permanent(kube: Kube) -> None:
    fn = _raising(_api_error(422, "Invalid", "spec.containers: Required value"))
    with pytest.raises(PermanentError) as info:
        asyncio.run(kube._call("create pod", fn))
    assert info.value.reason == "Invalid"


def test_an_answer_without_a_status_body_still_has_a_reason(kube: Kube) -> None:
    exc = ApiException(status=401, reason="Unauthorized")
    exc.body = "not json"
    with pytest.raises(PermanentError) as info:
        asyncio.run(kube._call("get pod", _raising(exc)))
    assert info.value.reason == "Http401" and "401 Unauthorized" in str(info.value)


def test_no_answer_at_all_is_transient_unreachable(kube: Kube) -> None:
    fn = _raising(urllib3.exceptions.MaxRetryError(None, "/api", "connection refused"))  # type: ignore[arg-type]
    for call in (kube._call("get pod", fn), kube._create("create pod", fn)):
        with pytest.raises(TransientError) as info:
            asyncio.run(call)
        assert info.value.reason == UNREACHABLE


def test_not_found_and_already_exists_are_answers(kube: Kube) -> None:
    assert asyncio.run(kube._call("get pod", _raising(_api_error(404, "NotFound", "gone")))) is None
    exists = _raising(_api_error(409, "AlreadyExists", "exists"))
    assert asyncio.run(kube._create("create pod", exists)) is False
