"""How errors end (or do not end) a search, through the real run_search on a fake API server.

- a PermanentError while creating trial pods (403: a ResourceQuota allowing no pod) fails the
  search at once, through its finish, with the API's reason and the quota in the condition;
- a TransientError of a trial is retried after its delay, under the same trial index;
- a TransientError while preparing reports its own reason, not always ConfigMapNotFound.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from typing import Any

import pytest
from fake_kube import FakeKube, Never, search_body

from falcon_operator.core.errors import PermanentError, TransientError
from falcon_operator.reconcile import search
from falcon_operator.reconcile.plan import Finish
from falcon_operator.reconcile.prepare import prepare, shipped_knowledge
from falcon_operator.reconcile.settings import ControllerSettings
from falcon_operator.trials.simulated import SimulationSettings

SETTINGS = ControllerSettings(poll_s=0.05, simulate=SimulationSettings(0.05))
QUOTA = (
    'create pod team-a/resnet-mini-t000: 403 pods "resnet-mini-t000" is forbidden: exceeded quota:'
    " zero-pods, requested: pods=1, used: pods=0, limited: pods=0"
)


@pytest.fixture(autouse=True)
def _paper_knowledge(monkeypatch: pytest.MonkeyPatch) -> None:
    """The search's prior from the shipped data (no fleet knowledge build in unit tests)."""
    fast = functools.partial(prepare, knowledge=lambda _: shipped_knowledge())
    monkeypatch.setattr(search, "prepare", fast)


def _condition(status: dict[str, Any], type_: str) -> dict[str, Any]:
    return next(c for c in status["conditions"] if c["type"] == type_)


async def _run(api: FakeKube, body: dict[str, Any], timeout: float) -> Finish | None:
    return await asyncio.wait_for(
        search.run_search(api.kube, SETTINGS, body, stop=Never()), timeout
    )


def test_a_forbidden_trial_pod_fails_the_search_with_the_quota_named() -> None:
    api = FakeKube()
    api.create_error = PermanentError(QUOTA, reason="Forbidden")
    fin = asyncio.run(_run(api, search_body(), timeout=30.0))
    assert fin is not None and fin.phase == "Failed" and fin.reason == "Forbidden"
    status = api.status["resnet-mini"]
    assert status["phase"] == "Failed" and status["finishedAt"]
    failed = _condition(status, "Failed")
    assert failed["status"] == "True" and failed["reason"] == "Forbidden"
    assert "exceeded quota: zero-pods" in failed["message"]
    assert "resnet-mini-t000" in failed["message"]  # the trial that hit it
    assert _condition(status, "Ready")["status"] == "False"
    assert _condition(status, "SpecValid")["status"] == "True"  # the spec is fine
    assert api.create_calls <= 2  # the parallel trials' attempts, not a retry loop
    assert ("Warning", "SearchFailed") in {(t, r) for t, r, _ in api.events}
    assert api.configmaps["resnet-mini-trials"].get("data", {}) == {}  # no trial recorded


class FlakyCreate(FakeKube):
    """Pod creation fails once with a transient error, then works; creation times noted."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay, self.attempts = delay, []  # type: list[tuple[str, float]]

    async def create_pod(self, namespace: str, body: dict[str, Any]) -> bool:
        self.attempts.append((body["metadata"]["name"], time.monotonic()))
        if len(self.attempts) == 1:
            raise TransientError("create pod: 503 etcd leader changed", delay=self.delay)
        return await super().create_pod(namespace, body)


def test_a_transient_trial_error_is_retried_after_its_delay_under_the_same_index() -> None:
    api = FlakyCreate(delay=0.6)
    body = search_body(budget={"maxTrials": 2, "maxParallelTrials": 1})
    fin = asyncio.run(_run(api, body, timeout=30.0))
    assert fin is not None and fin.phase == "Succeeded", fin
    (first, t0), (again, t1) = api.attempts[:2]
    assert first == again == "resnet-mini-t000"  # the same trial, not a new one
    assert t1 - t0 >= 0.6  # after the error's delay, not the next poll (0.05 s)
    entries = api.configmaps["resnet-mini-trials"]["data"]
    assert len(entries) == 2


class Unreachable(FakeKube):
    async def get_configmap(self, namespace: str, name: str) -> dict[str, Any] | None:
        raise TransientError("get ConfigMap: connection refused", reason="ApiServerUnreachable")


def test_a_transient_error_while_preparing_reports_its_own_reason() -> None:
    api = Unreachable()
    with pytest.raises(TransientError):
        asyncio.run(_run(api, search_body(), timeout=30.0))
    status = api.status["resnet-mini"]
    assert status["phase"] == "Pending"
    assert _condition(status, "SpecValid")["reason"] == "ApiServerUnreachable"
    assert api.reasons() == ["ApiServerUnreachable"]


def test_a_missing_model_configmap_is_still_configmap_not_found() -> None:
    api = FakeKube(model_configmap="another-model")
    with pytest.raises(TransientError):
        asyncio.run(_run(api, search_body(), timeout=30.0))
    assert _condition(api.status["resnet-mini"], "SpecValid")["reason"] == "ConfigMapNotFound"


def test_a_bug_in_a_trial_is_a_failed_internal_trial_not_a_retry_loop() -> None:
    api = FakeKube()
    api.create_error = RuntimeError("a bug")
    body = search_body(budget={"maxTrials": 4, "maxParallelTrials": 1, "maxFailedTrials": 1})
    fin = asyncio.run(_run(api, body, timeout=30.0))
    assert fin is not None and fin.reason == "TooManyFailedTrials"
    records = [json.loads(v) for v in api.configmaps["resnet-mini-trials"]["data"].values()]
    assert len(records) == 2 == api.create_calls
    assert all(r["failure"] == "internal" and "a bug" in r["reason"] for r in records)


def test_a_bug_while_preparing_fails_the_search_instead_of_retrying_forever(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(*_: Any, **__: Any) -> None:
        raise ValueError("Input y contains NaN.")

    monkeypatch.setattr(search, "prepare", broken)
    api = FakeKube()
    with pytest.raises(PermanentError):
        asyncio.run(_run(api, search_body(), timeout=10.0))
    status = api.status["resnet-mini"]
    assert status["phase"] == "Failed"
    failed = _condition(status, "Failed")
    assert failed["reason"] == "InternalError"
    assert "ValueError: Input y contains NaN." in failed["message"]


def test_searches_prepare_at_most_max_preparing_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A burst of new searches takes turns preparing (the operator's peak memory at 100)."""
    running, most = 0, 0

    async def slow(*_: Any, **__: Any) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.05)
        running -= 1
        raise SpecError("stop here")

    from falcon_operator.core.errors import SpecError

    monkeypatch.setattr(search, "prepare", slow)

    async def burst() -> None:
        gate = asyncio.Semaphore(SETTINGS.max_preparing)
        apis = [FakeKube() for _ in range(12)]
        runs = [
            search.run_search(api.kube, SETTINGS, search_body(), stop=Never(), preparing=gate)
            for api in apis
        ]
        results = await asyncio.gather(*runs, return_exceptions=True)
        assert all(isinstance(r, SpecError) for r in results)

    asyncio.run(burst())
    assert most == SETTINGS.max_preparing == 4
