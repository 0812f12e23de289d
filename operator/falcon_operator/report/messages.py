"""Messages about a search as a whole: a configuration in a few words, and the truthful
verdict of a search in which no configuration succeeded (an SLO that nothing meets says so,
with the lowest p99 measured and where)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from falcon_operator.core.knobs import BATCH, GPU
from falcon_operator.core.numbers import plain, versus
from falcon_operator.core.records import Outcome, TrialRecord
from falcon_operator.core.space import Value


def short_config(config: Mapping[str, Value]) -> str:
    """``T4 b16 cpus=4 gpumem=4 gpupower=100``: GPU type and batch size first."""
    parts = []
    if GPU in config:
        parts.append(str(config[GPU]))
    if BATCH in config:
        parts.append(f"b{config['batchsize']}")
    for key, value in config.items():
        if key not in (GPU, BATCH):
            parts.append(f"{key}={plain(value) if isinstance(value, float) else value}")
    return " ".join(parts)


def lowest_p99(
    history: Sequence[TrialRecord], labels: Sequence[str] | None = None
) -> tuple[float, str, TrialRecord] | None:
    """(p99 ms, label, record) of the trial with the lowest measured p99, if any measured."""
    names = list(labels) if labels is not None else [f"trial {i + 1}" for i in range(len(history))]
    measured = [
        (float(r.metrics["p99_ms"]), name, r)
        for name, r in zip(names, history, strict=True)
        if math.isfinite(r.metrics.get("p99_ms", math.nan))
    ]
    return min(measured, key=lambda m: m[0]) if measured else None


def no_success(
    history: Sequence[TrialRecord],
    *,
    slo_p99_ms: float | None,
    labels: Sequence[str] | None = None,
) -> str:
    """Why a search found nothing: an SLO nothing met (the lowest p99 and where), or no
    measurement at all."""
    n = len(history)
    infeasible = sum(r.outcome is Outcome.INFEASIBLE for r in history)
    failed = sum(r.outcome is Outcome.FAILED for r in history)
    counts = f"{infeasible} infeasible, {failed} failed"
    low = lowest_p99(history, labels)
    if low is not None and slo_p99_ms is not None and low[0] > slo_p99_ms:
        p99, slo = versus(low[0], slo_p99_ms)
        return (
            f"no configuration meets the {slo} ms p99 SLO: the lowest p99 measured is {p99} ms "
            f"({low[1]}, {short_config(low[2].config)}) over {n} trials ({counts})"
        )
    if n == 0:
        return "no trial ran"
    return f"none of the {n} trials produced a measurement ({counts})"
