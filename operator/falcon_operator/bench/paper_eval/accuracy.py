"""Evaluations 1 and 3: accuracy after 6, 15 and 30 trials per method, and per target.

Read from a benchmark's ``results.json`` (docs/benchmark.md schema): the committed
``bench/results/paper`` and ``bench/results/mix`` runs, 20 seeds per (method, target), with the
two-level bootstrap intervals and the paired comparison with Falcon that ``falcon bench`` wrote.
Nothing is re-run here: these are the benchmark's own figures.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from falcon_operator.core.errors import DataError


@dataclass(frozen=True)
class MethodAccuracy:
    """One method's mean accuracy at each checkpoint, its 95 % interval and Falcon's paired gain."""

    method: str
    mean: Mapping[int, float]
    ci95: Mapping[int, tuple[float, float]]
    #: mean of falcon - method on the same (target, seed), with its interval; absent for falcon
    gain: Mapping[int, tuple[float, float, float]]


@dataclass(frozen=True)
class WorldAccuracy:
    """A benchmark world's accuracy tables: overall (evaluation 1) and per target (evaluation 3)."""

    world: str
    source: str  #: the results.json read
    seeds: int
    checkpoints: tuple[int, ...]
    methods: tuple[MethodAccuracy, ...]  #: best first at the first checkpoint
    #: method -> target -> checkpoint -> mean accuracy (normalised objective: best / table best)
    per_target: Mapping[str, Mapping[str, Mapping[int, float]]]

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(sorted({t for by in self.per_target.values() for t in by}))


def _checkpoints(summary: Mapping[str, Any]) -> tuple[int, ...]:
    first = next(iter(summary.values()))
    return tuple(sorted(int(k) for k in first if k.isdigit()))


def read_world(path: str | Path, world: str) -> WorldAccuracy:
    """The accuracy tables of the benchmark whose ``results.json`` is at ``path``."""
    try:
        doc = json.loads(Path(path).read_text())
        summary: Mapping[str, Any] = doc["summary"]
        cps = _checkpoints(summary)
        paired: Mapping[str, Any] = doc.get("paired", {}).get("methods", {})
        methods = []
        for name, stats in summary.items():
            ci: dict[int, tuple[float, float]] = {}
            gain: dict[int, tuple[float, float, float]] = {}
            for k in cps:
                lo, hi = stats[str(k)]["mean_accuracy_ci95"]
                ci[k] = (float(lo), float(hi))
                if name in paired:
                    pk = paired[name][str(k)]
                    dlo, dhi = pk["mean_diff_ci95"]
                    gain[k] = (float(pk["mean_diff"]), float(dlo), float(dhi))
            mean = {k: float(stats[str(k)]["mean_accuracy"]) for k in cps}
            methods.append(MethodAccuracy(name, mean, ci, gain))
        per_target = {
            m: {t: {int(k): float(v) for k, v in by_k.items()} for t, by_k in by_t.items()}
            for m, by_t in doc["per_target"].items()
        }
        seeds = int(doc["meta"]["seeds"])
    except (OSError, KeyError, ValueError, TypeError, StopIteration) as exc:
        raise DataError(f"{path}: not a benchmark results.json ({exc})") from exc
    methods.sort(key=lambda m: (-m.mean[cps[0]], m.method))
    return WorldAccuracy(world, str(path), seeds, cps, tuple(methods), per_target)
