"""A new search says phase Pending before its model is read and analysed (which takes seconds),
so ``kubectl get ics`` never shows a blank phase once the operator has seen the search."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fake_kube import FakeKube, Never

from falcon_operator.core.errors import PermanentError
from falcon_operator.reconcile import search
from falcon_operator.reconcile.settings import ControllerSettings

BODY = {"metadata": {"name": "s", "namespace": "ns", "uid": "u", "generation": 1}, "spec": {}}


def _run(body: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> tuple[FakeKube, list[Any]]:
    kube = FakeKube()
    seen: list[Any] = []

    async def prepare(*_: Any, **__: Any) -> None:
        seen.append([p.get("phase") for p in kube.status_patches])
        raise PermanentError("stop here")

    monkeypatch.setattr(search, "prepare", prepare)
    with pytest.raises(PermanentError):
        asyncio.run(search.run_search(kube.kube, ControllerSettings(), body, stop=Never()))
    return kube, seen


def test_a_new_search_is_pending_before_its_model_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    kube, seen = _run(BODY, monkeypatch)
    assert seen == [["Pending"]]
    assert kube.status_patches[0]["message"].startswith("preparing")
    assert kube.status_patches[-1]["phase"] == "Failed"  # prepare's error still ends the search


def test_the_crds_default_status_counts_as_new(monkeypatch: pytest.MonkeyPatch) -> None:
    default = {"phase": "Pending", "message": "waiting for the operator"}
    kube, seen = _run(dict(BODY, status=default), monkeypatch)
    assert seen == [["Pending"]] and kube.status_patches[0]["message"].startswith("preparing")


def test_a_search_the_operator_has_seen_is_not_set_back(monkeypatch: pytest.MonkeyPatch) -> None:
    _, seen = _run(dict(BODY, status={"phase": "Running", "observedGeneration": 1}), monkeypatch)
    assert seen == [[]]
