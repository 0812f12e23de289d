"""The history ConfigMap (reconcile/store.py): created owned by the search, appended one key per
trial (a merge patch: two writers never lose each other's records), recreated when deleted."""

from __future__ import annotations

import asyncio

import pytest
from fake_kube import FakeKube

from falcon_operator.core.errors import TransientError
from falcon_operator.core.records import Outcome, TrialRecord
from falcon_operator.reconcile.store import HistoryStore
from falcon_operator.trials.history import TrialEntry
from falcon_operator.trials.manifest import SearchRef

REF = SearchRef("s", "team-a", "uid-s")


def _entry(index: int) -> TrialEntry:
    config = {"batchsize": 2**index, "gputype": "T4"}
    return TrialEntry(index, f"s-t{index:03d}", TrialRecord(config, Outcome.OK, 10.0 + index))


def test_the_history_is_created_owned_and_appended_in_index_order() -> None:
    api = FakeKube()
    store = HistoryStore(api.kube, REF)
    assert store.name == "s-trials"

    async def run() -> list[TrialEntry]:
        assert await store.load() == []  # no ConfigMap yet: no history
        await store.ensure()
        await store.ensure()  # idempotent
        other = HistoryStore(api.kube, REF)  # a second writer (another replica, a restart)
        await asyncio.gather(store.append(_entry(1)), other.append(_entry(0)))
        await store.append(_entry(2))
        return await other.load()

    entries = asyncio.run(run())
    assert [e.index for e in entries] == [0, 1, 2]
    assert entries[1].record == _entry(1).record
    cm = api.configmaps["s-trials"]
    assert cm["metadata"]["ownerReferences"][0]["uid"] == "uid-s"
    assert cm["metadata"]["labels"]["app.kubernetes.io/component"] == "trial-history"


def test_a_deleted_history_is_recreated_and_the_record_written() -> None:
    api = FakeKube()
    store = HistoryStore(api.kube, REF)

    async def run() -> list[TrialEntry]:
        await store.ensure()
        del api.configmaps["s-trials"]  # someone deleted it
        await store.append(_entry(0))
        return await store.load()

    assert [e.index for e in asyncio.run(run())] == [0]


class Vanishing(FakeKube):
    """The ConfigMap is gone again every time it is patched."""

    async def patch_configmap(self, namespace: str, name: str, patch: dict[str, object]) -> bool:
        self.configmaps.pop(name, None)
        return False


def test_a_history_that_keeps_vanishing_is_a_transient_error_with_its_reason() -> None:
    store = HistoryStore(Vanishing().kube, REF)
    with pytest.raises(TransientError) as info:
        asyncio.run(store.append(_entry(0)))
    assert info.value.reason == "HistoryConfigMapLost"
