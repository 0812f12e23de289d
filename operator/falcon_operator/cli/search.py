"""``falcon search MODEL.onnx``: the main job on the embedded default (the simulated fleet).

Analyses the model, builds the search space over the catalog's GPUs and MIG slices, CPU cores,
GPU memory limits, batch sizes and power caps, runs the chosen strategy against the simulated
fleet (one line per trial), prints the recommendation and writes the Deployment manifest.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from falcon_operator.cli import args as argtypes
from falcon_operator.cli.help import SubParsers, add_command
from falcon_operator.cli.live_args import add_space_args
from falcon_operator.search.methods import METHODS

if TYPE_CHECKING:  # the search's own imports wait until it runs (fast --help)
    from falcon_operator.core.catalog import Catalog
    from falcon_operator.core.objective import Objective
    from falcon_operator.core.records import TrialRecord
    from falcon_operator.recommend.source import ModelSource

#: soft wrap: rich never breaks a line, in a pipe (80 columns to rich) or on a terminal
console = Console(soft_wrap=True)


def add_parser(subparsers: SubParsers[argparse.ArgumentParser]) -> None:
    """Register ``search`` on the ``falcon`` sub-command parsers."""
    s = add_command(
        subparsers,
        "search",
        "find a serving configuration for an ONNX model",
        "Analyse MODEL.onnx, build the search space over the catalog's GPUs and MIG slices,\n"
        "CPU cores, GPU memory limits, batch sizes and power caps, run the strategy against\n"
        "the simulated GPU fleet (one line per trial), print the recommendation and write the\n"
        "Deployment that serves the model (with its model source) to --output.",
    )
    s.add_argument("model", type=Path, metavar="MODEL.onnx", help="the ONNX model file")
    s.add_argument(
        "--slo-p99-ms",
        type=argtypes.positive_float,
        default=None,
        help="p99 latency objective in ms (default: none)",
    )
    s.add_argument(
        "--metric",
        choices=("RequestsPerSecondPerDollar", "CostAtTargetThroughput"),
        default="RequestsPerSecondPerDollar",
        help="what to maximise: requests/s per $/h, or the cheapest replicas serving "
        "--target-rps under the SLO (as spec.objective.metric; docs/prices.md)",
    )
    s.add_argument(
        "--target-rps",
        type=argtypes.positive_float,
        default=None,
        metavar="RPS",
        help="requests/s the recommended replicas must serve together; required by (and only "
        "by) --metric CostAtTargetThroughput",
    )
    s.add_argument("--trials", type=argtypes.positive, default=12, help="trial budget")
    s.add_argument(
        "--live",
        action="store_true",
        help="real trials on this host: a real Triton per configuration, measured by "
        "falcon-trial, for throughput per CPU core under --slo-p99-ms (docs/live.md)",
    )
    s.add_argument(
        "--gpus",
        type=argtypes.csv,
        default=None,
        help="GPU types to consider, e.g. T4,V100,A100 (default: the whole catalog)",
    )
    s.add_argument("--no-mig", action="store_true", help="whole GPUs only, no MIG slices")
    s.add_argument(
        "--catalog",
        type=Path,
        default=None,
        help="GPU and price catalog (TOML; default: the shipped one)",
    )
    s.add_argument(
        "--method",
        choices=METHODS,
        default="falcon",
        metavar="METHOD",
        help=f"search strategy, one of {', '.join(METHODS)}",
    )
    s.add_argument(
        "--knowledge",
        choices=("fleet", "paper"),
        default="fleet",
        help="fleet: source models profiled on the simulated fleet (built once, then cached); "
        "paper: the Falcon paper's KOP curves only",
    )
    s.add_argument("--seed", type=int, default=0, help="search and measurement-noise seed")
    s.add_argument("--name", default=None, help="Deployment name (default: the model's name)")
    s.add_argument("--namespace", default="default", help="the Deployment's namespace")
    s.add_argument(
        "--output",
        type=Path,
        default=Path("falcon-recommendation.yaml"),
        metavar="FILE",
        help="where to write the manifests",
    )
    s.add_argument(
        "--report",
        type=Path,
        metavar="DIR",
        default=None,
        help="also write the search's report into DIR: index.html with PNG plots "
        "(default: no report)",
    )
    s.add_argument(
        "--model-uri",
        metavar="URI",
        default=None,
        help="where the Deployment fetches the model: s3://, gs://, https:// or "
        "pvc://CLAIM/PATH (default: a ConfigMap written into --output, see --model-configmap)",
    )
    s.add_argument(
        "--model-configmap",
        metavar="NAME[:KEY]",
        default=None,
        help="a ConfigMap you create with the model file under KEY (model.onnx if not given); "
        "without this and --model-uri, a ConfigMap <name>-onnx holding the model is written "
        "into --output (models up to 1 MiB)",
    )
    s.add_argument(
        "--model-secret",
        metavar="SECRET",
        default=None,
        help="Secret with the credentials the --model-uri download needs (default: none)",
    )
    s.add_argument(
        "--triton-image",
        metavar="IMAGE",
        default=None,
        help="the Triton Inference Server image of the Deployment, e.g. your registry's mirror "
        "(default: the same as an InferenceConfigSearch's spec.model.tritonImage)",
    )
    add_space_args(s)


def _describe(record: TrialRecord, objective: Objective) -> str:
    if record.ok and record.objective is not None:
        m = record.metrics
        score = objective.describe(record.objective, rps=m["rps"])
        return f"{m['rps']:8.1f} rps  p99 {m['p99_ms']:7.1f} ms  ${m['cost_per_hour']:.3f}/h  " + (
            f"{score:>14}" if objective.unit == "rps/$" else score
        )
    return f"{record.outcome.value}: {record.reason}"


def _write(args: argparse.Namespace, best: TrialRecord, catalog: Catalog, name: str,
           source: ModelSource, objective: Objective | None, *,
           node_selector: dict[str, str] | None = None) -> None:  # fmt: skip
    """Write the Deployment that serves the model (the operator's builder) and say how to apply;
    with a throughput target it has the replicas that serve the target. ``node_selector``
    replaces the GPU type's (``{}``: a CPU Deployment, as a live search recommends)."""
    from falcon_operator.recommend.deployment import DeploymentOptions, to_yaml
    from falcon_operator.recommend.serving import recommendation_manifests

    rps = best.metrics.get("rps", 0.0)
    replicas = 1 if objective is None else objective.deployment_replicas(rps, otherwise=1)
    options = DeploymentOptions(
        name=name, namespace=args.namespace, replicas=replicas, node_selector=node_selector
    )
    model = source.model
    if args.triton_image:
        model = dataclasses.replace(model, triton_image=args.triton_image)
    manifests = recommendation_manifests(
        best.config, catalog, model, options, objective=best.objective
    )
    if source.configmap is not None:
        manifests.insert(0, source.configmap)
    header = (
        f"# falcon search {args.model.name}: {dict(best.config)}\n"
        f"# apply: kubectl apply --server-side -f {args.output}\n"
        + (f"# model: {source.todo}\n" if source.todo else "")
    )
    args.output.write_text(header + to_yaml(manifests))


def write_recommendation(
    args: argparse.Namespace, best: TrialRecord, model_name: str, *, node_selector: dict[str, str]
) -> None:
    """Write the recommendation of a search without a GPU catalog objective (``--live``)."""
    from falcon_operator.core.catalog import load_catalog
    from falcon_operator.recommend.source import k8s_name, model_source

    name = args.name or k8s_name(model_name)
    source = model_source(args.model, model_name, name=name, namespace=args.namespace,
                          uri=args.model_uri, configmap=args.model_configmap,
                          secret=args.model_secret)  # fmt: skip
    _write(args, best, load_catalog(None), name, source, None, node_selector=node_selector)


def run(args: argparse.Namespace) -> int:
    """Search the simulated fleet (or, with ``--live``, this host) for ``args.model`` and write
    the recommendation."""
    if args.live:
        from falcon_operator.cli.live import search

        return search(args)
    from falcon_operator.cli.trials import run_trials
    from falcon_operator.core.catalog import load_catalog
    from falcon_operator.core.errors import SpecError
    from falcon_operator.core.objective import Objective
    from falcon_operator.core.records import best_trial
    from falcon_operator.fleet.backend import FleetBackend, fleet_space
    from falcon_operator.fleet.knowledge import cached_fleet_knowledge
    from falcon_operator.fleet.performance import FleetModel
    from falcon_operator.fleet.workload import workload_from_onnx
    from falcon_operator.knowledge.dataset import FalconDataset, default_data_dir
    from falcon_operator.recommend.source import k8s_name, model_source
    from falcon_operator.search.registry import make_strategy

    if (args.metric == "CostAtTargetThroughput") != (args.target_rps is not None):
        raise SpecError("--target-rps is required by, and only by, --metric CostAtTargetThroughput")
    catalog = load_catalog(args.catalog)
    objective = Objective.of(
        catalog, metric=args.metric, slo_p99_ms=args.slo_p99_ms, target_rps=args.target_rps
    )
    workload, profile = workload_from_onnx(args.model)
    name = args.name or k8s_name(profile.model)
    source = model_source(
        args.model,
        profile.model,
        name=name,
        namespace=args.namespace,
        uri=args.model_uri,
        configmap=args.model_configmap,
        secret=args.model_secret,
    )
    space = fleet_space(catalog, gpus=args.gpus, mig=not args.no_mig)
    backend = FleetBackend(workload, FleetModel(catalog), objective=objective, seed=args.seed)
    if args.knowledge == "paper":
        kb = FalconDataset(default_data_dir()).knowledge()
    else:
        with console.status("profiling the source models on the simulated fleet…"):
            started = time.perf_counter()
            kb, cached = cached_fleet_knowledge(backend.model, space, objective=objective)
        console.print(
            f"knowledge: {len(kb.sources)} source models profiled on the fleet, "
            f"{len(kb.curves)} KOP curves "
            + ("(cached)" if cached else f"(built in {time.perf_counter() - started:.1f} s)")
        )
    strategy = make_strategy(
        args.method,
        space,
        kb,
        profile=profile.shares(),
        seed=args.seed,
        objective=objective,
    )
    console.print(
        f"[bold]{profile.model}[/bold]: KOPs {', '.join(profile.kops)}; "
        f"{space.size} configurations; {args.method}, {args.trials} trials"
        + (f", p99 SLO {args.slo_p99_ms:g} ms" if args.slo_p99_ms else "")
        + (f", target {args.target_rps:g} rps" if args.target_rps else "")
    )
    for op, known in profile.unseen.items():
        console.print(f"  unseen operator {op!r}: counted as {known!r}")
    history = run_trials(strategy, backend.run, space, args.trials, console, objective=objective)
    from falcon_operator.cli.report import falcon_for, offline
    from falcon_operator.report.messages import no_success

    page, why = offline(
        args.report,
        f"falcon search {args.model.name}",
        history,
        falcon=falcon_for(strategy, space, kb, profile=profile.shares(), seed=args.seed),
        space=space,
        slo_p99_ms=args.slo_p99_ms,
        details={"method": f"{args.method}, seed {args.seed}", "budget": f"{args.trials} trials"},
        goal=objective,
    )
    if page is not None:
        console.print(f"report: {page}")
    best = best_trial(history)
    if best is None:
        console.print(
            f"[red]{no_success(history, slo_p99_ms=args.slo_p99_ms)}[/red]\n"
            "widen the space, relax the SLO or add trials"
        )
        return 1
    _write(args, best, catalog, name, source, objective)
    failed = sum(not t.ok for t in history)
    console.print(
        f"[bold green]recommendation[/bold green]: {dict(best.config)}\n"
        f"  {_describe(best, objective)}; "
        f"{failed} of {len(history)} trials failed or were infeasible\n"
        f"  wrote {args.output}: apply with kubectl apply --server-side -f {args.output}"
        + (f"\n  model: {source.todo}" if source.todo else "")
        + (f"\n  why: {why}" if why else "")
    )
    return 0
