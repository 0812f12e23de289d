"""Measure a ready trial pod: simulated (the simulated fleet's measurement), live, or reused.

- simulated: let the trial's wall time pass while watching the pod (deleted or failed: a failed
  trial), then record what the simulated fleet measures for the configuration, exactly as
  ``falcon search`` does (trials/simulated.py); a reused pod is bookkeeping only.
- live: the runner container's report (termination message), and Triton's counters once the
  runner has ended, counted from zero at the server's readiness (see ``server_start``); the two
  sources are checked against each other.
- reused: reload the model with the new batch size through Triton's repository API (refused
  when it cannot load, e.g. it does not fit: a ``model-load`` trial, infeasible), then run the
  trial runner against the pod with the arguments its fresh trial's runner container got (only
  the URL differs): one load protocol.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from falcon_operator.core.errors import MetricsError
from falcon_operator.core.knobs import BATCH
from falcon_operator.core.records import FailureKind, TrialRecord
from falcon_operator.core.space import Config
from falcon_operator.metrics import Snapshot, measure_window, metrics_url, scrape
from falcon_operator.reconcile.kube import Kube
from falcon_operator.reconcile.plan import Launch
from falcon_operator.reconcile.prepare import SearchContext
from falcon_operator.reconcile.settings import ControllerSettings
from falcon_operator.spec.resolve import ResolvedSearch
from falcon_operator.trials.container import HTTP_PORT, METRICS_PORT
from falcon_operator.trials.load import run_load
from falcon_operator.trials.manifest import TrialPodSettings, deadline_seconds, runner_args
from falcon_operator.trials.modelconfig import model_config
from falcon_operator.trials.outcome import failed, judge, read_report
from falcon_operator.trials.readback import PodState, PodView, failure_reason, read_pod
from falcon_operator.trials.reload import ReloadError, reload_model


async def _look(
    kube: Kube, ctx: SearchContext, launch: Launch, view: PodView
) -> PodView | TrialRecord:
    """The trial pod as it is now, or the failed record when it is gone or has failed."""
    pod = await kube.get_pod(ctx.ref.namespace, view.name)
    if pod is None:
        return failed(launch.config, FailureKind.DELETED, "the trial pod disappeared")
    current = read_pod(pod)
    if current.state is PodState.FAILED:
        return failed(launch.config, current.failure, failure_reason(current))
    return current


async def simulated(
    kube: Kube, ctx: SearchContext, launch: Launch, view: PodView, settings: ControllerSettings
) -> TrialRecord:
    """A simulated trial on the ready pod ``view`` (fresh or reused): the fleet's measurement."""
    assert ctx.sim is not None
    if ctx.sim.fault_for(launch.config) is not None:  # a reused pod asked for a batch too large
        return ctx.sim.record(launch.config)
    deadline = time.monotonic() + ctx.sim.trial_seconds(ctx.resolved.spec.budget)
    while True:
        current = await _look(kube, ctx, launch, view)
        if isinstance(current, TrialRecord):
            return current
        if current.state in (PodState.SUCCEEDED, PodState.DELETING):
            why = f"the trial pod ended early ({current.state})"
            return failed(launch.config, FailureKind.DELETED, why)
        left = deadline - time.monotonic()
        if left <= 0:
            break
        await asyncio.sleep(min(settings.poll_s, left))
    return ctx.sim.record(launch.config)


def reused_runner_args(
    rs: ResolvedSearch, config: Config, view: PodView, pods: TrialPodSettings
) -> list[str]:
    """The runner's arguments for ``config`` on the reused pod ``view``: what a fresh trial
    pod of ``config`` gives its runner container, with the pod's URL."""
    url = f"http://{view.ip or ''}:{HTTP_PORT}"
    return runner_args(rs, int(config[BATCH]), pods, url=url)


async def reused(
    ctx: SearchContext, launch: Launch, view: PodView, settings: ControllerSettings
) -> TrialRecord:
    """A real trial on a reused pod: reload with the new batch size, then run the trial runner
    (the fresh pod's protocol and arguments) against it."""
    host = view.ip or ""
    spec = ctx.resolved.spec.model
    config = model_config(spec.name, launch.config, extra=spec.model_config)
    try:
        await asyncio.to_thread(reload_model, host, spec.name, config)
    except ReloadError as exc:  # refused: Triton could not load it; else the server is gone
        kind = FailureKind.MODEL_LOAD if exc.refused else FailureKind.CRASH
        return failed(launch.config, kind, str(exc))
    result = await run_load(
        reused_runner_args(ctx.resolved, launch.config, view, settings.pods),
        host=host,
        model=spec.name,
        timeout_s=deadline_seconds(ctx.resolved, settings.pods),
        metrics_port=METRICS_PORT,
    )
    if result.report is None:
        why = f"the trial runner gave no report: {result.runner_error}"
        return failed(launch.config, FailureKind.RUNNER, why)
    report = read_report(launch.config, result.report)
    if isinstance(report, TrialRecord):
        return report
    return judge(
        launch.config,
        report,
        result.window,
        objective=ctx.resolved.objective,
    )


async def live(
    kube: Kube, ctx: SearchContext, launch: Launch, view: PodView, settings: ControllerSettings
) -> TrialRecord:
    """A real trial: the runner container drives the load; the operator reads both sources."""
    url = metrics_url(view.ip or "", port=METRICS_PORT)
    deadline = time.monotonic() + settings.report_timeout_s
    while True:
        current = await _look(kube, ctx, launch, view)
        if isinstance(current, TrialRecord):
            return current
        if current.runner_report is not None:
            break
        if time.monotonic() > deadline:
            why = "the trial runner did not report in time"
            return failed(launch.config, FailureKind.TIMEOUT, why)
        await asyncio.sleep(settings.poll_s)
    report = read_report(launch.config, current.runner_report)
    if isinstance(report, TrialRecord):
        return report
    try:
        after = await asyncio.to_thread(scrape, url)
        before = server_start(current if current.ready_at else view, now=after.taken_at)
        window = measure_window(before, after, model=ctx.resolved.spec.model.name)
    except MetricsError:
        window = None
    return judge(
        launch.config,
        report,
        window,
        objective=ctx.resolved.objective,
    )


def server_start(view: PodView, *, now: float, wall: datetime | None = None) -> Snapshot:
    """Triton's counters when the trial pod's server got ready: none yet, at ``now`` minus its age.

    A fresh trial pod's Triton loaded the model at start and serves only its runner, which sends
    its first request the moment the server is ready -- earlier than the operator can see the
    pod ready and scrape, so a scrape then would miss the warm-up's first requests. ``now`` is
    a monotonic reading taken at ``wall`` (default: the current UTC time); the readiness time
    is the pod's (``ready_at``, else its creation).
    """
    since = view.ready_at or view.created_at
    wall = wall or datetime.now(UTC)
    age = 0.0 if since is None else max(0.0, (wall - since).total_seconds())
    return Snapshot(taken_at=now - age)
