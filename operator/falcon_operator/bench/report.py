"""Benchmark reports: write ``results.json``, ``results.md`` and ``accuracy.png`` (or, timing only,
``latency.json`` and ``latency.md``); latency stats.

The pieces live beside this module: bench/runs.py (a run and its accuracy after k trials),
bench/stats.py (bootstrap intervals, paired win/tie/loss, median trials to a level),
bench/summary.py (aggregates per method and target), bench/jsondoc.py (the ``results.json``
schema, documented in docs/benchmark.md), bench/markdown.py and bench/plot.py. This module
re-exports their public names, so ``from falcon_operator.bench.report import …`` keeps working.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from falcon_operator.bench.jsondoc import jsonable, latency_json, results_json
from falcon_operator.bench.markdown import latency_markdown, markdown_table
from falcon_operator.bench.plot import plot_accuracy
from falcon_operator.bench.runs import (
    LEVEL_HIGH,
    LEVEL_LOW,
    RunResult,
    accuracy_at,
    normalise_checkpoints,
    trials_to,
)
from falcon_operator.bench.summary import CheckpointStats, GroupStats, Summary, summarise
from falcon_operator.core.errors import DataError

__all__ = [
    "LEVEL_HIGH",
    "LEVEL_LOW",
    "CheckpointStats",
    "GroupStats",
    "RunResult",
    "Summary",
    "accuracy_at",
    "latency_stats",
    "markdown_table",
    "plot_accuracy",
    "results_json",
    "summarise",
    "trials_to",
    "write_latency",
    "write_report",
]


def write_report(
    out_dir: str | Path,
    runs: Sequence[RunResult],
    checkpoints: Sequence[int],
    latency: Mapping[str, Mapping[str, float]],
    *,
    meta: Mapping[str, object] | None = None,
) -> dict[str, Path]:
    """Write ``results.json``, ``results.md`` and ``accuracy.png`` into ``out_dir`` (created).

    Returns the paths keyed ``"json"``, ``"markdown"`` and ``"plot"``.
    """
    if not runs:
        raise DataError("no runs to report")
    cps = normalise_checkpoints(checkpoints)
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": directory / "results.json",
        "markdown": directory / "results.md",
        "plot": directory / "accuracy.png",
    }
    doc = results_json(runs, cps, latency, meta=meta)
    paths["json"].write_text(json.dumps(doc, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    summary = summarise(runs, cps)
    paths["markdown"].write_text(markdown_table(summary, cps, latency=latency), encoding="utf-8")
    horizon = max(cps[-1], *(r.n_trials for r in runs))
    plot_accuracy(runs, paths["plot"], max_trials=horizon)
    return paths


def write_latency(
    out_dir: str | Path,
    latency: Mapping[str, Mapping[str, float]],
    *,
    meta: Mapping[str, object] | None = None,
) -> dict[str, Path]:
    """Write ``latency.json`` (``{"latency": …, "meta": …}``, the ``latency`` section of
    ``results.json``'s schema) and ``latency.md`` into ``out_dir`` (created); returns their paths
    keyed ``"json"`` and ``"markdown"``."""
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {"json": directory / "latency.json", "markdown": directory / "latency.md"}
    doc: dict[str, object] = {"latency": latency_json(latency)}
    if meta is not None:
        doc["meta"] = jsonable(meta)
    paths["json"].write_text(json.dumps(doc, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    title = "Falcon suggestion latency"
    paths["markdown"].write_text(latency_markdown(latency, title=title), encoding="utf-8")
    return paths


def latency_stats(samples_seconds: Sequence[float]) -> dict[str, float]:
    """p50, p95 (linear interpolation) and max in milliseconds, plus the sample count ``n``."""
    samples = np.asarray(samples_seconds, dtype=float)
    if samples.size == 0:
        raise DataError("no latency samples")
    if not np.all(np.isfinite(samples)):
        raise DataError("latency samples must be finite")
    ms = samples * 1000.0
    p50, p95 = np.percentile(ms, [50.0, 95.0])
    return {
        "p50_ms": float(p50),
        "p95_ms": float(p95),
        "max_ms": float(ms.max()),
        "n": float(samples.size),
    }
