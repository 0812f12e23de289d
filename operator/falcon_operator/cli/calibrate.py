"""``falcon calibrate``: how well the simulated fleet's relative GPU speeds fit measured timings.

Reads the Falcon authors' ``operator_timings.csv`` (not shipped: ``--timings PATH``, else
``$FALCON_DATA/operators/operator_timings.csv``, else the shared data next to the repository),
compares each operator's measured time ratios between GPUs with the fleet model's, prints a table
and the summary, and optionally writes the report as JSON and Markdown.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from falcon_operator.cli.help import SubParsers, add_command
from falcon_operator.core.errors import DataError

if TYPE_CHECKING:  # the command's own imports wait until it runs (fast --help)
    from rich.table import Table as RichTable

    from falcon_operator.fleet.calibration_report import CalibrationReport


def add_parser(subparsers: SubParsers[argparse.ArgumentParser]) -> None:
    """Register ``calibrate`` on the ``falcon`` sub-command parsers."""
    c = add_command(
        subparsers,
        "calibrate",
        "fit of the fleet's per-operator GPU speed ratios to measured timings",
        "Compare each operator's measured time ratios between GPUs (the Falcon authors'\n"
        "operator_timings.csv, not shipped) with the simulated fleet's, print a table and a\n"
        "summary, and optionally write the report as JSON and Markdown.",
    )
    c.add_argument(
        "--timings",
        type=Path,
        default=None,
        help="operator_timings.csv (default: $FALCON_DATA/operators/…, else the shared data)",
    )
    c.add_argument("--reference", default="V100", help="GPU the ratios are relative to")
    c.add_argument(
        "--catalog", type=Path, default=None, help="GPU catalog TOML (default: the shipped one)"
    )
    c.add_argument("--json", type=Path, default=None, metavar="OUT", help="write the report JSON")
    c.add_argument(
        "--markdown", type=Path, default=None, metavar="OUT", help="write the report Markdown"
    )


def _rich(report: CalibrationReport) -> RichTable:
    from rich.table import Table as RichTable

    table = RichTable(
        title=f"Time ratio to {report.reference} per operator: measured vs fleet model "
        "(error = ln(predicted / measured))"
    )
    for col in ("operator", "GPU", "cells", "measured", "predicted", "error", "work-bound", "note"):
        table.add_column(col, justify="left" if col in ("operator", "GPU", "note") else "right")
    for o in report.operators:
        note = ", ".join(
            n
            for n in (f"copy of {o.copy_of}" if o.copy_of else "", "noisy" if o.noisy else "")
            if n
        )
        for i, g in enumerate(o.gpus):
            work = f"{g.work_measured:.2f}/{g.work_predicted:.2f}" if g.work_cells else "—"
            style = "red" if abs(g.error) > 0.5 else ""
            table.add_row(
                o.operator if i == 0 else "",
                g.gpu,
                str(g.cells),
                f"{g.measured:.2f}",
                f"{g.predicted:.2f}",
                f"[{style}]{g.error:+.2f}[/]" if style else f"{g.error:+.2f}",
                work,
                note if i == 0 else "",
                end_section=i == len(o.gpus) - 1,
            )
    return table


def run(args: argparse.Namespace) -> int:
    """Calibrate, print the table and summary, write ``--json`` / ``--markdown``."""
    from rich.console import Console

    from falcon_operator.core.catalog import load_catalog
    from falcon_operator.fleet.calibration import calibrate
    from falcon_operator.fleet.performance import FleetModel
    from falcon_operator.fleet.timings import default_timings_path, load_timings

    path = args.timings or default_timings_path()
    report = calibrate(
        load_timings(path), FleetModel(load_catalog(args.catalog)), reference=args.reference
    )
    console = Console()
    console.print(_rich(report))
    for headline in (True, False):
        s = report.summary(headline=headline)
        which = "headline operators (no copies, not noisy)" if headline else "all operators"
        gpus = ", ".join(
            f"{g} {s.measured[g]:.2f} vs {s.predicted[g]:.2f} (RMSE {s.gpu_rmse[g]:.2f})"
            for g in s.measured
        )
        console.print(
            f"{which}: {s.operators}; RMSE ln ratio {s.ratio_rmse:.3f} (per cell "
            f"{s.cell_rmse:.3f}), mean Spearman {s.spearman:+.2f}, GPU order right for "
            f"{s.same_order:.0%}; mean ratio measured vs predicted: {gpus}",
            highlight=False,
        )
    console.print(
        f"absolute: scale {report.scale:.4g} recorded units per model second, RMSE "
        f"ln {report.absolute_rmse:.3f}",
        highlight=False,
    )
    writers: list[tuple[Path | None, Callable[[], str]]] = [
        (args.json, lambda: json.dumps(report.to_dict(), indent=2) + "\n"),
        (args.markdown, report.markdown),
    ]
    for out, text in writers:
        if out is not None:
            try:
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(text())
            except OSError as exc:
                raise DataError(f"{out}: cannot write: {exc}") from exc
    return 0
