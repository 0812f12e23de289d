"""A new search says phase Pending before its model is read and analysed (which takes seconds),
so ``kubectl get ics`` never shows a blank phase once the operator has seen the search."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, cast

import pytest

from falcon_operator.core.errors import PermanentError
from falcon_operator.reconcile import search
from falcon_operator.reconcile.kube import Kube
from falcon_operator.reconcile.settings import ControllerSettings

BODY = {"metadata": {"name": "s", "namespace": "ns", "uid": "u", "generation": 1}, "spec": {}}


class Recorder:
    """Records the status patches and events of one search."""

    def __init__(self) -> None:
        self.patches: list[dict[str, Any]] = []

    async def patch_search_status(
        self, namespace: str, name: str, patch: Mapping[str, Any]
    ) -> None:
        self.patches.append(dict(patch))

    async def event(self, ref: object, type_: str, reason: str, message: str) -> None:
        pass


class Stop:
    def is_set(self) -> bool:
        return False


def _run(body: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> tuple[Recorder, list[Any]]:
    kube = Recorder()
    seen: list[Any] = []

    async def prepare(*_: Any, **__: Any) -> None:
        seen.append([p.get("phase") for p in kube.patches])
        raise PermanentError("stop here")

    monkeypatch.setattr(search, "prepare", prepare)
    with pytest.raises(PermanentError):
        asyncio.run(search.run_search(cast(Kube, kube), ControllerSettings(), body, stop=Stop()))
    return kube, seen


def test_a_new_search_is_pending_before_its_model_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    kube, seen = _run(BODY, monkeypatch)
    assert seen == [["Pending"]]
    assert kube.patches[0]["message"].startswith("preparing")
    assert kube.patches[-1]["phase"] == "Failed"  # prepare's error still ends the search


def test_the_crds_default_status_counts_as_new(monkeypatch: pytest.MonkeyPatch) -> None:
    default = {"phase": "Pending", "message": "waiting for the operator"}
    kube, seen = _run(dict(BODY, status=default), monkeypatch)
    assert seen == [["Pending"]] and kube.patches[0]["message"].startswith("preparing")


def test_a_search_the_operator_has_seen_is_not_set_back(monkeypatch: pytest.MonkeyPatch) -> None:
    _, seen = _run(dict(BODY, status={"phase": "Running", "observedGeneration": 1}), monkeypatch)
    assert seen == [[]]
