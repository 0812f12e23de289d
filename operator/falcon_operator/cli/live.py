"""``falcon search MODEL.onnx --live`` and ``falcon kb build --live``: real trials on this host.

A live search runs the same ask/tell driver and prints the same trial lines as the simulated
one, but every trial is a real Triton on this machine measured by ``falcon-trial``
(falcon_operator/live). Its knowledge base is the source models profiled live on this host
(``falcon kb build --live``, cached); without one, the search starts from no sources and says so.
"""

from __future__ import annotations

import argparse
import time

from rich.console import Console

from falcon_operator.cli.live_args import space_settings
from falcon_operator.cli.progress import Steps
from falcon_operator.core.errors import SpecError
from falcon_operator.core.space import Config, Space
from falcon_operator.knowledge.base import Knowledge, KnowledgeSettings
from falcon_operator.live.judge import UNIT
from falcon_operator.live.profiling import Measured, ProfileCache, profile_sources
from falcon_operator.live.space import host_cores, live_space
from falcon_operator.live.trial import LiveTrialSettings

console = Console(soft_wrap=True)


def _space(args: argparse.Namespace) -> Space:
    space = live_space(space_settings(args))
    console.print(
        f"live space on this host ({len(host_cores())} cores): "
        + "; ".join(f"{k.name} {','.join(str(v) for v in k.values)}" for k in space.knobs)
        + f" = {space.size} configurations"
    )
    return space


def kb_build(args: argparse.Namespace) -> int:
    """Profile the source models live (resuming from the cache) and say what was measured."""
    space = _space(args)
    sources = list(args.live_sources)
    started = time.perf_counter()
    fresh = 0
    with Steps(console, "profiling sources live", len(sources) * min(args.samples, space.size),
               unit="trials") as steps:  # fmt: skip

        def told(source: str, config: Config, m: Measured, cached: bool) -> None:
            nonlocal fresh
            fresh += not cached
            what = f"{m.rps:8.1f} rps  p99 {m.p99_ms:7.1f} ms" if m.ok else f"failed: {m.reason}"
            steps.print(f"{source:10} {dict(config)}  {what}" + ("  (cached)" if cached else ""),
                        highlight=False)  # fmt: skip
            steps.advance()

        measured = profile_sources(space, sources=sources, samples=args.samples, seed=args.seed,
                                   on_trial=told)  # fmt: skip
    elapsed = time.perf_counter() - started
    for name, rows in measured.items():
        console.print(f"{name}: {sum(m.ok for m in rows)} of {len(rows)} configurations ran")
    console.print(
        f"profiled {len(measured)} sources live: {fresh} new measurements in {elapsed:.0f} s "
        f"(cache {ProfileCache(LiveTrialSettings()).folder})"
    )
    if args.out is not None:
        from falcon_operator.live.knowledge import live_knowledge

        settings = KnowledgeSettings(kop_threshold=args.kop_threshold)
        cache = ProfileCache(LiveTrialSettings())
        kb = live_knowledge(
            space, measured, cache=cache, slo_p99_ms=args.slo_p99_ms, settings=settings
        )
        kb.save(args.out)
        console.print(f"wrote [bold]{args.out}[/bold]")
    return 0


def search(args: argparse.Namespace) -> int:
    """Search ``args.model`` with real trials on this host and write the recommendation."""
    from falcon_operator.analysis.profile import analyze
    from falcon_operator.cli.search import write_recommendation
    from falcon_operator.cli.trials import run_trials
    from falcon_operator.core.records import best_trial
    from falcon_operator.live.judge import LiveObjective
    from falcon_operator.live.knowledge import cached_knowledge
    from falcon_operator.live.trial import LiveBackend
    from falcon_operator.search.registry import make_strategy

    if args.metric != "RequestsPerSecondPerDollar" or args.gpus or args.catalog:
        raise SpecError(
            "--live searches this host's CPU for throughput per core: --metric, --gpus and "
            "--catalog do not apply"
        )
    space = _space(args)
    profile = analyze(args.model)
    with console.status("fitting the live knowledge base…"):
        kb = cached_knowledge(space, ProfileCache(LiveTrialSettings()), slo_p99_ms=args.slo_p99_ms)
    if kb is None:
        console.print("[yellow]no live knowledge on this host[/yellow]: the search starts from "
                      "no source models (run falcon kb build --live first)")  # fmt: skip
        kb = Knowledge(KnowledgeSettings())
    else:
        console.print(f"knowledge: {len(kb.sources)} source models profiled live on this host")
    objective = LiveObjective(slo_p99_ms=args.slo_p99_ms)
    backend = LiveBackend(args.model, objective=objective)
    strategy = make_strategy(args.method, space, kb, profile=profile.shares(), seed=args.seed)
    console.print(
        f"[bold]{profile.model}[/bold]: KOPs {', '.join(profile.kops)}; {args.method}, "
        f"{args.trials} live trials (a real Triton each)"
        + (f", p99 SLO {args.slo_p99_ms:g} ms" if args.slo_p99_ms else "")
    )
    started = time.perf_counter()
    history = run_trials(strategy, backend.run, space, args.trials, console, unit=UNIT)
    best = best_trial(history)
    if best is None:
        console.print("[red]no live trial met the SLO[/red]: relax the SLO, widen the space "
                      "or add trials")  # fmt: skip
        return 1
    write_recommendation(args, best, profile.model, node_selector={})
    m = best.metrics
    console.print(
        f"[bold green]recommendation[/bold green]: {dict(best.config)}\n"
        f"  {m['rps']:.1f} rps on {m['cores']:g} cores, p99 {m['p99_ms']:.1f} ms: "
        f"{best.objective:.1f} {UNIT}; {sum(not t.ok for t in history)} of {len(history)} "
        f"trials failed; {time.perf_counter() - started:.0f} s of live trials\n"
        f"  wrote {args.output}: apply with kubectl apply --server-side -f {args.output}"
    )
    return 0
