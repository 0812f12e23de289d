"""A tiny graph builder for the model zoo: nodes named after their output, seeded weights."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import TensorProto
from onnx import helper as oh
from onnx import numpy_helper as nh

#: default-domain opset of the zoo's models
OPSET = 17


class GraphBuilder:
    """Accumulates nodes and seeded weights; ``model()`` wraps them in a ModelProto."""

    def __init__(self, name: str, *, seed: int = 0) -> None:
        self.name, self.rng = name, np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.weights: list[onnx.TensorProto] = []

    def weight(self, name: str, *shape: int, scale: float = 0.05) -> str:
        value = (self.rng.standard_normal(shape) * scale).astype(np.float32)
        self.weights.append(nh.from_array(value, name))
        return name

    def const(self, name: str, value: list[int] | list[float]) -> str:
        dtype = np.int64 if all(isinstance(v, int) for v in value) else np.float32
        self.weights.append(nh.from_array(np.array(value, dtype=dtype), name))
        return name

    def op(self, op_type: str, inputs: list[str], out: str, **attrs: Any) -> str:
        self.nodes.append(oh.make_node(op_type, inputs, [out], name=out, **attrs))
        return out

    def model(
        self, inputs: list[onnx.ValueInfoProto], outputs: list[onnx.ValueInfoProto]
    ) -> onnx.ModelProto:
        graph = oh.make_graph(self.nodes, self.name, inputs, outputs, self.weights)
        return oh.make_model(
            graph, opset_imports=[oh.make_opsetid("", OPSET)], producer_name="falcon"
        )


def value_info(name: str, *dims: int | str, elem: int = TensorProto.FLOAT) -> onnx.ValueInfoProto:
    """A tensor value info; a string dim is symbolic (``"N"`` for the batch)."""
    return oh.make_tensor_value_info(name, elem, list(dims))
