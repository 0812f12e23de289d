"""Restart safety of the planning: the engine rebuilt from the recorded history suggests what
the undisturbed engine would, so a killed-and-restarted search runs the same trials.

The search loop is replayed without Kubernetes: each step plans from the history as the
ConfigMap stores it (encode → decode), trials are measured by the simulated fleet without
noise, and a "restart" throws every object away and rebuilds the engine from the records.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from falcon_operator.core.catalog import load_catalog
from falcon_operator.fleet.backend import FleetBackend
from falcon_operator.fleet.performance import FleetModel, synthetic_workload
from falcon_operator.knowledge.base import Knowledge
from falcon_operator.reconcile import plan
from falcon_operator.reconcile.engine import build_engine
from falcon_operator.reconcile.prepare import search_knowledge, shipped_knowledge
from falcon_operator.spec import ResolvedSearch, parse_spec, resolve
from falcon_operator.trials.history import TrialEntry, decode_history, encode_entry, records

SPEC: dict[str, Any] = {
    "model": {
        "name": "m",
        "configMapRef": {"name": "m", "key": "k"},
        "operatorProfile": {"conv2d": 0.6, "dense": 0.3, "relu": 0.1},
    },
    "searchSpace": {
        "gpus": [{"type": "T4"}, {"type": "V100"}, {"type": "A100"}],
        "cpus": [2, 4],
        "batchSizes": [1, 4, 8, 16],
        "powerLimits": [75, 100],
    },
    "budget": {"maxTrials": 8, "maxParallelTrials": 2},
}
WORKLOAD = synthetic_workload(
    "m", {"conv2d": (2.0, 20.0), "dense": (0.5, 5.0)}, weight_mb=40, activation_mb_per_sample=8
)


def _resolved(method: str) -> ResolvedSearch:
    spec = dict(SPEC, algorithm={"name": method, "seed": 3})
    return resolve(parse_spec(spec), load_catalog())


def _run(
    rs: ResolvedSearch,
    *,
    restart_after: int | None,
    knowledge: Callable[[ResolvedSearch], Knowledge] = lambda _: shipped_knowledge(),
) -> list[TrialEntry]:
    """Replay a search with 2 trials in parallel; optionally restart after N records."""
    backend = FleetBackend(WORKLOAD, FleetModel(load_catalog()))
    budget = rs.spec.budget
    store: dict[str, str] = {}  # the history ConfigMap's data
    running: list[plan.Launch] = []  # trial pods that exist (survive a restart)
    engine = build_engine(rs, knowledge(rs), profile=rs.spec.model.operator_profile)
    restarted = False
    while True:
        entries = decode_history(store)
        if restart_after is not None and not restarted and len(entries) >= restart_after:
            engine = build_engine(rs, knowledge(rs), profile=rs.spec.model.operator_profile)
            restarted = True
        if plan.finish(budget, entries, running=len(running)) is not None:
            return entries
        n = plan.free_slots(budget, done=len(entries), running=len(running))
        if n:
            pending = [la.config for la in sorted(running, key=lambda la: la.index)]
            suggestions = engine.suggest(records(entries), n, pending=pending)
            used = {e.index for e in entries} | {la.index for la in running}
            running += plan.assign(
                "s", suggestions, plan.next_indices(used, len(suggestions)), idle={}, reuse=False
            )
        first = min(running, key=lambda la: la.index)  # the oldest trial finishes first
        running.remove(first)
        record = backend.run(first.config, noisy=False)
        store |= encode_entry(TrialEntry(first.index, first.name, record))


@pytest.mark.parametrize("method", ["falcon", "gp-bo", "random"])
def test_a_restart_changes_nothing(method: str) -> None:
    rs = _resolved(method)
    undisturbed = _run(rs, restart_after=None)
    for k in (1, 3, 5):
        disturbed = _run(rs, restart_after=k)
        assert [e.record.config for e in disturbed] == [e.record.config for e in undisturbed]
    assert len(undisturbed) == rs.spec.budget.max_trials
    configs = [tuple(sorted(e.record.config.items())) for e in undisturbed]
    assert len(set(configs)) == len(configs)  # no configuration twice
    assert [e.index for e in undisturbed] == list(range(len(undisturbed)))


def test_a_restart_changes_nothing_with_the_fleet_knowledge(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The operator's default: the fleet's sources profiled on the search's space, from a disk
    cache after the first build -- a restarted operator loads it and continues identically."""
    monkeypatch.setenv("FALCON_CACHE", str(tmp_path))
    rs = _resolved("falcon")
    kb = search_knowledge(rs)
    assert kb.space == rs.space and len(kb.sources) == 9  # the fleet's, not the paper's
    assert list((tmp_path / "knowledge").glob("fleet-*.kb.json.gz"))
    undisturbed = _run(rs, restart_after=None, knowledge=search_knowledge)
    disturbed = _run(rs, restart_after=3, knowledge=search_knowledge)
    assert [e.record.config for e in disturbed] == [e.record.config for e in undisturbed]


def test_the_same_history_gives_the_same_next_suggestion() -> None:
    rs = _resolved("falcon")
    entries = _run(rs, restart_after=None)[:4]
    store: dict[str, str] = {}
    for e in entries:
        store |= encode_entry(e)
    one = build_engine(rs, shipped_knowledge(), profile=rs.spec.model.operator_profile)
    two = build_engine(rs, shipped_knowledge(), profile=rs.spec.model.operator_profile)
    pending = [entries[-1].record.config]
    a = one.suggest(records(entries[:-1]), 2, pending=pending)
    b = two.suggest(records(decode_history(store))[:-1], 2, pending=pending)
    assert a == b
    tried = [e.record.config for e in entries]
    assert not any(c in tried for c in a)
