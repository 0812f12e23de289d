"""One-node ONNX models for the analysis tests (a plain module: conftest.py is not importable
by name once several test folders have one)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto
from onnx import helper as oh
from onnx import numpy_helper as nh

Dims = Sequence[int | str | None]


def single_op(
    op_type: str,
    inputs: dict[str, Dims],
    output: Dims | None,
    *,
    weights: dict[str, tuple[int, ...]] | None = None,
    outputs: Sequence[str] = ("y",),
    elem: int = TensorProto.FLOAT,
    opset: int = 17,
    **attrs: Any,
) -> onnx.ModelProto:
    """A model of one node: graph inputs ``inputs``, initializers ``weights`` (zeros)."""
    weights = weights or {}
    rng = np.random.default_rng(0)
    dtype = onnx.helper.tensor_dtype_to_np_dtype(elem)
    inits = [nh.from_array(rng.standard_normal(s).astype(dtype), n) for n, s in weights.items()]
    node = oh.make_node(op_type, [*inputs, *weights], list(outputs), name="node", **attrs)
    ins = [oh.make_tensor_value_info(n, elem, list(d)) for n, d in inputs.items()]
    out = [oh.make_tensor_value_info(outputs[0], elem, None if output is None else list(output))]
    graph = oh.make_graph([node], "single", ins, out, inits)
    return oh.make_model(graph, opset_imports=[oh.make_opsetid("", opset)])
