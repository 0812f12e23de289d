"""From an ONNX model to the fleet's view of it (per-operator work per sample, memory, host cost).

The model is profiled at batch 1 and batch 8; the difference gives each operator's work per
sample, and what is left at batch 1 is per-batch work (reading the weights). Resident weights
are the initializers' sizes; activation memory per sample is twice the largest per-sample
traffic of any node (its inputs and outputs are live together). Host work per request is a fixed
0.2 ms plus deserialising the request's inputs at 200 MB/s per core.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx

from falcon_operator.analysis import analyze, load_model
from falcon_operator.analysis.result import ModelProfile
from falcon_operator.fleet.performance import OperatorLoad, Workload

HOST_FIXED_SECONDS = 2e-4
HOST_BYTES_PER_SECOND = 200e6


def initializer_bytes(model: onnx.ModelProto) -> float:
    total = 0.0
    for init in model.graph.initializer:
        itemsize = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(init.data_type)).itemsize
        total += float(np.prod(init.dims, dtype=np.float64)) * itemsize
    return total


def input_bytes_per_sample(model: onnx.ModelProto) -> float:
    weights = {i.name for i in model.graph.initializer}
    total = 0.0
    for value in model.graph.input:
        if value.name in weights:
            continue
        t = value.type.tensor_type
        dims = [d.dim_value if d.dim_value > 0 else 1 for d in t.shape.dim[1:]]
        itemsize = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(t.elem_type)).itemsize
        total += float(np.prod(dims, dtype=np.float64)) * itemsize
    return total


def workload_from_onnx(path: Path | str) -> tuple[Workload, ModelProfile]:
    """The fleet workload of the model at ``path`` and its batch-1 profile."""
    model = load_model(path)
    one, eight = analyze(path, batch_size=1), analyze(path, batch_size=8)
    rows8 = {r.operator: r for r in eight.rows}
    ops = []
    for r1 in one.rows:
        r8 = rows8.get(r1.operator, r1)
        flops = max((r8.flops - r1.flops) / 7, 0.0) or r1.flops
        per_sample = max((r8.bytes - r1.bytes) / 7, 0.0)
        ops.append(OperatorLoad(r1.operator, flops, per_sample,
                                max(r1.bytes - per_sample, 0.0), r1.count))  # fmt: skip
    nodes8 = {n.name: n.bytes for n in eight.nodes}
    peak = max(((nodes8.get(n.name, n.bytes) - n.bytes) / 7 for n in one.nodes), default=0.0)
    host = HOST_FIXED_SECONDS + input_bytes_per_sample(model) / HOST_BYTES_PER_SECOND
    name = Path(path).stem
    return Workload(name, ops, initializer_bytes(model), 2 * max(peak, 0.0), host), one
