"""The Falcon authors' raw operator timings, and the fleet's view of each timed operator.

``operator_timings.csv`` (in the shared Falcon data, not shipped with the package) has one row per
measurement: ``cpu_cores, instance_type, operator, variant, changed_shape, input_shapes,
batch_size, seconds``. The instance type names the GPU (the catalog's ``paper_instance`` column:
g3.4xlarge = M60, p2.8xlarge = K80, g4dn.4xlarge = T4, p3.2xlarge = V100); ``-1`` in a shape is
the batch dimension; the unit of ``seconds`` is not stated (magnitudes fit milliseconds per
call), so only ratios are compared.

:func:`operator_load` turns a Relay operator and its input shapes into an
:class:`~falcon_operator.fleet.performance.OperatorLoad` with the conventions of
:mod:`falcon_operator.analysis.costs` (FP32, a multiply-add is 2 FLOPs, element-wise ops
``FLOPS_PER_ELEMENT`` per output element, data movement 0 FLOPs): convolutions are unpadded with
stride 1 over the trailing dims of the input (``nn.conv1d`` rows carry 4-d shapes, so the rank
comes from the shapes, not the name); ``nn.dense`` is ``2·K·N`` per sample; concatenation outputs
the sum of its inputs; ``split``, ``strided_slice`` and ``transpose`` are taken to copy their
whole input (the slice bounds are not recorded); broadcasting ops output the largest input.
Bytes per sample are the batched inputs plus the output; inputs without a batch dimension
(weights, biases) are read once per batch.
"""

from __future__ import annotations

import ast
import csv
import math
import os
from dataclasses import dataclass
from pathlib import Path

from falcon_operator.analysis import opmap
from falcon_operator.analysis.costs import FLOPS_PER_ELEMENT
from falcon_operator.core.catalog import shipped_catalog
from falcon_operator.core.errors import DataError
from falcon_operator.fleet.performance import OperatorLoad

#: AWS instance type of the timings -> GPU name, from the catalog's ``paper_instance`` column
INSTANCE_GPUS: dict[str, str] = shipped_catalog().paper_instances()
TIMINGS_FILE = Path("operators") / "operator_timings.csv"
BYTES_PER_ELEMENT = 4.0  # FP32
COLUMNS = ("cpu_cores", "instance_type", "operator", "variant", "input_shapes", "batch_size",
           "seconds")  # fmt: skip

Shapes = tuple[tuple[int, ...], ...]

#: Relay name (without ``nn.``) -> (ONNX op, kind), from the analysis' operator table
_RELAY: dict[str, tuple[str, opmap.Kind]] = {
    relay: (onnx_op, kind) for onnx_op, (relay, kind) in opmap.OPERATORS.items() if "{" not in relay
}
_ALIASES = {"concat": "concatenate"}


@dataclass(frozen=True)
class Timing:
    """One measurement: an operator at some shapes and batch on one GPU with some host cores."""

    operator: str
    variant: str
    shapes: Shapes
    batch: int
    cores: int
    gpu: str
    seconds: float  #: as recorded (unit unknown)


def default_timings_path() -> Path:
    """``$FALCON_DATA/operators/operator_timings.csv``, else the shared data next to the repo."""
    if env := os.environ.get("FALCON_DATA"):
        return Path(env) / TIMINGS_FILE
    repo = Path(__file__).resolve().parents[3]
    return repo.parent / "shared" / "datasets" / "falcon" / TIMINGS_FILE


def load_timings(path: Path | str) -> list[Timing]:
    """Every row of an ``operator_timings.csv``; a missing or malformed file is a DataError."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: no such timings file (pass --timings PATH or set FALCON_DATA)")
    shapes: dict[str, Shapes] = {}
    out: list[Timing] = []
    with p.open(newline="") as fh:
        reader = csv.DictReader(fh)
        missing = set(COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise DataError(f"{p}: not an operator timings file (missing {sorted(missing)})")
        for line, row in enumerate(reader, start=2):
            try:
                text = row["input_shapes"]
                if text not in shapes:
                    shapes[text] = tuple(tuple(int(d) for d in s) for s in ast.literal_eval(text))
                gpu = INSTANCE_GPUS.get(row["instance_type"], row["instance_type"])
                seconds = float(row["seconds"])
                t = Timing(row["operator"], row["variant"], shapes[text],
                           int(row["batch_size"]), int(row["cpu_cores"]), gpu, seconds)  # fmt: skip
            except (ValueError, TypeError, SyntaxError) as exc:
                raise DataError(f"{p}:{line}: malformed row: {exc}") from exc
            if not (seconds > 0 and math.isfinite(seconds)) or t.batch < 1:
                raise DataError(f"{p}:{line}: time and batch size must be positive")
            out.append(t)
    if not out:
        raise DataError(f"{p}: no timings")
    return out


def _per_sample(shape: tuple[int, ...]) -> int:
    return math.prod(d for d in shape if d != -1)


def operator_load(operator: str, shapes: Shapes) -> OperatorLoad:
    """FLOPs and bytes per sample (and per-batch weight bytes) of a Relay op at these shapes."""
    name = _ALIASES.get(operator.removeprefix("nn."), operator.removeprefix("nn."))
    onnx_op, kind = _RELAY.get(name, (name, "elementwise"))
    batched = [s for s in shapes if -1 in s]
    weights = [s for s in shapes if -1 not in s]
    in_elems = sum(_per_sample(s) for s in batched)
    if name.startswith("conv") and len(shapes) == 2 and len(shapes[0]) == len(shapes[1]) > 2:
        x, w = shapes
        out = w[0] * math.prod(max(i - k + 1, 1) for i, k in zip(x[2:], w[2:], strict=True))
        flops = 2.0 * out * math.prod(w[1:])
    elif name == "dense" and len(shapes) == 2:
        out = _per_sample(shapes[0]) // max(shapes[0][-1], 1) * shapes[1][0]
        flops = 2.0 * out * shapes[0][-1]
    elif kind in ("movement", "view"):
        out, flops = in_elems, 0.0
    else:
        out = max((_per_sample(s) for s in batched), default=0)
        flops = out * FLOPS_PER_ELEMENT.get(onnx_op, 1.0)
    weight_elems = sum(math.prod(s) for s in weights)
    nbytes = BYTES_PER_ELEMENT * (in_elems + out)
    kernels = 0 if kind == "view" else 1
    return OperatorLoad(operator, flops, nbytes, BYTES_PER_ELEMENT * weight_elems, kernels)
