"""Run the seven evaluations at a given size (:class:`Size`) and collect them (:class:`PaperEval`).

Worlds: the paper's data (evaluations 2 and 4; held-out targets, knowledge from the 18
sources), the committed paper and mix benchmarks (1, 3), the mix world (2, 5, 6: the harder world,
where the paper data's targets leave nothing to sweep, Falcon being at 0.99 after 6 trials), the
fleet benchmark's generated tables (7). Every search goes through the benchmark's runner
(bench/runner.py), one random stream per (method, target, seed), knowledge from the sources
only; nothing is tuned here.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from falcon_operator.bench.ablation_jobs import variant_knowledge
from falcon_operator.bench.fleet import FleetBenchSettings, fleet_objective, write_fleet_dataset
from falcon_operator.bench.mixplan import MixPlan, plan_mix
from falcon_operator.bench.paper_eval.accuracy import WorldAccuracy, read_world
from falcon_operator.bench.paper_eval.costs import SCENARIOS
from falcon_operator.bench.paper_eval.online import (
    REFERENCE,
    RIVAL,
    MethodTime,
    Overhead,
    method_time,
    overhead,
)
from falcon_operator.bench.paper_eval.path import PathGrid, path_grid
from falcon_operator.bench.paper_eval.practical import Recommendation, recommendations
from falcon_operator.bench.paper_eval.sweeps import (
    BASE,
    KOP_VALUES,
    PCA_VALUES,
    Sweep,
    method_names,
    sweep,
)
from falcon_operator.bench.runner import Job, JobResult, run_jobs
from falcon_operator.core.catalog import load_catalog
from falcon_operator.core.objective import Objective
from falcon_operator.knowledge.base import Knowledge
from falcon_operator.knowledge.dataset import FalconDataset
from falcon_operator.knowledge.tables import Table


@dataclass(frozen=True)
class Size:
    """How much ``make paper-eval`` runs (``PAPER_EVAL_SEEDS`` sets ``seeds``)."""

    seeds: int = 10  #: per (method, target) in every evaluation that searches
    trials: tuple[int, ...] = (6, 15, 30)
    targets: tuple[str, ...] | None = None  #: paper-data targets (None: all 8)
    mix_targets: tuple[str, ...] | None = None  #: mix-world targets of the sweeps (None: all)
    path_target: str = "bert-large"
    kop_values: tuple[float, ...] = KOP_VALUES
    pca_values: tuple[float, ...] = PCA_VALUES
    practical_trials: int = 15
    workers: int | None = None


@dataclass
class PaperEval:
    size: Size
    worlds: list[WorldAccuracy]
    times: dict[str, list[MethodTime]]  #: world -> Falcon's and Morphling's, per scenario
    overheads: dict[str, list[Overhead]]  #: world -> one per trial-cost scenario
    paths: dict[str, PathGrid]  #: method -> its seed-0 path on ``size.path_target``
    sweeps: list[Sweep]
    practical: list[Recommendation]
    wall_s: dict[str, float] = field(default_factory=dict)


HEAD = (REFERENCE, RIVAL)

Progress = Callable[[str, int], Callable[[JobResult], None] | None]


def _jobs(
    methods: Sequence[str],
    targets: Sequence[Table],
    ds: FalconDataset,
    size: Size,
    objective: Objective | None = None,
) -> list[Job]:
    return [
        Job(m, t, ds.profile(t.name), seed, max(size.trials), objective=objective)
        for m in methods
        for t in targets
        for seed in range(size.seeds)
    ]


def mix_plan(root: Path, methods: Sequence[str], size: Size) -> MixPlan:
    """The mix world's held-out searches of ``methods`` (generated into ``root``), as
    ``falcon bench --mix`` plans them: its scenarios' knowledge, its measurement noise."""
    args = argparse.Namespace(
        data=root, out=root, catalog=None, noise=None, sources=None, loo=False, loo_distance=0.0,
        targets=list(size.mix_targets) if size.mix_targets else None, methods=list(methods),
        seeds=size.seeds, trials=list(size.trials),
    )  # fmt: skip
    return plan_mix(args, Console(quiet=True))


def run_paper_eval(
    data: FalconDataset,
    committed: Mapping[str, Path],
    root: Path,
    size: Size,
    *,
    progress: Progress | None = None,
) -> PaperEval:
    """Every evaluation at ``size``; ``committed`` maps a world's name to its results.json;
    the generated worlds go under ``root`` (``fleet-data/``, ``mix-data/``)."""
    wall: dict[str, float] = {}
    fleet_root, mix_root = root / "fleet-data", root / "mix-data"

    def timed(name: str, jobs: list[Job], knowledge: dict[str, Knowledge]) -> list[JobResult]:
        started = time.perf_counter()
        done = progress(name, len(jobs)) if progress else None
        res = run_jobs(jobs, knowledge, workers=size.workers, on_done=done)
        wall[name] = round(time.perf_counter() - started, 1)
        return res

    worlds = [read_world(path, world) for world, path in committed.items()]
    kb = data.knowledge()
    targets = data.tables("targets", list(size.targets) if size.targets else None, space=kb.space)
    head = timed("paper data", _jobs((REFERENCE, RIVAL), targets, data, size), {"": kb})
    cps = size.trials
    path_table = next((t for t in targets if t.name == size.path_target), targets[0])
    paths = {
        r.run.method: path_grid(path_table, r.configs)
        for r in head
        if r.run.target == path_table.name and r.run.seed == 0
    }
    swept_methods = [
        BASE,
        *method_names("kop", size.kop_values),
        *method_names("pca", size.pca_values),
    ]
    plan = mix_plan(mix_root, [REFERENCE, RIVAL, *swept_methods], size)
    knowledge = dict(plan.knowledge)
    jobs = variant_knowledge(
        plan.jobs, knowledge, lambda key: FalconDataset(mix_root / key.split("@")[-1]).curves()
    )
    mixed = timed("mix world", jobs, knowledge)
    swept = [r.run for r in mixed if r.run.method in swept_methods]
    online = {"paper data": head, "mix world": [r for r in mixed if r.run.method in HEAD]}
    times = {
        world: [
            method_time([r for r in res if r.run.method == m], cost, cps)
            for cost in SCENARIOS
            for m in HEAD
        ]
        for world, res in online.items()
    }
    overheads = {
        world: [overhead(res, cost) for cost in SCENARIOS] for world, res in online.items()
    }
    sweeps = [sweep("kop", size.kop_values, swept, cps), sweep("pca", size.pca_values, swept, cps)]
    catalog = load_catalog(None)
    settings = FleetBenchSettings()
    write_fleet_dataset(fleet_root, catalog, settings=settings)
    fleet = FalconDataset(fleet_root)
    fkb = fleet.knowledge()
    ftargets = fleet.tables("targets", None, space=fkb.space)
    objective = fleet_objective(catalog, settings)
    fres = timed("fleet", _jobs((REFERENCE,), ftargets, fleet, size, objective), {"": fkb})
    practical = recommendations(ftargets, fres, trials=size.practical_trials)
    return PaperEval(size, worlds, times, overheads, paths, sweeps, practical, wall)
