"""A fake trial executor and the search's set-up for SearchLoop's unit tests.

The loop under test is the real one (reconcile/loop.py with its plan, store, active trials and
finisher); only the API server (:class:`fake_kube.FakeKube`) and the running of one trial are
replaced. The executor creates the trial's real pod manifest in the fake API server (Ready at
once), lets the trial take ``seconds``, and records a result given by ``results`` (default: an
ok trial whose objective grows with the configuration's index in the space), as TrialRunner does.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from typing import Any

from fake_kube import FakeKube, Never

from falcon_operator.core.records import Outcome, TrialRecord
from falcon_operator.core.space import Config
from falcon_operator.reconcile.engine import Engine, search_driver
from falcon_operator.reconcile.faults import FaultPlan
from falcon_operator.reconcile.loop import SearchLoop
from falcon_operator.reconcile.plan import Finish, Launch
from falcon_operator.reconcile.prepare import SearchContext, shipped_catalog
from falcon_operator.reconcile.settings import ControllerSettings
from falcon_operator.reconcile.store import HistoryStore
from falcon_operator.reconcile.trial import TrialRunner
from falcon_operator.search.strategy import Strategy
from falcon_operator.spec import ResolvedSearch, parse_spec, resolve
from falcon_operator.trials.history import TrialEntry
from falcon_operator.trials.manifest import SearchRef, trial_pod
from falcon_operator.trials.readback import PodView

Obj = dict[str, Any]
REF = SearchRef("s", "team-a", "0000-1111")
SETTINGS = ControllerSettings(poll_s=0.005)
#: a trial's record for its configuration
Result = Callable[[Config], TrialRecord]


def ok_result(rs: ResolvedSearch) -> Result:
    """Every trial ok; the objective grows with the configuration's index in the space."""

    def result(config: Config) -> TrialRecord:
        return TrialRecord(config, Outcome.OK, 1.0 + rs.space.index_of(config))

    return result


class FakeExecutor(TrialRunner):
    """Runs a trial without Triton: its pod appears Ready, ``seconds`` pass, the result is
    recorded in the history ConfigMap (as TrialRunner.run does)."""

    def __init__(
        self, kube: FakeKube, ctx: SearchContext, result: Result, *, seconds: float = 0.02
    ) -> None:
        super().__init__(kube.kube, ctx, SETTINGS, HistoryStore(kube.kube, ctx.ref))
        self.fake, self.result, self.seconds = kube, result, seconds
        self.started: list[Launch] = []  #: every launch it was given, in order
        self.running = 0
        self.most_at_once = 0  #: the most trials it ran at the same time

    async def run(self, launch: Launch, *, reused_view: PodView | None = None) -> TrialEntry:
        self.started.append(launch)
        if launch.reuse_pod is None:
            body = trial_pod(self.ctx.resolved, self.ctx.ref, launch.index, launch.config)
            await self.kube.create_pod(self.ctx.ref.namespace, body)
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            await asyncio.sleep(self.seconds)
        finally:
            self.running -= 1
        record = self.result(launch.config)
        entry = TrialEntry(launch.index, launch.name, record, pod=launch.name)
        await self.store.append(entry)
        return entry


def resolved(**spec: Any) -> ResolvedSearch:
    """A 12-configuration space (3 GPUs × 2 core counts × 2 batch sizes); ``spec`` overrides."""
    body: Obj = {
        "model": {"name": "m", "configMapRef": {"name": "m-model", "key": "model.onnx"}},
        "searchSpace": {
            "gpus": [{"type": "T4"}, {"type": "V100"}, {"type": "A100"}],
            "cpus": [2, 4],
            "batchSizes": [1, 4],
            "powerLimits": [100],
        },
        "budget": {"maxTrials": 4, "reusePods": False},
        "output": {"mode": "Status"},
    }
    for key, value in spec.items():
        body[key] = body.get(key, {}) | value
    return resolve(parse_spec(body), shipped_catalog())


def context(rs: ResolvedSearch, strategy: Strategy) -> SearchContext:
    """The search's context with ``strategy`` behind the search's own driver (its budget)."""
    engine = Engine(search_driver(rs, strategy))
    workdir = tempfile.TemporaryDirectory(prefix="falcon-test-")
    return SearchContext(REF, rs, engine, None, None, None, FaultPlan(), workdir)


def loop(
    kube: FakeKube,
    ctx: SearchContext,
    executor: FakeExecutor,
    *,
    stop: Any = None,
) -> SearchLoop:
    return SearchLoop(
        kube.kube,
        ctx,
        SETTINGS,
        stop=stop or Never(),
        status=kube.status.get(REF.name, {}),
        generation=1,
        runner=executor,
    )


def run(
    kube: FakeKube, ctx: SearchContext, executor: FakeExecutor, *, stop: Any = None
) -> Finish | None:
    """Run SearchLoop to its end (or until ``stop``), within 20 s."""

    async def go() -> Finish | None:
        return await asyncio.wait_for(loop(kube, ctx, executor, stop=stop).run(), 20)

    return asyncio.run(go())
