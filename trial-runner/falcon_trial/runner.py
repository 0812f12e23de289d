"""One trial end to end: wait for the server, read the model, drive the load, measure.

``run`` returns a ``RunResult`` or raises a ``TrialError``; it writes nothing (see ``report``
and ``cli``). Workers are always stopped, and every request they sent is counted in ``totals``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from falcon_trial.client import Client, load_protocol
from falcon_trial.inputs import build_inputs
from falcon_trial.load import LoadGenerator
from falcon_trial.measure import Measurement, measure
from falcon_trial.model import ModelInfo
from falcon_trial.schema import RequestTotals
from falcon_trial.server import read_model, wait_ready
from falcon_trial.settings import Settings
from falcon_trial.sweep import SweepResult, run_sweep


@dataclasses.dataclass(frozen=True)
class RunResult:
    """What a successful run measured."""

    model: ModelInfo
    measurement: Measurement
    """The fixed-concurrency measurement, or the sweep's knee step."""
    sweep: SweepResult | None
    totals: RequestTotals
    ready_wait_s: float
    elapsed_s: float


def run(settings: Settings, *, log: Callable[[str], None] = lambda _: None) -> RunResult:
    """Run the trial described by ``settings``."""
    server = settings.server
    load_protocol(server.protocol)  # an unavailable protocol fails before any waiting
    started = time.monotonic()
    control = Client(server, timeout_s=min(server.request_timeout_s, server.ready_timeout_s))
    try:
        waited = wait_ready(control, server, log=log)
        model = read_model(control, server)
    finally:
        control.close()
    arrays = build_inputs(model, settings.inputs)
    log(
        f"model {model.name} v{model.version or '?'}: inputs "
        + ", ".join(f"{n} {a.dtype}{list(a.shape)}" for n, a in arrays.items())
    )

    def open_worker() -> Client:
        client = Client(server)
        client.prepare(model, arrays)
        return client

    def measure_at(concurrency: int) -> Measurement:
        return measure(
            gen,
            concurrency,
            settings.measure,
            request_timeout_s=server.request_timeout_s,
            log=log,
        )

    gen = LoadGenerator(open_worker, error_backoff_s=settings.load.error_backoff_s)
    sweep: SweepResult | None = None
    try:
        if settings.load.sweep_max is not None:
            sweep = run_sweep(
                measure_at,
                settings.load.sweep_max,
                min_gain=settings.load.min_gain,
                slo_p99_ms=settings.load.slo_p99_ms,
            )
            measurement = sweep.chosen
            log(f"knee at concurrency {measurement.concurrency} ({sweep.reason})")
        else:
            measurement = measure_at(settings.load.concurrency)
    finally:
        unfinished = gen.stop(server.request_timeout_s + 1.0)
    ok, failed = gen.totals()
    return RunResult(
        model=model,
        measurement=measurement,
        sweep=sweep,
        totals=RequestTotals(ok, failed, unfinished),
        ready_wait_s=waited,
        elapsed_s=time.monotonic() - started,
    )
