"""The result of :func:`falcon_operator.fleet.calibration.calibrate`: per-operator fits, summary
metrics, and their JSON and Markdown forms.

Ratios are times relative to the reference GPU (2.0 = twice as slow); an error is
ln(predicted ratio / measured ratio), so +0.69 means the fleet predicts twice the measured
ratio. *Work-bound* cells are those where the model's reference time is at least twice its
kernel-launch time, i.e. where the roofline term, not the launch, decides the prediction.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class GpuFit:
    gpu: str
    cells: int
    measured: float  #: geometric-mean time ratio to the reference GPU
    predicted: float  #: the fleet model's ratio at the same cells
    spread: float  #: sd of the per-cell measured ln ratios
    cell_rmse: float  #: RMSE of per-cell ln(predicted ratio / measured ratio)
    work_cells: int = 0  #: cells the model calls work-bound on the reference
    work_measured: float = math.nan
    work_predicted: float = math.nan

    @property
    def error(self) -> float:
        return math.log(self.predicted / self.measured)


@dataclass(frozen=True)
class OperatorFit:
    operator: str
    matching: str  #: "exact" or "activations" (the weights' shapes left out of the cell key)
    gpus: tuple[GpuFit, ...]  #: every GPU but the reference
    reference_median: float  #: median recorded time on the reference (recorded units)
    spearman: float  #: rank correlation of measured and predicted GPU times (reference = 1)
    same_order: bool  #: the fleet orders the GPUs exactly as the measurements do
    absolute: float = math.nan  #: geometric mean of measured / (scale × predicted), its rows
    copy_of: str = ""  #: the operator whose timings these are, times a constant
    noisy: bool = False  #: per-cell measured ratios spread too widely to carry an ordering

    @property
    def headline(self) -> bool:
        return not (self.copy_of or self.noisy)


@dataclass(frozen=True)
class Summary:
    operators: int
    ratio_rmse: float  #: RMSE of the per-(operator, GPU) ln errors
    cell_rmse: float  #: RMSE of ln errors over every matched cell
    spearman: float  #: mean over operators
    same_order: float  #: fraction of operators whose GPU order the fleet gets exactly right
    measured: dict[str, float]  #: per GPU: geometric mean over operators of the measured ratio
    predicted: dict[str, float]
    work_measured: dict[str, float]  #: the same over work-bound cells only
    work_predicted: dict[str, float]
    gpu_rmse: dict[str, float]  #: per GPU: RMSE of its per-operator ln errors


def rms(xs: Sequence[float]) -> float:
    return math.sqrt(sum(x * x for x in xs) / len(xs)) if xs else math.nan


def _geo(xs: Iterable[float]) -> float:
    logs = [math.log(x) for x in xs if x > 0 and math.isfinite(x)]
    return math.exp(sum(logs) / len(logs)) if logs else math.nan


@dataclass(frozen=True)
class CalibrationReport:
    reference: str
    gpus: tuple[str, ...]
    rows: int
    operators: tuple[OperatorFit, ...]
    scale: float  #: recorded units per model second (one global factor, headline operators)
    absolute_rmse: float  #: RMSE of ln(measured / (scale × predicted)), headline rows

    def summary(self, *, headline: bool = True) -> Summary:
        ops = [o for o in self.operators if o.headline or not headline]
        fits = [g for o in ops for g in o.gpus if g.cells]
        cells = sum(g.cells for g in fits) or 1
        per = {gpu: [g for g in fits if g.gpu == gpu] for gpu in self.gpus if gpu != self.reference}

        def geo(attr: str) -> dict[str, float]:
            return {k: _geo(float(getattr(g, attr)) for g in v) for k, v in per.items()}

        return Summary(
            len(ops),
            rms([g.error for g in fits]),
            math.sqrt(sum(g.cell_rmse**2 * g.cells for g in fits) / cells),
            float(np.mean([o.spearman for o in ops])) if ops else math.nan,
            float(np.mean([o.same_order for o in ops])) if ops else math.nan,
            geo("measured"), geo("predicted"), geo("work_measured"), geo("work_predicted"),
            {k: rms([g.error for g in v]) for k, v in per.items()},
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for op, fit in zip(out["operators"], self.operators, strict=True):
            op["headline"] = fit.headline
            for g, gf in zip(op["gpus"], fit.gpus, strict=True):
                g["error"] = gf.error if gf.cells else None
        out["summary"] = asdict(self.summary())
        out["summary_all_operators"] = asdict(self.summary(headline=False))
        return _finite(out)  # type: ignore[no-any-return]

    def markdown(self) -> str:
        """The report's tables as Markdown (per-operator fits, orders, then the summaries)."""
        ref, lines = self.reference, []
        lines.append(
            f"Time ratios relative to {ref} over {self.rows} timings (ratio > 1: slower than "
            f"{ref}); error = ln(predicted / measured).\n"
        )
        head = ["operator", "GPU", "cells", "measured", "predicted", "error"]
        rows = []
        for o in self.operators:
            for g in o.gpus:
                work = f"{g.work_measured:.2f} / {g.work_predicted:.2f} ({g.work_cells})"
                rows.append([o.operator, g.gpu, str(g.cells), f"{g.measured:.2f}",
                             f"{g.predicted:.2f}", f"{g.error:+.2f}",
                             work if g.work_cells else "—", _note(o)])  # fmt: skip
        lines += _table(
            [*head, "work-bound: measured / predicted (cells)", "note"], rows, range(2, 7)
        )
        rows = [[o.operator, _order(ref, o.gpus, "measured"), _order(ref, o.gpus, "predicted"),
                 f"{o.spearman:+.2f}", f"{o.absolute:.2f}"] for o in self.operators]  # fmt: skip
        cols = ["operator", "GPUs fastest first, measured", "predicted", "Spearman",
                "measured / (scale × predicted)"]  # fmt: skip
        lines += ["", *_table(cols, rows, range(3, 5))]
        for headline in (True, False):
            s = self.summary(headline=headline)
            title = "headline operators (no copies, not noisy)" if headline else "all operators"
            lines += ["", f"**{title}: {s.operators}.** RMSE of ln ratio errors "
                      f"{s.ratio_rmse:.3f} (per cell {s.cell_rmse:.3f}); mean Spearman "
                      f"{s.spearman:+.2f}; GPU order exactly right for {s.same_order:.0%} of "
                      "operators. Geometric means over operators:", ""]  # fmt: skip
            cols4 = (s.measured, s.predicted, s.work_measured, s.work_predicted)
            rows = [[gpu, *(f"{d[gpu]:.2f}" for d in cols4), f"{s.gpu_rmse[gpu]:.3f}"]
                    for gpu in s.measured]  # fmt: skip
            cols = ["GPU", "measured", "predicted", "work-bound measured", "work-bound predicted",
                    "RMSE of ln errors"]  # fmt: skip
            lines += _table(cols, rows, range(1, 6))
        lines.append(
            f"\nAbsolute times: one global scale of {self.scale:.4g} recorded units per model "
            "second (1000 if the unit were ms and the model exact); RMSE of ln(measured / "
            f"(scale × predicted)) {self.absolute_rmse:.3f} over the headline operators' rows."
        )
        return "\n".join(lines) + "\n"


def _note(o: OperatorFit) -> str:
    notes = [f"copy of {o.copy_of}" if o.copy_of else "", "noisy" if o.noisy else ""]
    notes.append("weights' shapes ignored" if o.matching != "exact" else "")
    return "; ".join(n for n in notes if n)


def _table(columns: Sequence[str], rows: Sequence[Sequence[str]], right: range) -> list[str]:
    align = ["---:" if i in right else "---" for i in range(len(columns))]
    return [f"| {' | '.join(columns)} |", f"|{'|'.join(align)}|",
            *(f"| {' | '.join(r)} |" for r in rows)]  # fmt: skip


def _order(ref: str, fits: Sequence[GpuFit], attr: str) -> str:
    times = {ref: 1.0, **{g.gpu: float(getattr(g, attr)) for g in fits}}
    return " < ".join(sorted(times, key=times.__getitem__))


def _finite(x: Any) -> Any:
    """NaN and infinities become None (JSON has no NaN)."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_finite(v) for v in x]
    return x
