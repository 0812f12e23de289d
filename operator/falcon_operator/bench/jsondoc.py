"""The stable, machine-readable ``results.json`` of a benchmark (schema in docs/benchmark.md).

Keys present since the first release are kept as they were; the statistics of issue 14 (the
bootstrap intervals, the paired comparison with Falcon, the median trials to a level, each run's
``stream_seed``) are added beside them. Checkpoint keys are strings; non-finite numbers are null.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from falcon_operator.bench.runs import LEVEL_HIGH, RunResult, accuracy_at, trials_to
from falcon_operator.bench.stats import RESAMPLES, SEED, TIE, Interval, TrialsTo
from falcon_operator.bench.summary import GroupStats, Summary, summarise
from falcon_operator.core.errors import DataError

_DECIMALS = 6


def num(x: float | None) -> float | None:
    """Round for JSON; non-finite becomes ``None`` (JSON has no NaN)."""
    if x is None or not math.isfinite(x):
        return None
    return round(float(x), _DECIMALS)


def jsonable(value: object) -> Any:
    """Best-effort conversion of ``meta`` values into plain JSON types."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return num(value)
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset | np.ndarray):
        return [jsonable(v) for v in value]
    return str(value)


def latency_json(latency: Mapping[str, Mapping[str, float]]) -> dict[str, dict[str, Any]]:
    """The ``latency`` section: every entry needs ``p50_ms`` and ``p95_ms``; ``n`` is an int."""
    out: dict[str, dict[str, Any]] = {}
    for name, stats in latency.items():
        missing = [key for key in ("p50_ms", "p95_ms") if key not in stats]
        if missing:
            raise DataError(f"latency entry {name!r} lacks {', '.join(missing)}")
        entry: dict[str, Any] = {}
        for key, value in stats.items():
            entry[key] = int(value) if key == "n" else num(value)
        out[str(name)] = entry
    return out


def _ci(interval: Interval) -> list[float | None]:
    return [num(interval.low), num(interval.high)]


def _trials(t: TrialsTo) -> dict[str, Any]:
    return {"median": t.median, "reached": num(t.reached)}


def _method_json(stats: GroupStats, cps: tuple[int, ...]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        str(k): {
            "mean_accuracy": num(stats.at[k].mean_accuracy),
            "p_ge_0_9": num(stats.at[k].p_ge_0_9),
            "p_ge_0_95": num(stats.at[k].p_ge_0_95),
            "mean_accuracy_ci95": _ci(stats.at[k].ci95),
        }
        for k in cps
    }
    entry["mean_trials_to_0_95"] = num(stats.mean_trials_to_0_95)
    entry["infeasible_trials_mean"] = num(stats.infeasible_trials_mean)
    entry["n_runs"] = stats.n_runs
    entry["trials_to_0_9"] = _trials(stats.trials_to_0_9)
    entry["trials_to_0_95"] = _trials(stats.trials_to_0_95)
    return entry


def _paired_json(summary: Summary) -> dict[str, Any]:
    return {
        method: {
            str(k): {
                "wins": r.wins,
                "ties": r.ties,
                "losses": r.losses,
                "mean_diff": num(r.diff.mean),
                "mean_diff_ci95": _ci(r.diff),
            }
            for k, r in by_k.items()
        }
        for method, by_k in summary.paired.items()
    }


def results_json(
    runs: Sequence[RunResult],
    checkpoints: Sequence[int],
    latency: Mapping[str, Mapping[str, float]],
    *,
    meta: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """The results document (schema in docs/benchmark.md)."""
    summary = summarise(runs, checkpoints)
    cps = summary.checkpoints
    runs_json = [
        {
            "method": r.method,
            "target": r.target,
            "seed": int(r.seed),
            "accuracy_at": {str(k): num(accuracy_at(r, k)) for k in cps},
            "trials_to_0_95": trials_to(r, LEVEL_HIGH),
            "stream_seed": r.stream_seed,
            "infeasible_trials": r.infeasible_trials,
        }
        for r in sorted(runs, key=lambda r: (r.method, r.target, r.seed))
    ]
    items = summary.per_target.items()
    doc: dict[str, Any] = {
        "summary": {m: _method_json(s, cps) for m, s in summary.methods.items()},
        "runs": runs_json,
        "latency": latency_json(latency),
        "per_target": {
            m: {t: {str(k): num(s.at[k].mean_accuracy) for k in cps} for t, s in bt.items()}
            for m, bt in items
        },
        "per_target_ci95": {
            m: {t: {str(k): _ci(s.at[k].ci95) for k in cps} for t, s in bt.items()}
            for m, bt in items
        },
        "paired": {"reference": summary.reference, "methods": _paired_json(summary)},
        "statistics": {
            "interval": "two-level percentile bootstrap (targets, then seeds within each)",
            "level": 0.95,
            "resamples": RESAMPLES,
            "seed": SEED,
            "tie_tolerance": TIE,
        },
    }
    if meta is not None:
        doc["meta"] = jsonable(meta)
    return doc
