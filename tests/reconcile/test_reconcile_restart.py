"""Restart safety of a search, through the real code: ``run_search`` (prepare, SearchLoop,
trial runner, history store, finish) against a fake API server whose state -- the history
ConfigMap, the trial pods, the search's status -- outlives the operator.

A "restart" stops the running search once its history holds k records (the loop returns, its
trial tasks are cancelled, their pods stay), then runs a NEW search from the same cluster state
and the status the first one left, as a restarted operator's daemon does. Nothing may be lost
or duplicated: every index recorded once, no configuration twice, no pod created twice (a pod
running at the restart is adopted), and with one trial at a time the very same trials as an
undisturbed search.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fake_kube import FakeKube, search_body

from falcon_operator.knowledge.base import Knowledge
from falcon_operator.reconcile import search
from falcon_operator.reconcile.engine import build_engine
from falcon_operator.reconcile.prepare import prepare, search_knowledge, shipped_knowledge
from falcon_operator.reconcile.settings import ControllerSettings
from falcon_operator.spec import ResolvedSearch
from falcon_operator.trials.history import decode_history, records
from falcon_operator.trials.simulated import SimulationSettings

NAME = "resnet-mini"
SPACE = {
    "gpus": [{"type": "T4"}, {"type": "V100"}, {"type": "A100"}],
    "cpus": [2, 4],
    "batchSizes": [1, 4, 8, 16],
    "powerLimits": [75, 100],
}
SETTINGS = ControllerSettings(poll_s=0.02, simulate=SimulationSettings(0.05))


class StopAfter:
    """Set once the history ConfigMap holds ``n`` records (the operator goes away)."""

    def __init__(self, api: FakeKube, n: int | None) -> None:
        self.api, self.n = api, n

    def is_set(self) -> bool:
        return self.n is not None and len(self.api.history(NAME)) >= self.n


@pytest.fixture
def knowledge(
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[[Callable[[ResolvedSearch], Knowledge]], None]:
    """Which knowledge ``prepare`` gives the search (default in these tests: the paper's)."""

    def use(kb: Callable[[ResolvedSearch], Knowledge]) -> None:
        monkeypatch.setattr(search, "prepare", functools.partial(prepare, knowledge=kb))

    use(lambda _: shipped_knowledge())
    return use


def _run(method: str, *, restart_after: int | None, parallel: int = 1, trials: int = 6) -> FakeKube:
    """One search to its end on a fresh cluster; stopped and restarted after N records."""
    api = FakeKube()
    body = search_body(
        NAME,
        space=SPACE,
        budget={"maxTrials": trials, "maxParallelTrials": parallel, "reusePods": False},
        algorithm={"name": method, "seed": 3},
    )

    async def operator(stop: StopAfter) -> Any:
        current = dict(body, status=api.status.get(NAME, {})) if api.status else body
        return await asyncio.wait_for(
            search.run_search(api.kube, SETTINGS, current, stop=stop), 120
        )

    if restart_after is not None:
        assert asyncio.run(operator(StopAfter(api, restart_after))) is None  # stopped
        assert api.status[NAME]["phase"] == "Running"
        api.at_restart = set(api.pods)  # type: ignore[attr-defined]
    fin = asyncio.run(operator(StopAfter(api, None)))
    assert fin is not None and fin.phase == "Succeeded", fin
    return api


def _records(api: FakeKube) -> list[dict[str, Any]]:
    data = api.configmaps[f"{NAME}-trials"]["data"]
    return sorted((json.loads(v) for v in data.values()), key=lambda r: r["index"])


def _configs(api: FakeKube) -> list[str]:
    return [json.dumps(r["config"], sort_keys=True) for r in _records(api)]


def _nothing_lost_or_duplicated(api: FakeKube, trials: int) -> None:
    recs = _records(api)
    assert [r["index"] for r in recs] == list(range(trials))
    assert len(set(_configs(api))) == trials  # no configuration twice
    assert sorted(api.created_pods) == sorted(set(api.created_pods))  # no pod created twice
    assert sorted(r["pod"] for r in recs) == sorted(api.created_pods)  # each one recorded
    assert api.pods == {}  # the finish deleted every trial pod
    status = api.status[NAME]
    assert status["phase"] == "Succeeded" and status["history"]["records"] == trials


@pytest.mark.usefixtures("knowledge")
@pytest.mark.parametrize("method", ["falcon", "gp-bo", "random"])
def test_a_restart_changes_nothing(method: str) -> None:
    undisturbed = _run(method, restart_after=None)
    _nothing_lost_or_duplicated(undisturbed, 6)
    for k in (1, 4):
        disturbed = _run(method, restart_after=k)
        _nothing_lost_or_duplicated(disturbed, 6)
        assert _configs(disturbed) == _configs(undisturbed)


@pytest.mark.usefixtures("knowledge")
def test_a_trial_running_at_the_restart_is_adopted_not_run_twice() -> None:
    api = _run("falcon", restart_after=3, parallel=2, trials=7)
    _nothing_lost_or_duplicated(api, 7)
    running = api.at_restart - {r["pod"] for r in _records(api)[:3]}  # type: ignore[attr-defined]
    assert running  # a trial pod was running, unrecorded, when the operator went away
    assert running <= {r["pod"] for r in _records(api)}  # its trial was finished, not redone
    # the restarted search kept the first one's start, and says so once
    assert [r for r in api.reasons() if r == "SearchSucceeded"] == ["SearchSucceeded"]


def test_a_restart_changes_nothing_with_the_fleet_knowledge(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    knowledge: Callable[[Callable[[ResolvedSearch], Knowledge]], None],
) -> None:
    """The operator's default: the fleet's sources profiled on the search's space, from a disk
    cache after the first build -- a restarted operator loads it and continues identically."""
    monkeypatch.setenv("FALCON_CACHE", str(tmp_path))
    knowledge(search_knowledge)
    undisturbed = _run("falcon", restart_after=None)
    assert list((tmp_path / "knowledge").glob("fleet-*.kb.json.gz"))
    disturbed = _run("falcon", restart_after=3)
    _nothing_lost_or_duplicated(disturbed, 6)
    assert _configs(disturbed) == _configs(undisturbed)


@pytest.mark.usefixtures("knowledge")
def test_the_stored_history_gives_the_same_next_suggestion() -> None:
    """What a restart relies on: the engine rebuilt from the history ConfigMap as stored."""
    api = _run("falcon", restart_after=None)
    entries = decode_history(api.configmaps[f"{NAME}-trials"]["data"])
    body = search_body(NAME, space=SPACE, algorithm={"name": "falcon", "seed": 3})

    async def context_engine() -> Any:
        ctx = await prepare(
            api.kube,
            SETTINGS,
            search.search_ref(body),
            body,
            knowledge=lambda _: shipped_knowledge(),
        )
        await ctx.close()
        return ctx

    one, two = asyncio.run(context_engine()), asyncio.run(context_engine())
    pending = [entries[-1].record.config]
    a = one.engine.suggest(records(entries[:-1]), 2, pending=pending)
    b = two.engine.suggest(records(entries[:-1]), 2, pending=pending)
    assert a == b
    rebuilt = build_engine(one.resolved, shipped_knowledge(), profile=one.profile)
    assert rebuilt.suggest(records(entries[:-1]), 2, pending=pending) == a
    tried = [e.record.config for e in entries]
    assert not any(c in tried for c in a)
