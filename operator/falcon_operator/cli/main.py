"""``falcon``: build knowledge, replay a search against a table, benchmark strategies.

Every deliberate error (bad file, bad option value) ends as one line on stderr and exit code 2;
never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from falcon_operator import __version__
from falcon_operator.cli import args as argtypes
from falcon_operator.errors import FalconError


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
        "--data", type=Path, default=None, help="dataset directory (default: shipped data)"
    )
    if sources:
        parser.add_argument(
            "--sources", type=argtypes.csv, default=None, help="source model names (default: all)"
        )


def build_parser() -> argparse.ArgumentParser:
    from falcon_operator.cli import analyze, export, operator, search
    from falcon_operator.search.registry import METHODS

    p = argparse.ArgumentParser(
        prog="falcon", description=__doc__.splitlines()[0] if __doc__ else ""
    )
    p.add_argument("--version", action="version", version=f"falcon {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    kb = sub.add_parser("kb", help="knowledge base commands").add_subparsers(
        dest="kb_command", required=True, metavar="KB_COMMAND"
    )
    b = kb.add_parser("build", help="build a knowledge base from a Falcon-layout directory")
    _add_dataset_args(b)
    b.add_argument(
        "--kop-threshold",
        type=argtypes.fraction,
        default=0.8,
        help="cumulative running-time share the key operators cover (default 0.8)",
    )
    b.add_argument(
        "--pca-cutoff",
        type=argtypes.fraction,
        default=0.99,
        help="explained variance kept when pruning redundant curves (default 0.99)",
    )
    b.add_argument("--out", type=Path, required=True, help="where to write the .kb.json.gz")

    r = sub.add_parser("replay", help="run a search against a recorded table (the demo)")
    _add_dataset_args(r, sources=False)
    r.add_argument("--target", default=None, help="target table name in DATA/models/targets")
    r.add_argument(
        "--table", type=Path, default=None, help="or any table file in the Falcon layout"
    )
    r.add_argument(
        "--knowledge",
        type=Path,
        default=None,
        help="a built knowledge base (default: built from DATA's sources)",
    )
    r.add_argument("--method", choices=METHODS, default="falcon")
    r.add_argument("--trials", type=argtypes.positive, default=15)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument(
        "--stop-early",
        action="store_true",
        help="stop before --trials when the strategy sees no worthwhile improvement left",
    )

    bn = sub.add_parser("bench", help="compare strategies on target tables")
    _add_dataset_args(bn)
    bn.add_argument(
        "--targets", type=argtypes.csv, default=None, help="target names (default: all)"
    )
    bn.add_argument(
        "--trials", type=_csv_ints, default=[6, 15, 30], help="checkpoints, e.g. 6,15,30"
    )
    bn.add_argument(
        "--seeds", type=argtypes.positive, default=20, help="seeds per (method, target)"
    )
    bn.add_argument(
        "--methods", type=argtypes.csv, default=list(METHODS), help=f"from {','.join(METHODS)}"
    )
    bn.add_argument(
        "--workers", type=argtypes.positive, default=None, help="processes (default: CPUs)"
    )
    bn.add_argument(
        "--loo",
        action="store_true",
        help="leave-one-source-out: each source is the target, knowledge from the rest",
    )
    bn.add_argument("--no-latency", action="store_true", help="skip the latency measurement")
    bn.add_argument(
        "--fleet",
        action="store_true",
        help="generate the fleet benchmark's tables from the simulated fleet (into DATA, "
        "default OUT/data) and benchmark on them",
    )
    bn.add_argument(
        "--slo-p99-ms",
        type=argtypes.positive_float,
        default=100.0,
        help="with --fleet: the p99 SLO every model is served under (default 100)",
    )
    bn.add_argument(
        "--catalog", type=Path, default=None, help="with --fleet: GPU and price catalog (TOML)"
    )
    bn.add_argument("--out", type=Path, required=True, help="output directory")

    analyze.add_parser(sub)
    search.add_parser(sub)
    from falcon_operator.cli import calibrate

    calibrate.add_parser(sub)
    operator.add_parser(sub)
    export.add_parser(sub)
    return p


def _run_operator(args: argparse.Namespace) -> int:
    from falcon_operator.cli import operator

    return operator.run(args)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        from falcon_operator.cli import analyze, calibrate, commands, export, search

        handler = {
            "kb": commands.kb_build,
            "replay": commands.replay,
            "bench": commands.bench,
            "analyze": analyze.run,
            "search": search.run,
            "calibrate": calibrate.run,
            "operator": _run_operator,
            "export": export.run,
        }
        return handler[args.command](args)
    except FalconError as exc:
        print(f"falcon: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("falcon: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
