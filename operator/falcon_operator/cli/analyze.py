"""``falcon analyze MODEL.onnx``: a model's operator profile from its ONNX file.

Prints, per operator, the node count, FLOPs, bytes moved, estimated share of GPU time and whether
it is a key operator, then the operators the shipped knowledge base has never seen and what they
are counted as; ``--json`` prints the whole profile instead.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from falcon_operator.cli import args as argtypes
from falcon_operator.cli.help import SubParsers, add_command

if TYPE_CHECKING:  # the command's own imports wait until it runs (fast --help)
    from rich.table import Table as RichTable

    from falcon_operator.analysis import ModelProfile


def add_parser(subparsers: SubParsers[argparse.ArgumentParser]) -> None:
    """Register ``analyze`` on the ``falcon`` sub-command parsers."""
    a = add_command(
        subparsers,
        "analyze",
        "operator profile and KOPs of an ONNX model",
        "Print, per operator of MODEL.onnx, the node count, FLOPs, bytes moved, estimated share\n"
        "of GPU time and whether it is a key operator (KOP); then the operators the shipped\n"
        "knowledge base has never seen and what they are counted as. Runs offline.",
    )
    a.add_argument("model", type=Path, metavar="MODEL.onnx", help="the ONNX model file")
    a.add_argument(
        "--batch-size", type=argtypes.positive, default=1, help="batch size for a dynamic batch"
    )
    a.add_argument(
        "--kop-threshold",
        type=argtypes.fraction,
        default=0.8,
        help="cumulative time share the key operators cover",
    )
    a.add_argument("--json", action="store_true", help="print the profile as JSON")


def _si(value: float, unit: str) -> str:
    for scale, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.2f} {prefix}{unit}"
    return f"{value:.0f} {unit}"


def _table(profile: ModelProfile) -> RichTable:
    from rich.table import Table as RichTable

    title = (
        f"{profile.model} at batch {profile.batch_size}: {_si(profile.total_flops, 'FLOP')}, "
        f"{_si(profile.total_bytes, 'B')} moved, ~{profile.est_time * 1e3:.3f} ms on "
        f"{profile.roofline.name}"
    )
    table = RichTable(title=title)
    for col in ("operator", "count", "FLOPs", "bytes", "share", "KOP?", "ONNX ops"):
        table.add_column(
            col, justify="right" if col in ("count", "FLOPs", "bytes", "share") else "left"
        )
    for r in profile.rows:
        name = f"{r.operator} → {r.mapped_to or '?'}" if r.unseen else r.operator
        table.add_row(
            name,
            str(r.count),
            _si(r.flops, ""),
            _si(r.bytes, "B"),
            f"{100 * r.share:.1f}%",
            "yes" if r.is_kop else "",
            ", ".join(r.onnx_ops),
        )
    return table


def run(args: argparse.Namespace) -> int:
    """Analyse ``args.model`` against the shipped knowledge base's operators."""
    from rich.console import Console

    from falcon_operator.analysis import analyze
    from falcon_operator.knowledge.dataset import FalconDataset, default_data_dir

    known = FalconDataset(default_data_dir()).knowledge().operators
    profile = analyze(
        args.model,
        batch_size=args.batch_size,
        kop_threshold=args.kop_threshold,
        known_operators=known,
    )
    if args.json:
        sys.stdout.write(profile.to_json() + "\n")
        return 0
    console = Console(width=max(Console().width, 110))
    console.print(_table(profile))
    console.print(f"KOPs (threshold {args.kop_threshold}): [bold]{', '.join(profile.kops)}[/bold]")
    for op, to in profile.unseen.items():
        target = (
            f"counted as {to!r}" if to else "no known operator of its class; skipped by the prior"
        )
        console.print(f"unseen operator {op!r} (not in the knowledge base): {target}")
    for w in profile.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}")
    return 0
