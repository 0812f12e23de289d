"""Calibration of the fleet model's relative GPU speeds against measured operator timings.

For every operator and GPU the *measured* ratio is the geometric mean, over matched cells, of
time on the GPU / time on the reference GPU; a cell is one (operator, variant, input shapes,
batch size, host cores) measured on both. Where fewer than ``min_cells`` cells match exactly
(the ``nn.dense`` rows draw a random output width per GPU) the weights' shapes are left out of
the key and a cell's time is the geometric mean of its rows (matching ``"activations"``). The
*predicted* ratio is the same mean of :meth:`FleetModel.batch_seconds` ratios, each row's shapes
turned into an :class:`OperatorLoad` by :func:`~falcon_operator.fleet.timings.operator_load`,
on whole GPUs at full power.

Two data checks keep the headline metrics honest: an operator whose timings are another's times a
constant is a *copy* (counted once), and one whose per-cell measured ln ratios spread (sd) by
more than ``NOISY_SPREAD`` is *noisy*: its timings carry no stable GPU ordering. Absolute times
are compared through one global scale (recorded units per model second), as the unit is unknown.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from scipy.stats import spearmanr

from falcon_operator.core.errors import DataError
from falcon_operator.fleet.calibration_report import CalibrationReport, GpuFit, OperatorFit, rms
from falcon_operator.fleet.performance import FleetModel, Workload
from falcon_operator.fleet.timings import Timing, operator_load

NOISY_SPREAD = 1.0  #: sd of the per-cell ln ratios above which an operator is flagged noisy
COPY_TOLERANCE = 1e-4  #: range of ln(time_b / time_a) under which b is a scaled copy of a
WORK_BOUND = 2.0  #: predicted reference time ≥ this × launch time: the cell is work-bound

Cells = dict[tuple[object, ...], dict[str, list[Timing]]]


class _Predictor:
    """ln of the fleet model's batch time for a timing's operator, shapes, batch and GPU."""

    def __init__(self, model: FleetModel) -> None:
        self.model = model
        self.cache: dict[tuple[object, ...], float] = {}

    def __call__(self, t: Timing) -> float:
        key = (t.operator, t.shapes, t.batch, t.gpu)
        if key not in self.cache:
            load = operator_load(t.operator, t.shapes)
            w = Workload(t.operator, [load], load.weight_bytes, 0.0)
            sl = self.model.catalog.slice(t.gpu)
            self.cache[key] = math.log(self.model.batch_seconds(w, sl, t.batch, 1.0))
        return self.cache[key]

    def work_bound(self, t: Timing) -> bool:
        launch = self.model.settings.launch_seconds * operator_load(t.operator, t.shapes).kernels
        return math.exp(self(t)) >= WORK_BOUND * launch


def copies(timings: Sequence[Timing]) -> dict[str, str]:
    """Operator -> the operator (first by name) whose timings it repeats times a constant."""
    by_op: dict[str, dict[tuple[object, ...], float]] = defaultdict(dict)
    for t in timings:
        by_op[t.operator][(t.variant, t.shapes, t.batch, t.cores, t.gpu)] = math.log(t.seconds)
    names, found = sorted(by_op), {}
    for i, b in enumerate(names):
        for a in names[:i]:
            if a not in found and by_op[a].keys() == by_op[b].keys():
                d = [by_op[b][k] - v for k, v in by_op[a].items()]
                if max(d) - min(d) < COPY_TOLERANCE:
                    found[b] = a
                    break
    return found


def _cells(rows: Sequence[Timing], *, exact: bool) -> Cells:
    cells: Cells = defaultdict(lambda: defaultdict(list))
    for t in rows:
        shapes = t.shapes if exact else tuple(s for s in t.shapes if -1 in s)
        cells[(t.variant, shapes, t.batch, t.cores)][t.gpu].append(t)
    return cells


def _gpu_fit(gpu: str, cells: Cells, ref: str, predict: _Predictor) -> GpuFit:
    meas, pred, work = [], [], []
    for c in cells.values():
        if gpu in c and ref in c:
            meas.append(np.mean([math.log(t.seconds) for t in c[gpu]])
                        - np.mean([math.log(t.seconds) for t in c[ref]]))  # fmt: skip
            pred.append(np.mean([predict(t) for t in c[gpu]])
                        - np.mean([predict(t) for t in c[ref]]))  # fmt: skip
            work.append(all(predict.work_bound(t) for t in c[ref]))
    if not meas:
        return GpuFit(gpu, 0, math.nan, math.nan, math.nan, math.nan)
    m, p, w = np.array(meas), np.array(pred), np.array(work, dtype=bool)
    return GpuFit(gpu, len(m), math.exp(m.mean()), math.exp(p.mean()), float(m.std()),
                  rms(list(p - m)), int(w.sum()),
                  math.exp(m[w].mean()) if w.any() else math.nan,
                  math.exp(p[w].mean()) if w.any() else math.nan)  # fmt: skip


def _order(fits: Sequence[GpuFit]) -> tuple[float, bool]:
    meas = [1.0, *(g.measured for g in fits)]
    pred = [1.0, *(g.predicted for g in fits)]
    if len(meas) < 3 or not all(map(math.isfinite, meas + pred)):
        return math.nan, False
    rho = float(spearmanr(meas, pred).statistic)
    return rho, list(np.argsort(meas)) == list(np.argsort(pred))


def calibrate(
    timings: Sequence[Timing], model: FleetModel, *, reference: str = "V100", min_cells: int = 10
) -> CalibrationReport:
    """Compare measured and predicted per-operator GPU time ratios (see the module docstring)."""
    present = {t.gpu for t in timings}
    if unknown := sorted(present - set(model.catalog.gpus)):
        raise DataError(f"the timings name GPUs the catalog lacks: {unknown}")
    if reference not in present:
        raise DataError(f"reference GPU {reference!r} is not in the timings ({sorted(present)})")
    gpus = tuple(g for g in model.catalog.gpus if g in present)
    others = [g for g in gpus if g != reference]
    predict, copied = _Predictor(model), copies(timings)
    by_op: dict[str, list[Timing]] = defaultdict(list)
    for t in timings:
        by_op[t.operator].append(t)
    fits = []
    for op in sorted(by_op):
        rows, matching = by_op[op], "exact"
        cells = _cells(rows, exact=True)
        if any(sum(g in c and reference in c for c in cells.values()) < min_cells for g in others):
            cells, matching = _cells(rows, exact=False), "activations"
        gf = tuple(_gpu_fit(g, cells, reference, predict) for g in others)
        rho, same = _order(gf)
        median = float(np.median([t.seconds for t in rows if t.gpu == reference] or [math.nan]))
        noisy = any(g.spread > NOISY_SPREAD for g in gf)
        fits.append(OperatorFit(op, matching, gf, median, rho, same,
                                copy_of=copied.get(op, ""), noisy=noisy))  # fmt: skip
    head = {f.operator for f in fits if f.headline} or set(by_op)
    gaps: dict[str, list[float]] = defaultdict(list)
    for t in timings:
        gaps[t.operator].append(math.log(t.seconds) - predict(t))
    ln_scale = float(np.mean([x for op in head for x in gaps[op]]))
    ops = tuple(replace(f, absolute=math.exp(float(np.mean(gaps[f.operator])) - ln_scale))
                for f in fits)  # fmt: skip
    rmse = rms([x - ln_scale for op in head for x in gaps[op]])
    return CalibrationReport(reference, gpus, len(timings), ops, math.exp(ln_scale), rmse)
