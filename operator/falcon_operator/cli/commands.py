"""What ``falcon kb build``, ``replay`` and ``bench`` do, on parsed arguments (through rich).

Imported only when one of them runs (``falcon --help`` never loads it). Long loops count their
steps through :class:`~falcon_operator.cli.progress.Steps`: a bar with the time left on a
terminal, plain lines in a pipe or a log.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping
from pathlib import Path

from rich.console import Console
from rich.table import Table as RichTable

from falcon_operator.backends.table import TableOracle
from falcon_operator.bench.ablation import VARIANTS, make_bench_strategy
from falcon_operator.bench.ablation import describe as ablation_meta
from falcon_operator.bench.ablation_jobs import common_streams, variant_knowledge
from falcon_operator.bench.fleet import FleetBenchSettings, fleet_objective, write_fleet_dataset
from falcon_operator.bench.latency import large_space, latency_suite
from falcon_operator.bench.mixplan import plan_mix
from falcon_operator.bench.report import write_latency, write_report
from falcon_operator.bench.runner import Job, JobResult, run_jobs
from falcon_operator.cli.progress import Steps
from falcon_operator.cli.trials import TrialLines
from falcon_operator.core.catalog import load_catalog
from falcon_operator.core.errors import DataError
from falcon_operator.core.records import TrialRecord, best_trial
from falcon_operator.core.space import Config
from falcon_operator.knowledge.base import (
    Knowledge,
    KnowledgeSettings,
    build_knowledge,
    curve_shapes,
)
from falcon_operator.knowledge.curves import Curve
from falcon_operator.knowledge.dataset import FalconDataset, default_data_dir
from falcon_operator.knowledge.tables import Table, read_table
from falcon_operator.search.driver import Budget, Driver, Stop
from falcon_operator.search.methods import METHODS
from falcon_operator.search.registry import make_strategy

#: soft wrap: rich never breaks a text line (a pipe is 80 columns to rich); tables still fit
console = Console(soft_wrap=True)


def _dataset(path: Path | None) -> FalconDataset:
    return FalconDataset((path or default_data_dir()).resolve())


def kb_build(args: argparse.Namespace) -> int:
    if args.live:
        from falcon_operator.cli.live import kb_build as live_build

        return live_build(args)
    if args.out is None:
        raise DataError("kb build needs --out FILE (where to write the knowledge base)")
    ds = _dataset(args.data)
    settings = KnowledgeSettings(kop_threshold=args.kop_threshold)
    if args.pca_cutoff is not None:  # PCA is off by default (docs/algorithm.md)
        settings = KnowledgeSettings(
            kop_threshold=args.kop_threshold, pca_cutoff=args.pca_cutoff, pca=True
        )
    paths = ds.table_paths("sources", args.sources)
    # as FalconDataset.knowledge, one step per table, then the curves, the build, the file
    with Steps(console, "reading source tables", len(paths) + 3) as steps:
        tables: list[Table] = []
        for path in paths:
            tables.append(read_table(path, space=tables[0].space if tables else None))
            steps.advance(description=f"read {path.name}")
        profiles = {t.name: p for t in tables if (p := ds.profile(t.name))}
        curves = ds.curves()
        steps.advance(description="classifying and pruning the curves")
        kb = build_knowledge(curves=curves, sources=tables, profiles=profiles, settings=settings)
        steps.advance(description=f"writing {args.out}")
        kb.save(args.out)
        steps.advance()
    shapes = curve_shapes(kb)
    table = RichTable(title=f"KOP resource curves kept ({len(kb.curves)}; pruned {len(kb.pruned)})")
    for col in ("operator", "pair", "shape"):
        table.add_column(col)
    for (op, pair), shape in sorted(shapes.items()):
        table.add_row(op, pair, shape)
    console.print(table)
    console.print(f"source tables: {len(kb.sources)}  ->  wrote [bold]{args.out}[/bold]")
    return 0


def replay(args: argparse.Namespace) -> int:
    ds = _dataset(args.data)
    if (args.target is None) == (args.table is None):
        raise DataError("give exactly one of --target NAME or --table FILE")
    kb = Knowledge.load(args.knowledge) if args.knowledge else ds.knowledge()
    if args.table is not None:
        target = read_table(args.table)
    else:
        target = ds.tables("targets", [args.target], space=kb.space)[0]
    profile = ds.profile(target.name)
    strategy = make_strategy(args.method, target.space, kb, profile=profile, seed=args.seed)
    oracle = TableOracle(target)
    console.print(
        f"[bold]{args.method}[/bold] on [bold]{target.name}[/bold]: {target.space.size} "
        f"configurations, {args.trials} trials, seed {args.seed}; operator profile "
        f"{', '.join(f'{k} {v:.0%}' for k, v in profile.items()) or 'unknown'}"
    )
    lines = TrialLines(target.space, args.trials)
    width = max(len(target.objective_name), 10)
    measured = f"{target.objective_name:>{width}} {'best':>10}"
    console.print(lines.header(measured), highlight=False, style="bold", soft_wrap=True)
    budget = Budget(args.trials, stop_on_convergence=args.stop_early)
    with Steps(console, "searching", args.trials, unit="trials") as bar:
        told: list[TrialRecord] = []

        def show(n: int, config: Config, record: TrialRecord) -> None:
            told.append(record)
            best = best_trial(told)
            value = (
                f"{record.objective:.4f}" if record.objective is not None else record.outcome.value
            )
            so_far = f"{best.objective:.4f}" if best and best.objective is not None else "-"
            bar.print(
                f"{lines.head(n, config)}{value:>{width}} {so_far:>10}",
                highlight=False,
                soft_wrap=True,
            )
            bar.advance()

        run = Driver(strategy, budget).run(oracle.run, on_trial=show)
        history = run.history
        if run.stop is Stop.CONVERGED:
            bar.print(f"stopping after {len(history)} trials: no worthwhile improvement left")
    best = best_trial(history)
    if best is None or best.objective is None:
        console.print("[red]no trial succeeded[/red]")
        return 1
    optimum = target.best
    found_at = next(i for i, t in enumerate(history, 1) if t is best)
    console.print(
        f"[bold green]recommendation[/bold green]: {dict(best.config)}  objective "
        f"{best.objective:.4f} = {best.objective / optimum:.1%} of the table's best "
        f"({optimum:.4f}), found at trial {found_at}"
    )
    return 0


def _fleet_dataset(args: argparse.Namespace) -> FalconDataset:
    """Generate the fleet benchmark's Falcon-layout directory and open it."""
    root = (args.data or args.out / "data").resolve()
    console.print(f"generating the fleet benchmark tables in {root} …")
    started = time.perf_counter()
    settings = FleetBenchSettings(slo_p99_ms=args.slo_p99_ms)
    made = write_fleet_dataset(root, load_catalog(args.catalog), settings=settings)
    size = made[0].space_size if made else 0
    for m in made:
        console.print(
            f"  {m.kind[:-1]:<6} {m.name:<14} {m.feasible:>5} of {size} configurations run "
            f"(p99 ≤ {settings.slo_p99_ms:g} ms, fits in memory); KOPs "
            + ", ".join(f"{op} {share:.0%}" for op, share in list(m.shares.items())[:3])
        )
    console.print(f"  done in {time.perf_counter() - started:.1f} s")
    return FalconDataset(root)


def _latency(
    kb: Knowledge, first: Table, profile: Mapping[str, float]
) -> dict[str, dict[str, float]]:
    console.print(
        "timing Falcon's suggestions over 0–30-trial histories, 30 % infeasible: "
        f"{first.space.size:,} candidates at n = 1 and n = 4, then {large_space().size:,} at n = 1 "
        "in a fresh "
        "process (peak memory)…"
    )
    return latency_suite(first.space, kb, profile=profile)


def _latency_only(
    args: argparse.Namespace, root: str, kb: Knowledge, first: Table, profile: Mapping[str, float]
) -> int:
    started = time.perf_counter()
    latency = _latency(kb, first, profile)
    meta = {
        "data": root,
        "sources": sorted(kb.sources),
        "profile_of": first.name,
        "wall_seconds": round(time.perf_counter() - started, 1),
    }
    paths = write_latency(args.out, latency, meta=meta)
    console.print(Path(paths["markdown"]).read_text())
    console.print(f"wrote {', '.join(str(p) for p in paths.values())}")
    return 0


def _raw_curves(args: argparse.Namespace, root: str, key: str) -> list[Curve]:
    """The curves before pruning of the dataset a knowledge key was built from."""
    folder = Path(root) / key.split("@")[-1] if args.mix else Path(root)
    return FalconDataset(folder).curves()


def bench(args: argparse.Namespace) -> int:
    args.methods = args.methods or list(VARIANTS if args.ablation else METHODS)
    if args.mix:
        plan = plan_mix(args, console)
        knowledge = plan.knowledge
        targets = [t for t, _, _ in plan.targets]
        profiles = {t.name: p for t, p, _ in plan.targets}
        kb = knowledge[plan.targets[0][2]]
        jobs = plan.jobs
        root = str(plan.meta["data"])
    else:
        ds = _fleet_dataset(args) if args.fleet else _dataset(args.data)
        kb = ds.knowledge(sources=args.sources)
        knowledge = {"": kb}
        if args.loo:  # every source in turn is the target; knowledge from the others
            targets = ds.tables("sources", args.sources)
            names = [t.name for t in targets]
            for name in names:
                knowledge[name] = ds.knowledge(sources=[n for n in names if n != name])
        else:
            targets = ds.tables("targets", args.targets, space=kb.space)
        profiles = {t.name: ds.profile(t.name) for t in targets}
        # the fleet's tables are scored at the catalog's prices; the paper's (rps/budget over
        # integer GPU codes) have no prices to give a curve prior
        objective = (
            fleet_objective(
                load_catalog(args.catalog), FleetBenchSettings(slo_p99_ms=args.slo_p99_ms)
            )
            if args.fleet
            else None
        )
        jobs = [
            Job(m, t, profiles[t.name], seed, max(args.trials), t.name if args.loo else "",
                objective, args.noise or 0.0)
            for m in args.methods
            for t in targets
            for seed in range(args.seeds)
        ]  # fmt: skip
        root = str(ds.root)
    if args.latency_only:  # the first target's space and profile, as after the runs
        return _latency_only(args, root, kb, targets[0], profiles[targets[0].name])
    trials = max(args.trials)
    # an ablation variant whose mechanism is offline (PCA) gets its own knowledge bases, built
    # from the curves of the job's dataset (a mix scenario's: knowledge key "[source@]scenario")
    jobs = variant_knowledge(jobs, knowledge, lambda key: _raw_curves(args, root, key))
    if args.common_streams:
        jobs = common_streams(jobs)
    for m in args.methods:
        make_bench_strategy(m, targets[0].space, kb)  # fail fast on an unknown method
    origin = "the other sources (leave one out)" if args.loo else f"{len(kb.sources)} sources"
    console.print(
        f"{len(args.methods)} methods × {len(targets)} targets × {args.seeds} seeds, "
        f"{trials} trials each; knowledge from {origin}"
    )
    started = time.perf_counter()
    with Steps(console, "runs", len(jobs), unit="runs", plain_every=0.05) as bar:

        def done(res: JobResult) -> None:
            bar.advance(description=f"{res.run.method} / {res.run.target}")

        results = run_jobs(jobs, knowledge, workers=args.workers, on_done=done)
    runs = [r.run for r in results]
    latency: dict[str, dict[str, float]] = {}
    if not (args.no_latency or args.ablation):
        latency = _latency(kb, targets[0], profiles[targets[0].name])
    meta: dict[str, object] = {
        "data": root,
        "sources": sorted(kb.sources),
        "targets": [t.name for t in targets],
        "seeds": args.seeds,
        "methods": args.methods,
        "wall_seconds": round(time.perf_counter() - started, 1),
        "protocol": "validation: leave-one-source-out" if args.loo else "held-out targets",
    }
    if args.ablation:
        meta["ablation"] = ablation_meta()
        meta["streams"] = "falcon's (common random numbers)" if args.common_streams else "own"
    if args.mix:
        meta.update(plan.meta)
    if args.fleet:
        meta["fleet"] = {"slo_p99_ms": args.slo_p99_ms, "catalog": str(args.catalog or "shipped")}
    paths = write_report(args.out, runs, args.trials, latency, meta=meta)
    console.print(Path(paths["markdown"]).read_text())
    console.print(f"wrote {', '.join(str(p) for p in paths.values())}")
    return 0
