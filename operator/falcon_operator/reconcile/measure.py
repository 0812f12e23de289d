"""Measure a ready trial pod: simulated (the operator serves the pod IP), live, or reused.

- simulated: start the test server on the pod IP, drive the load in-process, scrape Triton's
  metrics around it; the server stays up for a possible reuse until the pod is deleted.
- live: Triton's metrics at readiness, the runner container's report (termination message),
  Triton's metrics again; the two sources are checked against each other.
- reused: reload the model with the new batch size through Triton's repository API (refused
  when it does not fit: a failed, OOM trial), then drive the load in-process.
"""

from __future__ import annotations

import asyncio
import json
import time

from falcon_operator.errors import MetricsError
from falcon_operator.metrics import measure_window, metrics_url, scrape
from falcon_operator.reconcile.kube import Kube
from falcon_operator.reconcile.plan import Launch
from falcon_operator.reconcile.prepare import SearchContext
from falcon_operator.reconcile.settings import ControllerSettings
from falcon_operator.trials.load import LoadPlan, run_load
from falcon_operator.trials.manifest import METRICS_PORT
from falcon_operator.trials.modelconfig import model_config
from falcon_operator.trials.outcome import Verdict, failed, judge
from falcon_operator.trials.readback import PodState, PodView, failure_reason, read_pod
from falcon_operator.trials.reload import ReloadError, reload_model
from falcon_operator.trials.simulated import SimulationSettings
from falcon_trial.testserver import ConfigError


def _plan(ctx: SearchContext, launch: Launch, time_scale: float) -> LoadPlan:
    sim = ctx.sim.settings if ctx.sim is not None else SimulationSettings()
    plan = LoadPlan.from_budget(
        ctx.resolved.spec.budget,
        int(launch.config["batchsize"]),
        concurrency_per_batch=sim.concurrency_per_batch,
        max_concurrency=sim.max_concurrency,
    )
    slo = ctx.resolved.spec.objective.slo_p99_ms
    return LoadPlan(
        plan.concurrency,
        plan.warmup_s,
        plan.window_s,
        plan.windows,
        plan.ready_timeout_s,
        None if slo is None else slo * time_scale,
    )


async def _load_and_judge(ctx: SearchContext, launch: Launch, host: str, scale: float) -> Verdict:
    model = ctx.resolved.spec.model.name
    result = await asyncio.to_thread(run_load, host, model, _plan(ctx, launch, scale))
    return judge(
        launch.config,
        result.report,
        result.window,
        cost_per_hour=ctx.resolved.cost(launch.config),
        slo_p99_ms=ctx.resolved.spec.objective.slo_p99_ms,
        time_scale=scale,
    )


async def simulated(ctx: SearchContext, launch: Launch, view: PodView) -> Verdict:
    assert ctx.sim is not None
    if view.ip is None:
        return failed(launch.config, "crash", "the ready trial pod has no IP")
    try:
        info = await asyncio.to_thread(ctx.sim.start, view.name, view.ip, launch.config)
    except ConfigError as exc:
        kind = "oom" if "out of memory" in str(exc) else "crash"
        return failed(launch.config, kind, f"the server refused to load the model: {exc}")
    except OSError as exc:
        return failed(launch.config, "crash", f"cannot serve {view.ip}: {exc}")
    return await _load_and_judge(ctx, launch, view.ip, info.time_scale)


async def reused(ctx: SearchContext, launch: Launch, view: PodView) -> Verdict:
    scale = 1.0
    if ctx.sim is not None:
        info = ctx.sim.server(view.name)
        if info is None:
            return failed(launch.config, "crash", f"pod {view.name} has no running server")
        scale = info.time_scale
    host = view.ip or ""
    spec = ctx.resolved.spec.model
    config = model_config(spec.name, int(launch.config["batchsize"]), extra=spec.model_config)
    try:
        await asyncio.to_thread(reload_model, host, spec.name, config)
    except ReloadError as exc:
        kind = "oom" if "out of memory" in str(exc) else "crash"
        return failed(launch.config, kind, str(exc))
    return await _load_and_judge(ctx, launch, host, scale)


async def live(
    kube: Kube, ctx: SearchContext, launch: Launch, view: PodView, settings: ControllerSettings
) -> Verdict:
    """A real trial: the runner container drives the load; the operator reads both sources."""
    url = metrics_url(view.ip or "", port=METRICS_PORT)
    try:
        before = await asyncio.to_thread(scrape, url)
    except MetricsError:
        before = None
    deadline = time.monotonic() + settings.report_timeout_s
    while True:
        pod = await kube.get_pod(ctx.ref.namespace, view.name)
        if pod is None:
            return failed(launch.config, "deleted", "the trial pod disappeared")
        current = read_pod(pod)
        if current.state is PodState.FAILED:
            return failed(
                launch.config, "oom" if current.oom_killed else "crash", failure_reason(current)
            )
        if current.runner_report is not None:
            break
        if time.monotonic() > deadline:
            return failed(launch.config, "timeout", "the trial runner did not report in time")
        await asyncio.sleep(settings.poll_s)
    try:
        report = json.loads(current.runner_report)
    except ValueError:
        return failed(launch.config, "runner", "the trial runner's report is not JSON")
    window = None
    if before is not None:
        try:
            window = measure_window(
                before, await asyncio.to_thread(scrape, url), model=ctx.resolved.spec.model.name
            )
        except MetricsError:
            window = None
    return judge(
        launch.config,
        report,
        window,
        cost_per_hour=ctx.resolved.cost(launch.config),
        slo_p99_ms=ctx.resolved.spec.objective.slo_p99_ms,
    )
