"""``falcon paper-eval``: the Falcon paper's seven evaluations in one report (``make paper-eval``).

Runs bench/paper_eval at the given size, draws its figures into ``--out`` and writes the
Markdown report (``--doc``, default ``OUT/evaluation.md``) with links relative to it.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from falcon_operator.cli import args as argtypes
from falcon_operator.cli.help import SubParsers, add_command

if TYPE_CHECKING:
    from falcon_operator.bench.runner import JobResult

#: where the committed benchmark results of evaluation 1 and 3 live, per world
COMMITTED = {"paper data": "paper", "mix world": "mix"}


def _fractions(text: str) -> tuple[float, ...]:
    return tuple(argtypes.fraction(x) for x in text.split(",") if x.strip())


def add_parser(subparsers: SubParsers[argparse.ArgumentParser]) -> None:
    """Register ``paper-eval`` on the ``falcon`` sub-command parsers."""
    p = add_command(
        subparsers,
        "paper-eval",
        "the paper's seven evaluations, one report (make paper-eval)",
        "Accuracy at 6/15/30 trials (from the committed benchmarks), Falcon vs Morphling in\n"
        "wall-clock time, per-model results, one unseen model's search path, the KOP-threshold\n"
        "and PCA cut-off sweeps, and recommended vs optimal configurations on the simulated\n"
        "fleet: figures into --out, the report into --doc (docs/evaluation.md).",
    )
    p.add_argument("--data", type=Path, default=None, help="the paper's data (default: shipped)")
    p.add_argument("--seeds", type=argtypes.positive, default=10, help="seeds per method, target")
    p.add_argument(
        "--targets", type=argtypes.csv, default=None, help="paper-data targets (default: all)"
    )
    p.add_argument(
        "--mix-targets", type=argtypes.csv, default=None, help="mix-world targets of the sweeps"
    )
    p.add_argument(
        "--kop-values", type=_fractions, default=None, help="KOP thresholds swept (0.5,…,1.0)"
    )
    p.add_argument(
        "--pca-values", type=_fractions, default=None, help="PCA cut-offs swept (0.8,…,0.999)"
    )
    p.add_argument(
        "--results",
        type=Path,
        default=Path("bench/results"),
        help="the committed benchmark results (paper/, mix/ results.json) for evaluations 1, 3",
    )
    p.add_argument(
        "--worlds",
        type=Path,
        default=Path("bench/results"),
        help="where the fleet and mix worlds are generated (fleet-data/, mix-data/ under it, "
        "as make bench-fleet and bench-mix do)",
    )
    p.add_argument("--workers", type=argtypes.positive, default=None, help="processes")
    p.add_argument("--out", type=Path, required=True, help="where the figures (PNG) go")
    p.add_argument("--doc", type=Path, default=None, help="the Markdown report (OUT/evaluation.md)")


def _progress(name: str, n: int) -> Callable[[JobResult], None]:
    count = [0]
    step = max(1, n // 10)

    def done(_: JobResult) -> None:
        count[0] += 1
        if count[0] % step == 0 or count[0] == n:
            print(f"  {name}: {count[0]}/{n} runs", flush=True)

    return done


def run(args: argparse.Namespace) -> int:
    from falcon_operator.bench.paper_eval.doc import evaluation_markdown
    from falcon_operator.bench.paper_eval.figures import plot_sweep, plot_targets, plot_world
    from falcon_operator.bench.paper_eval.path import plot_path
    from falcon_operator.bench.paper_eval.run import Size, run_paper_eval
    from falcon_operator.knowledge.dataset import FalconDataset, default_data_dir

    size = Size(
        seeds=args.seeds,
        targets=tuple(args.targets) if args.targets else None,
        mix_targets=tuple(args.mix_targets) if args.mix_targets else None,
        workers=args.workers,
    )
    if args.kop_values:
        size = dataclasses.replace(size, kop_values=args.kop_values)
    if args.pca_values:
        size = dataclasses.replace(size, pca_values=args.pca_values)
    data = FalconDataset((args.data or default_data_dir()).resolve())
    committed = {w: args.results / d / "results.json" for w, d in COMMITTED.items()}
    out: Path = args.out
    doc: Path = args.doc or out / "evaluation.md"
    print(f"paper-eval: {size.seeds} seeds; figures into {out}, report {doc}", flush=True)
    ev = run_paper_eval(data, committed, args.worlds, size, progress=_progress)
    figs: dict[str, Path] = {}
    for w in ev.worlds:
        slug = w.world.replace(" ", "-")
        figs[w.world] = plot_world(w, out / f"1-accuracy-{slug}.png")
        figs[w.world + "-targets"] = plot_targets(w, w.checkpoints[0], out / f"3-{slug}.png")
    for method, grid in ev.paths.items():
        title = f"{method} on {size.path_target} (paper data), seed 0"
        figs["path-" + method] = plot_path(grid, out / f"4-path-{method}.png", title=title)
    figs["sweep-kop"] = plot_sweep(ev.sweeps[0], out / "5-kop.png", label="KOP threshold")
    figs["sweep-pca"] = plot_sweep(ev.sweeps[1], out / "6-pca.png", label="PCA cut-off")
    rel = {k: os.path.relpath(v, doc.parent) for k, v in figs.items()}
    command = "falcon " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(evaluation_markdown(ev, rel, command=command))
    print(f"wrote {doc} and {len(figs)} figures in {out}")
    return 0
