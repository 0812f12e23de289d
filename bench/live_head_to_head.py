"""``make bench-live``: Falcon's live search against Triton Model Analyzer on real Triton here.

For every model (3 ONNX models neither side has profiled: a VGG-style CNN, a ViT-style patch
transformer, a wide-and-deep recommender), under one p99 SLO:

1. Falcon, random and Optuna TPE search the *common* space (the knobs Model Analyzer searches:
   instances, max batch size, concurrency; every core, one onnxruntime thread, no queue delay)
   with real trials, ``--trials`` each; Falcon also searches our *full* live space;
2. Model Analyzer 1.58 profiles the same model in quick and in brute mode over the same ranges,
   against a Triton our harness starts (remote launch mode);
3. a referee (``falcon-trial``, a fresh server each time) re-measures every method's
   recommendation ``--repeats`` times.

Every run is saved as ``OUT/<model>/<method>-<space>.json`` the moment it ends, and a run
already saved is not measured again: an interrupted benchmark resumes. The report
(``OUT/results.md``, docs/live.md explains it) is rewritten from the saved runs at the end.

Usage: ``python bench/live_head_to_head.py [--models vgg-plain,vit-patch,wide-deep-l]
[--trials 15] [--slo-p99-ms 50] [--repeats 3] [--out bench/results/live]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import onnx

from falcon_operator.analysis.profile import analyze
from falcon_operator.core.errors import FalconError
from falcon_operator.fleet.models import TARGETS, wide_and_deep
from falcon_operator.knowledge.base import Knowledge, KnowledgeSettings
from falcon_operator.live.bench import common_space_settings, referee, search_run
from falcon_operator.live.headtohead import report
from falcon_operator.live.knowledge import cached_knowledge
from falcon_operator.live.profiling import ProfileCache
from falcon_operator.live.runs import MethodRun, Step, load, load_all, save
from falcon_operator.live.space import LiveSpaceSettings, host_cores, live_space
from falcon_operator.live.trial import LiveTrialSettings

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "operator/falcon_operator/data/models"
#: models built here: a wide-and-deep recommender 6.5 ms per request on one core (the fleet's
#: ``wide-deep`` takes 0.3 ms, so fast that the Python load generator, not Triton, would be the
#: bottleneck on 2 cores: docs/live.md)
BUILT = {"wide-deep-l": lambda: wide_and_deep(fields=128, embed=128)}
SEARCHES = (("falcon", "common"), ("random", "common"), ("optuna-tpe", "common"),
            ("falcon", "full"))  # fmt: skip


def model_path(name: str, folder: Path) -> Path:
    """A shipped model, or a fleet target built into ``folder``."""
    if (SHIPPED / f"{name}.onnx").is_file():
        return SHIPPED / f"{name}.onnx"
    builders = {**TARGETS, **BUILT}
    if name not in builders:
        raise FalconError(f"unknown model {name!r}: shipped ones or {sorted(builders)}")
    path = folder / f"{name}.onnx"
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        onnx.save(builders[name](), str(path))
    return path


def _say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def our_searches(name: str, path: Path, args: argparse.Namespace, out: Path) -> None:
    cores = len(host_cores())
    spaces = {"common": live_space(common_space_settings(cores=cores)),
              "full": live_space(LiveSpaceSettings())}  # fmt: skip
    profile = analyze(path).shares()
    cache = ProfileCache(LiveTrialSettings())
    for method, space_name in args.searches:
        target = out / name / f"{method}-{space_name}.json"
        if target.is_file():
            continue
        space = spaces[space_name]
        kb = cached_knowledge(space, cache, slo_p99_ms=args.slo_p99_ms)
        if kb is None:
            raise FalconError("no live knowledge on this host: run falcon kb build --live first")
        if method != "falcon":
            kb = Knowledge(KnowledgeSettings())  # the cold baselines use no sources anyway
        _say(f"{name}: {method} on the {space_name} space ({space.size} configurations)")

        def told(n: int, config: object, record: object) -> None:
            _say(f"  {n:2d} {config} -> {getattr(record, 'objective', None)} "
                 f"{getattr(record, 'reason', '')[:80]}")  # fmt: skip

        run = search_run(path, name=name, method=method, space=space, space_name=space_name,
                         knowledge=kb, profile=profile, trials=args.trials,
                         slo_p99_ms=args.slo_p99_ms, seed=args.seed, on_trial=told)  # fmt: skip
        save(run, target)


def analyzer_runs(name: str, path: Path, args: argparse.Namespace, out: Path) -> None:
    from falcon_operator.live.analyzer import run_model_analyzer

    cores = host_cores()
    common = common_space_settings(cores=len(cores))
    for mode in args.analyzer_modes:
        target = out / name / f"analyzer-{mode}-common.json"
        if target.is_file():
            continue
        _say(f"{name}: Model Analyzer, {mode} mode")
        ran = run_model_analyzer(
            path, mode=mode, slo_p99_ms=args.slo_p99_ms, instances=common.instances,
            batch_sizes=common.batch_sizes, concurrencies=common.concurrency, cores=cores,
            work_dir=out / name / f"analyzer-{mode}", log=_say,
        )  # fmt: skip
        steps = tuple(
            Step(dict(m.config), m.throughput / len(cores) if m.p99_ms <= args.slo_p99_ms else None,
                 m.throughput, m.p99_ms, "" if m.p99_ms <= args.slo_p99_ms else "breaks the SLO")
            for m in ran.measurements
        )  # fmt: skip
        save(MethodRun(name, f"analyzer-{mode}", "common", steps, ran.wall_s, "perf_analyzer"),
             target)  # fmt: skip


def referees(name: str, path: Path, args: argparse.Namespace, out: Path) -> None:
    for target in sorted((out / name).glob("*.json")):
        run = load(target)
        if run.referee or run.best is None:
            continue
        _say(f"{name}: referee, {args.repeats} × {run.method}'s {dict(run.best.config)}")
        values = referee(path, run.best.config, repeats=args.repeats, cores=len(host_cores()))
        save(dataclasses.replace(run, referee=values), target)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench/live_head_to_head.py", description=__doc__)
    p.add_argument("--models", default="vgg-plain,vit-patch,wide-deep-l")
    p.add_argument("--trials", type=int, default=15)
    p.add_argument("--slo-p99-ms", type=float, default=50.0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--analyzer-modes", default="quick,brute")
    p.add_argument(
        "--searches",
        default=",".join(f"{m}:{s}" for m, s in SEARCHES),
        help="our searches, METHOD:SPACE (space common or full)",
    )
    p.add_argument("--skip", default="", help="phases to skip: ours,analyzer,referee")
    p.add_argument("--out", type=Path, default=ROOT / "bench/results/live")
    args = p.parse_args(argv)
    args.analyzer_modes = [m for m in args.analyzer_modes.split(",") if m]
    args.out = args.out.resolve()
    args.searches = [tuple(x.split(":", 1)) for x in args.searches.split(",") if x]
    skip = set(args.skip.split(","))
    started = time.perf_counter()
    try:
        for name in args.models.split(","):
            path = model_path(name, args.out / "models")
            if "ours" not in skip:
                our_searches(name, path, args, args.out)
            if "analyzer" not in skip:
                analyzer_runs(name, path, args, args.out)
            if "referee" not in skip:
                referees(name, path, args, args.out)
    except FalconError as exc:
        print(f"bench-live: error: {exc}", file=sys.stderr)
        return 2
    runs: list[MethodRun] = load_all(args.out)
    took = time.perf_counter() - started
    header = (
        f"# make bench-live\n\n{len(host_cores())} cores; {args.trials} trials per search; "
        f"referee {args.repeats} repeats; this run {took:.0f} s.\n"
    )
    (args.out / "results.md").write_text(report(runs, slo_p99_ms=args.slo_p99_ms, header=header))
    print((args.out / "results.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
