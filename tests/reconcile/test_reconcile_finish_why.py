"""The end of a search writes ``status.best.why`` and says it in the SearchSucceeded event."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

import yaml
from fake_kube import FakeKube

import falcon_operator
from falcon_operator.core.records import Outcome, TrialRecord
from falcon_operator.reconcile import plan
from falcon_operator.reconcile.engine import build_engine
from falcon_operator.reconcile.finish import Finisher
from falcon_operator.reconcile.loop import SearchLoop
from falcon_operator.reconcile.prepare import SearchContext, shipped_catalog, shipped_knowledge
from falcon_operator.reconcile.settings import ControllerSettings
from falcon_operator.spec import parse_spec, resolve
from falcon_operator.trials.history import TrialEntry
from falcon_operator.trials.manifest import SearchRef

EXAMPLE = Path(falcon_operator.__file__).parents[2] / "examples/inference-config-search.yaml"


class Loop:
    """The parts of SearchLoop that Finisher uses."""

    def __init__(self) -> None:
        self.settings = ControllerSettings()
        self.store = type("Store", (), {"name": "resnet-mini-trials"})()
        self.conditions: list[dict[str, Any]] = []
        self.started_at, self.generation = "2026-01-01T00:00:00Z", 1
        self.status: dict[str, Any] = {}

    async def cancel_all(self) -> None:
        return None

    async def delete_pod(self, name: str) -> None:
        return None

    def condition(self, type_: str, ok: bool, reason: str, message: str) -> None:
        self.conditions.append({"type": type_, "reason": reason})

    async def patch_status(self, status: dict[str, Any]) -> None:
        self.status = status


def test_a_finished_search_says_why_its_best_won() -> None:
    spec = yaml.safe_load(EXAMPLE.read_text())["spec"]
    spec["output"]["mode"] = "Status"
    rs = resolve(parse_spec(spec), shipped_catalog())
    ref = SearchRef("resnet-mini", "team-a", "uid")
    engine = build_engine(rs, shipped_knowledge(), profile=None)
    ctx = SearchContext(ref, rs, engine, None, None, None, None, None)  # type: ignore[arg-type]
    cfg = {"batchsize": 4, "cpus": 2, "gpumem": 0.0, "gpupower": 100, "gputype": "T4"}
    metrics = {"rps": 500.0, "p99_ms": 9.0, "cost_per_hour": 0.4}
    entries = [
        TrialEntry(0, "resnet-mini-t000", TrialRecord(cfg, Outcome.OK, 1250.0, metrics=metrics)),
        TrialEntry(1, "resnet-mini-t001", TrialRecord(dict(cfg, batchsize=1), Outcome.OK, 700.0)),
    ]
    kube, loop = FakeKube(), Loop()
    finisher = Finisher(kube.kube, ctx, cast(SearchLoop, loop))
    fin = plan.finish(rs.spec.budget, entries, running=0, exhausted=True)
    assert fin is not None
    asyncio.run(finisher.finish(fin, entries))
    why = loop.status["best"]["why"]
    assert why.startswith("T4 b4: best measured of 2 ok trials; V100 and A100 estimated ")
    assert why.endswith(" of it by the knowledge base, not tried")
    assert loop.status["best"]["objective"] == 1250.0
    assert kube.said() == [
        ("SearchSucceeded", f"best of 2 trials: T4 1250 req/s per $/h; why: {why}")
    ]
