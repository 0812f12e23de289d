"""Our side of the head-to-head: a live search's run, and the referee's re-measurements.

:func:`search_run` runs one strategy on one model with real trials (the same driver and backend
as ``falcon search --live``) and records every step; :func:`referee` re-measures one
configuration ``repeats`` times, each on a fresh server, for the report's referee column and the
noise figure. Both write nothing; the benchmark script saves the runs
(``bench/live_head_to_head.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path

from falcon_operator.core.knobs import BATCH, CONCURRENCY, CPUS, INSTANCES, ORT_THREADS, QUEUE_DELAY
from falcon_operator.core.records import TrialRecord
from falcon_operator.core.space import Config, Space, Value
from falcon_operator.knowledge.base import Knowledge
from falcon_operator.live.judge import LiveObjective
from falcon_operator.live.runs import MethodRun, Referee, Step
from falcon_operator.live.space import LiveSpaceSettings, host_cores
from falcon_operator.live.trial import LiveBackend
from falcon_operator.search.driver import Budget, Driver
from falcon_operator.search.registry import make_strategy


def common_space_settings(*, cores: int | None = None) -> LiveSpaceSettings:
    """The knobs both tools search: instances, max batch size and concurrency, on every core of
    this host, one onnxruntime thread, no queue delay (Model Analyzer's defaults)."""
    return LiveSpaceSettings(
        cpus=(cores or len(host_cores()),), ort_threads=(1,), queue_delay_us=(0,)
    )


def step_of(record: TrialRecord) -> Step:
    m = record.metrics
    config = {k: int(v) for k, v in record.config.items()}  # type: ignore[arg-type]
    return Step(config, record.objective if record.ok else None, m.get("rps", 0.0),
                m.get("p99_ms", 0.0), "" if record.ok else record.reason)  # fmt: skip


def search_run(
    model: Path,
    *,
    name: str,
    method: str,
    space: Space,
    space_name: str,
    knowledge: Knowledge,
    profile: Mapping[str, float],
    trials: int,
    slo_p99_ms: float,
    seed: int = 0,
    on_trial: Callable[[int, Config, TrialRecord], None] = lambda *_: None,
) -> MethodRun:
    """``method`` on ``model`` for ``trials`` real trials in ``space``."""
    backend = LiveBackend(model, objective=LiveObjective(slo_p99_ms=slo_p99_ms))
    strategy = make_strategy(method, space, knowledge, profile=profile, seed=seed)
    started = time.perf_counter()
    run = Driver(strategy, Budget(trials)).run(backend.run, on_trial=on_trial)
    steps = tuple(step_of(r) for r in run.history)
    return MethodRun(name, method, space_name, steps, time.perf_counter() - started)


def as_live_config(config: Mapping[str, Value], *, cores: int) -> Config:
    """A configuration of the common knobs as a full live configuration (Model Analyzer's
    settings for the knobs it does not search)."""
    return {
        BATCH: int(config[BATCH]),
        CPUS: int(config.get(CPUS, cores)),
        INSTANCES: int(config.get(INSTANCES, 1)),
        CONCURRENCY: int(config[CONCURRENCY]),
        ORT_THREADS: int(config.get(ORT_THREADS, 1)),
        QUEUE_DELAY: int(config.get(QUEUE_DELAY, 0)),
    }


def referee(
    model: Path, config: Mapping[str, Value], *, repeats: int, cores: int
) -> tuple[Referee, ...]:
    """``config`` measured ``repeats`` times, a fresh server each, with no SLO: each repeat's
    throughput per core and p99 (0 and 0 when it failed to run)."""
    backend = LiveBackend(model, objective=LiveObjective())
    full = as_live_config(config, cores=cores)
    out = []
    for _ in range(repeats):
        record = backend.run(full)
        m = record.metrics
        ok = record.ok and record.objective is not None
        out.append(Referee((record.objective or 0.0) if ok else 0.0, m.get("p99_ms", 0.0), ok))
    return tuple(out)
