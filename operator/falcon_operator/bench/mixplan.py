"""The searches of ``falcon bench --mix`` and ``make paper-eval``: generate the mix world
(bench/mixworld.py) and plan its searches.

One Falcon-layout directory per scenario under ``--data`` (else ``OUT/data``); each scenario's
knowledge comes from the sources profiled under that scenario's objective. Held out: every
target is searched in its own scenario. With ``--loo`` (the validation protocol) every source
in turn is the target in every scenario, its knowledge from the other sources of that scenario;
such a target is named ``<source>@<scenario>``. Every search measures with the mix world's
noise (``--noise``, docs/mix-world.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.console import Console

from falcon_operator.bench.mixworld import SCENARIOS, MixSettings, mix_space, write_mix_dataset
from falcon_operator.bench.runner import Job
from falcon_operator.core.catalog import load_catalog
from falcon_operator.knowledge.base import Knowledge, build_knowledge
from falcon_operator.knowledge.dataset import FalconDataset
from falcon_operator.knowledge.tables import Table

#: log-normal sigma of a measurement (docs/mix-world.md: where the figure comes from)
MIX_NOISE_SIGMA = 0.03


@dataclass(frozen=True)
class MixPlan:
    """What ``falcon bench`` runs on the mix world."""

    jobs: list[Job]
    knowledge: dict[str, Knowledge]
    targets: list[tuple[Table, dict[str, float], str]]  #: table, profile, knowledge key
    meta: dict[str, object]


def scenario_knowledge(ds: FalconDataset, tables: Sequence[Table]) -> Knowledge:
    """Knowledge from the scenario's source ``tables`` (read once, in the world's space)."""
    profiles = {t.name: p for t in tables if (p := ds.profile(t.name))}
    return build_knowledge(curves=ds.curves(), sources=tables, profiles=profiles)


def profile_distance(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """L1 distance of two operator profiles (time shares; at most 2)."""
    return sum(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in set(a) | set(b))


def far_sources(
    ds: FalconDataset, tables: Sequence[Table], target: Table, distance: float
) -> list[Table]:
    """The sources other than ``target`` whose profile is at least ``distance`` (L1) from its."""
    mine = ds.profile(target.name)
    return [
        o
        for o in tables
        if o is not target and profile_distance(ds.profile(o.name), mine) >= distance
    ]


def plan_mix(args: argparse.Namespace, console: Console) -> MixPlan:
    root = (args.data or args.out / "data").resolve()
    catalog = load_catalog(args.catalog)
    console.print(f"generating the mix world in {root} …")
    started = time.perf_counter()
    settings = MixSettings()
    space = mix_space(catalog)
    written = write_mix_dataset(root, catalog, settings=settings, space=space)
    for name, entries in written.items():
        held = [e.model.name for e in entries if e.scenario]
        console.print(f"  {name}: {len(entries) - len(held)} sources, targets {', '.join(held)}")
    console.print(f"  done in {time.perf_counter() - started:.1f} s")
    noise = MIX_NOISE_SIGMA if args.noise is None else args.noise
    knowledge: dict[str, Knowledge] = {}
    targets: list[tuple[Table, dict[str, float], str]] = []
    jobs: list[Job] = []
    for scenario in SCENARIOS:
        ds = FalconDataset(root / scenario.name)
        tables = ds.tables("sources", args.sources, space=space)
        knowledge[scenario.name] = scenario_knowledge(ds, tables)
        objective = scenario.objective(catalog)
        mine: list[tuple[Table, dict[str, float], str]] = []
        if args.loo:
            for t in tables:
                key = f"{t.name}@{scenario.name}"
                kept = far_sources(ds, tables, t, args.loo_distance)
                knowledge[key] = scenario_knowledge(ds, kept)
                mine.append((dataclasses.replace(t, name=key), ds.profile(t.name), key))
        else:
            for t in ds.tables("targets", None, space=space):
                if args.targets is None or t.name in args.targets:
                    mine.append((t, ds.profile(t.name), scenario.name))
        for t, profile, key in mine:
            jobs.extend(
                Job(m, t, profile, seed, max(args.trials), key, objective, noise)
                for m in args.methods
                for seed in range(args.seeds)
            )
        targets.extend(mine)
    meta: dict[str, object] = {
        "data": str(root),
        "mix": {
            "settings": dataclasses.asdict(settings),
            "noise_sigma": noise,
            "catalog": str(args.catalog or "shipped"),
            "loo_distance": args.loo_distance if args.loo else None,
            "scenarios": {s.name: {"slo_p99_ms": s.slo_p99_ms, "spot": s.spot} for s in SCENARIOS},
        },
    }
    return MixPlan(jobs, knowledge, targets, meta)
