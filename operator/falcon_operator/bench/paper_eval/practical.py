"""Evaluation 7: the recommended vs the optimal configuration for well-known inference workloads.

The world is the fleet benchmark's (bench/fleet.py, docs/fleet.md): ONNX models generated with
``onnx.helper`` and profiled on the simulated GPU fleet, every configuration of the fleet space
measured, so a target's optimum is found by exhaustive search (its table's best cell). The
held-out targets are of the kinds MLPerf Inference benchmarks (:data:`MLPERF_KIND`); Falcon's
recommendation after a trial budget is the best configuration it measured.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from falcon_operator.bench.runner import JobResult
from falcon_operator.bench.runs import accuracy_at
from falcon_operator.core.space import Config
from falcon_operator.knowledge.tables import Table

#: the fleet's held-out targets and the MLPerf Inference task of the same kind
MLPERF_KIND: Mapping[str, str] = {
    "vgg-plain": "image classification (ResNet-50's task; a plain VGG-style CNN)",
    "mobilenet-dw": "image classification, edge (MLPerf Mobile's MobileNet)",
    "vit-patch": "image classification with a vision transformer",
    "audio-conv1d": "speech recognition (RNN-T's task; a 1-D conv audio model)",
    "wide-deep": "recommendation (DLRM's task; a wide-and-deep model)",
}


@dataclass(frozen=True)
class Recommendation:
    """One target: its exhaustive optimum and what a search recommended after ``trials``."""

    target: str
    kind: str
    space_size: int
    optimum: Config
    trials: int
    recommended: Config | None  #: the seed-0 run's best configuration (None: nothing ran)
    ratio: float  #: its objective / the optimum's (seed 0)
    mean_ratio: float  #: over every seed
    found_at: int | None  #: the trial that found it (seed 0)
    ties: int  #: configurations whose objective equals the optimum's (within 1e-9)


def optimum(table: Table) -> Config:
    """The configuration with the table's best value (exhaustive search over its space)."""
    return table.space.config_at(int(np.nanargmax(table.values)))


def best_config(result: JobResult, trials: int) -> tuple[Config | None, int | None]:
    """The best configuration within the first ``trials`` of a run, and its (1-based) trial."""
    best = result.run.best_so_far[:trials]
    finite = [i for i, v in enumerate(best) if v == v]
    if not finite:
        return None, None
    first = next(i for i in finite if best[i] == best[-1])
    return result.configs[first], first + 1


def recommendations(
    tables: Sequence[Table], results: Sequence[JobResult], *, trials: int, method: str = "falcon"
) -> list[Recommendation]:
    """Per target table, the optimum and ``method``'s recommendation after ``trials``."""
    out = []
    for table in tables:
        mine = sorted(
            (r for r in results if r.run.method == method and r.run.target == table.name),
            key=lambda r: r.run.seed,
        )
        if not mine:
            continue
        config, found = best_config(mine[0], trials)
        out.append(
            Recommendation(
                target=table.name,
                kind=MLPERF_KIND.get(table.name, "-"),
                space_size=table.space.size,
                optimum=optimum(table),
                trials=trials,
                recommended=config,
                ratio=accuracy_at(mine[0].run, trials),
                mean_ratio=float(np.mean([accuracy_at(r.run, trials) for r in mine])),
                found_at=found,
                ties=int(np.sum(table.values >= np.nanmax(table.values) * (1 - 1e-9))),
            )
        )
    return out
