"""What happened between two snapshots: rates, average batch and latencies from counter deltas.

Every counter is compared series by series (each label set: model, version, failure reason).
A series that went *down* was reset (Triton restarted, or the model was reloaded): with
``on_reset="delta"`` (the default, Prometheus ``increase()`` semantics) its value after the
reset counts as the increase, and the metric's name is listed in ``WindowMeasurement.resets``
so the caller can distrust or redo the window; with ``on_reset="raise"`` a retryable
:class:`CounterResetError` is raised instead. A series that vanished counts as reset to zero.
GPU gauges are instantaneous: the window reports their values in the *second* snapshot.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from falcon_operator.metrics import names as n
from falcon_operator.metrics.errors import CounterResetError, MetricsError, SeriesMissingError
from falcon_operator.metrics.measurement import GpuReading, WindowMeasurement
from falcon_operator.metrics.snapshot import LabelKey, Snapshot

OnReset = Literal["delta", "raise"]


@dataclass(frozen=True)
class _Delta:
    value: float | None  #: None when no series of the metric matches the model
    reset: bool


def _delta(before: Snapshot, after: Snapshot, name: str, model: str, version: str | None) -> _Delta:
    old: dict[LabelKey, float] = {
        s.key: s.value for s in before.model_samples(name, model=model, version=version)
    }
    new: dict[LabelKey, float] = {
        s.key: s.value for s in after.model_samples(name, model=model, version=version)
    }
    if not old and not new:
        return _Delta(None, False)
    total, reset = 0.0, False
    for key in old.keys() | new.keys():
        a, b = old.get(key, 0.0), new.get(key, 0.0)
        if b < a:
            reset = True
            total += b  # increase since the reset
        else:
            total += b - a
    return _Delta(total, reset)


def _gpus(after: Snapshot, gpu_uuids: Collection[str] | None) -> tuple[GpuReading, ...]:
    by_metric = {name: after.gauge_by_gpu(name, gpu_uuids=gpu_uuids) for name in n.GPU_GAUGES}
    uuids = sorted(set().union(*by_metric.values()))
    return tuple(
        GpuReading(
            uuid=u,
            utilization=by_metric[n.GPU_UTILIZATION].get(u),
            memory_used_bytes=by_metric[n.GPU_MEMORY_USED_BYTES].get(u),
            power_w=by_metric[n.GPU_POWER_USAGE].get(u),
            power_limit_w=by_metric[n.GPU_POWER_LIMIT].get(u),
        )
        for u in uuids
    )


def measure_window(
    before: Snapshot,
    after: Snapshot,
    *,
    model: str,
    version: str | None = None,
    gpu_uuids: Collection[str] | None = None,
    on_reset: OnReset = "delta",
) -> WindowMeasurement:
    """The measurement of ``model`` (all versions unless ``version``) between two scrapes."""
    seconds = after.taken_at - before.taken_at
    if seconds <= 0:
        raise MetricsError(f"window of {seconds:g} s: the second snapshot must be taken later")
    deltas = {name: _delta(before, after, name, model, version) for name in n.MODEL_COUNTERS}
    success = deltas[n.REQUEST_SUCCESS]
    if success.value is None:
        which = f"{model!r} version {version!r}" if version is not None else repr(model)
        raise SeriesMissingError(
            f"no {n.REQUEST_SUCCESS} series for model {which}; models present: "
            f"{list(after.models()) or 'none'}"
        )
    resets = tuple(name for name, d in deltas.items() if d.reset)
    if resets and on_reset == "raise":
        raise CounterResetError(
            f"counters went down during the window (server restarted or model reloaded): "
            f"{', '.join(resets)}",
            metrics=resets,
        )
    return WindowMeasurement(
        model=model,
        version=version,
        seconds=seconds,
        requests=success.value,
        failures=deltas[n.REQUEST_FAILURE].value,
        inferences=deltas[n.INFERENCE_COUNT].value,
        executions=deltas[n.EXEC_COUNT].value,
        request_us=deltas[n.REQUEST_DURATION_US].value,
        queue_us=deltas[n.QUEUE_DURATION_US].value,
        compute_us=deltas[n.COMPUTE_INFER_DURATION_US].value,
        gpus=_gpus(after, gpu_uuids),
        resets=resets,
    )
