"""``falcon``: the command line of the Falcon operator (offline search, operator, benchmarks).

Building the parser imports no sub-command's machinery (scikit-learn, kubernetes, kopf, onnx):
each command imports its modules when it runs, so ``falcon --help`` answers at once. Every
deliberate error (bad file, bad option value) ends as one line on stderr and exit code 2;
never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from falcon_operator import __version__
from falcon_operator.cli import args as argtypes
from falcon_operator.cli.help import HelpFormatter, add_command, default_text
from falcon_operator.core.errors import FalconError
from falcon_operator.search.methods import METHODS

DESCRIPTION = """\
Find a near-optimal serving configuration (GPU type or MIG slice, CPU cores, GPU memory,
batch size, power cap) for a deep-learning model in a handful of trials: Falcon (SoCC'22),
MCTS and Bayesian optimisation guided by a knowledge base of operator resource curves.

  offline    analyze MODEL.onnx, then search MODEL.onnx on the simulated GPU fleet
  cluster    operator run: the InferenceConfigSearch controller; export / report SEARCH
  research   kb build, replay, bench, paper-eval, calibrate: the knowledge base and the
             benchmarks"""

#: sub-command -> (module in falcon_operator.cli, function): imported only when it runs
HANDLERS = {
    "kb": ("commands", "kb_build"),
    "replay": ("commands", "replay"),
    "bench": ("commands", "bench"),
    "analyze": ("analyze", "run"),
    "search": ("search", "run"),
    "calibrate": ("calibrate", "run"),
    "operator": ("operator", "run"),
    "export": ("export", "run"),
    "report": ("report", "run"),
    "paper-eval": ("paper_eval", "run"),
}


def _csv_ints(text: str) -> list[int]:
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from exc
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def _add_dataset_args(parser: argparse.ArgumentParser, *, sources: bool = True) -> None:
    """``--data`` (and ``--sources``): which Falcon-layout directory, which source tables."""
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="Falcon-layout dataset directory (default: the shipped Falcon data)",
    )
    if sources:
        parser.add_argument(
            "--sources",
            type=argtypes.csv,
            default=None,
            help="comma-separated source model names (default: all)",
        )


def build_parser() -> argparse.ArgumentParser:
    from falcon_operator.cli import (
        analyze,
        calibrate,
        export,
        live_args,
        operator,
        paper_eval,
        report,
        search,
    )

    p = argparse.ArgumentParser(
        prog="falcon",
        description=DESCRIPTION,
        epilog="'falcon COMMAND --help' describes a command and its options.",
        formatter_class=HelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"falcon {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    kb = add_command(
        sub,
        "kb",
        "knowledge base commands",
        "The offline knowledge base: key operators (KOPs), their resource curves and the\n"
        "source tables the search's prior is built from.",
    ).add_subparsers(dest="kb_command", required=True, metavar="KB_COMMAND")
    b = add_command(
        kb,
        "build",
        "build a knowledge base from a Falcon-layout directory",
        "Read the source tables and operator curves of a Falcon-layout directory, classify and\n"
        "prune the curves, print the ones kept and write the knowledge base (.kb.json.gz).",
    )
    _add_dataset_args(b)
    b.add_argument(
        "--kop-threshold",
        type=argtypes.fraction,
        default=0.8,
        help="cumulative running-time share the key operators cover",
    )
    b.add_argument(
        "--pca-cutoff",
        type=argtypes.fraction,
        default=None,
        help="prune redundant curves by PCA, keeping this share of explained variance (e.g. "
        "0.99; default: no pruning, it changed no measured accuracy, docs/algorithm.md)",
    )
    b.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where to write the .kb.json.gz (required without --live)",
    )
    b.add_argument(
        "--live",
        action="store_true",
        help="profile the source models with real trials on this host (a real Triton "
        "each; cached under $FALCON_CACHE/live, resumed when interrupted; docs/live.md)",
    )
    b.add_argument(
        "--seed", type=int, default=0, help="seed of the sampled configurations (--live)"
    )
    b.add_argument(
        "--slo-p99-ms",
        type=argtypes.positive_float,
        default=None,
        help="p99 SLO the written knowledge base's tables hold to (--live --out)",
    )
    live_args.add_space_args(b)
    live_args.add_profile_args(b)

    r = add_command(
        sub,
        "replay",
        "run a search against a recorded table (make demo-replay)",
        "Run a strategy against a recorded table of measurements (the paper's data): every\n"
        "trial is a table lookup, so the search is reproducible; prints the trials and how\n"
        "close the recommendation is to the table's best.",
    )
    _add_dataset_args(r, sources=False)
    r.add_argument(
        "--target", default=None, help="target table name in DATA/models/targets (or --table)"
    )
    r.add_argument(
        "--table", type=Path, default=None, help="or any table file in the Falcon layout"
    )
    r.add_argument(
        "--knowledge",
        type=Path,
        default=None,
        help="a built knowledge base (default: built from DATA's sources)",
    )
    r.add_argument(
        "--method",
        choices=METHODS,
        default="falcon",
        metavar="METHOD",
        help=f"search strategy, one of {', '.join(METHODS)}",
    )
    r.add_argument("--trials", type=argtypes.positive, default=15, help="trial budget")
    r.add_argument("--seed", type=int, default=0, help="the strategy's random seed")
    r.add_argument(
        "--stop-early",
        action="store_true",
        help="stop before --trials when the strategy sees no worthwhile improvement left",
    )

    bn = add_command(
        sub,
        "bench",
        "compare strategies on target tables",
        "Run every method on every target table for many seeds (in parallel processes), then\n"
        "write a report (Markdown, JSON, plots) of the objective each reaches after the given\n"
        "numbers of trials, and of the time a suggestion takes.",
    )
    _add_dataset_args(bn)
    bn.add_argument(
        "--targets", type=argtypes.csv, default=None, help="target names (default: all)"
    )
    bn.add_argument("--trials", type=_csv_ints, default=[6, 15, 30], help="trial-count checkpoints")
    bn.add_argument(
        "--seeds",
        type=argtypes.positive,
        default=20,
        help="seeds per (method, target); each (method, target, seed) draws its own random "
        "stream (docs/benchmark.md)",
    )
    bn.add_argument(
        "--methods",
        type=argtypes.csv,
        default=None,
        help=f"comma-separated, from {default_text(METHODS)} or the ablation variants "
        "(default: all methods; with --ablation: all variants)",
    )
    bn.add_argument(
        "--ablation",
        action="store_true",
        help="Falcon with each mechanism switched off, or on where it is off by default "
        "(falcon-no-kfeatures, falcon-tree, …; bench/ablation.py), paired with default Falcon; "
        "no latency measurement",
    )
    bn.add_argument(
        "--common-streams",
        action="store_true",
        help="ablation variants draw Falcon's random stream on the same target and seed (the "
        "same measurement noise), so a paired difference is the mechanism's alone",
    )
    bn.add_argument(
        "--workers", type=argtypes.positive, default=None, help="processes (default: CPUs)"
    )
    bn.add_argument(
        "--loo",
        action="store_true",
        help="leave-one-source-out: each source is the target, knowledge from the rest",
    )
    bn.add_argument(
        "--loo-distance",
        type=float,
        default=0.0,
        help="with --mix --loo: also leave out of the knowledge every source whose operator "
        "profile is within this L1 distance of the target's (leave-near-out: a validation "
        "target unlike its sources; docs/mix-world.md) (default: 0, plain leave-one-out)",
    )
    bn.add_argument("--no-latency", action="store_true", help="skip the latency measurement")
    bn.add_argument(
        "--latency-only",
        action="store_true",
        help="only time Falcon's suggestions (no accuracy runs): writes latency.json and "
        "latency.md into --out (docs/benchmark.md)",
    )
    bn.add_argument(
        "--fleet",
        action="store_true",
        help="generate the fleet benchmark's tables from the simulated fleet (into --data, "
        "else OUT/data) and benchmark on them",
    )
    bn.add_argument(
        "--mix",
        action="store_true",
        help="generate the mix world (sources, held-out targets, 3 scenarios of SLO and "
        "prices; docs/mix-world.md) into --data, else OUT/data, and benchmark on it "
        "(with --loo: every source in turn, in every scenario)",
    )
    bn.add_argument(
        "--noise",
        type=float,
        default=None,
        help="log-normal sigma of each measurement (default: 0.03 with --mix, else 0: the "
        "tables' true values); accuracy is the true value of the best measured configuration",
    )
    bn.add_argument(
        "--slo-p99-ms",
        type=argtypes.positive_float,
        default=100.0,
        help="with --fleet: the p99 SLO every model is served under",
    )
    bn.add_argument(
        "--catalog",
        type=Path,
        default=None,
        help="with --fleet: GPU and price catalog (TOML; default: the shipped one)",
    )
    bn.add_argument("--out", type=Path, required=True, help="output directory")

    analyze.add_parser(sub)
    search.add_parser(sub)
    calibrate.add_parser(sub)
    operator.add_parser(sub)
    export.add_parser(sub)
    report.add_parser(sub)
    paper_eval.add_parser(sub)
    return p


def handler(command: str) -> Callable[[argparse.Namespace], int]:
    """The function that runs ``command``, its module imported now."""
    module, function = HANDLERS[command]
    run: Callable[[argparse.Namespace], int] = getattr(
        importlib.import_module(f"falcon_operator.cli.{module}"), function
    )
    return run


def main(argv: Sequence[str] | None = None) -> int:
    """``falcon``: parse the arguments, run the command; errors are one line, exit code 2."""
    args = build_parser().parse_args(argv)
    try:
        return handler(args.command)(args)
    except FalconError as exc:
        print(f"falcon: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("falcon: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
