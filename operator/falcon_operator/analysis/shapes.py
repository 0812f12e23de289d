"""Tensor shapes and element sizes of an analysed graph, at a chosen batch size.

Shapes come from shape inference (``value_info``), the graph's inputs and outputs and its
initializers. The batch dimension is the first dimension of a graph input when it is symbolic
(a ``dim_param``, 0, -1 or absent); every dimension carrying the same symbol, and the first
dimension of any tensor left symbolic, takes the batch size. A symbolic dimension elsewhere is
recovered from a Reshape/Flatten (whose element count is conserved) when it can be; otherwise
the tensor's shape is unknown (``Tensor.shape is None``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import onnx
import onnx.helper

#: bytes per element when the element type is unknown (float32)
DEFAULT_ITEMSIZE = 4


@dataclass(frozen=True)
class Tensor:
    """Shape (None when unknown) and element size in bytes of one tensor."""

    shape: tuple[int, ...] | None
    itemsize: int = DEFAULT_ITEMSIZE

    @property
    def numel(self) -> int | None:
        return None if self.shape is None else math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        """Bytes the tensor occupies; 0 when its shape is unknown."""
        n = self.numel
        return 0 if n is None else n * self.itemsize


def itemsize(elem_type: int) -> int:
    """Bytes per element of an ONNX element type (``DEFAULT_ITEMSIZE`` when unknown)."""
    try:
        return int(np.dtype(onnx.helper.tensor_dtype_to_np_dtype(elem_type)).itemsize)
    except (KeyError, TypeError, ValueError):
        return DEFAULT_ITEMSIZE


def _batch_symbols(graph: onnx.GraphProto) -> tuple[set[str], bool]:
    weights = {t.name for t in graph.initializer}
    symbols: set[str] = set()
    dynamic = False
    for vi in graph.input:
        if vi.name in weights or not vi.type.tensor_type.HasField("shape"):
            continue
        dims = vi.type.tensor_type.shape.dim
        if dims and not (dims[0].HasField("dim_value") and dims[0].dim_value > 0):
            dynamic = True
            if dims[0].dim_param:
                symbols.add(dims[0].dim_param)
    return symbols, dynamic


def _dims(
    vi: onnx.ValueInfoProto, values: dict[str, int], batch: int | None
) -> list[int | str | None]:
    out: list[int | str | None] = []
    for i, d in enumerate(vi.type.tensor_type.shape.dim):
        if d.HasField("dim_value") and (d.dim_value > 0 or (i > 0 and d.dim_value == 0)):
            out.append(int(d.dim_value))
        elif d.dim_param in values:
            out.append(values[d.dim_param])
        else:
            out.append(batch if i == 0 and batch is not None else (d.dim_param or None))
    return out


class TensorTable:
    """Name -> :class:`Tensor` for every tensor of a graph whose type is known."""

    def __init__(self, graph: onnx.GraphProto, *, batch_size: int) -> None:
        symbols, self.dynamic_batch = _batch_symbols(graph)
        self.batch_size = batch_size
        self._values: dict[str, int] = dict.fromkeys(symbols, batch_size)
        self._infos: dict[str, onnx.ValueInfoProto] = {}
        for vi in [*graph.input, *graph.value_info, *graph.output]:
            if vi.type.HasField("tensor_type"):
                self._infos[vi.name] = vi
        self._tensors: dict[str, Tensor] = {
            t.name: Tensor(tuple(int(d) for d in t.dims), itemsize(t.data_type))
            for t in graph.initializer
        }
        for node in graph.node:
            if node.op_type in ("Reshape", "Flatten") and node.domain in ("", "ai.onnx"):
                self._recover(node)

    def _recover(self, node: onnx.NodeProto) -> None:
        """Resolve the one symbolic output dim of a Reshape/Flatten from its input's size."""
        src, dst = self.get(node.input[0]), self._infos.get(node.output[0])
        if src is None or src.numel is None or dst is None:
            return
        dims = _dims(dst, self._values, None)
        unknown = [i for i, d in enumerate(dims) if not isinstance(d, int)]
        known = math.prod(d for d in dims if isinstance(d, int))
        if len(unknown) != 1 or known <= 0:
            return
        symbol, value = dims[unknown[0]], src.numel // known
        if isinstance(symbol, str):
            self._values[symbol] = value
        dims[unknown[0]] = value
        itemsize_ = itemsize(dst.type.tensor_type.elem_type)
        self._tensors[node.output[0]] = Tensor(tuple(int(d or 0) for d in dims), itemsize_)

    def get(self, name: str) -> Tensor | None:
        """The tensor called ``name``; None for an empty name or a tensor of unknown type."""
        if not name:
            return None
        if name in self._tensors:
            return self._tensors[name]
        vi = self._infos.get(name)
        if vi is None:
            return None
        tt = vi.type.tensor_type
        shape: tuple[int, ...] | None = None
        if tt.HasField("shape"):
            dims = _dims(vi, self._values, self.batch_size)
            if all(isinstance(d, int) for d in dims):
                shape = tuple(int(d) for d in dims if isinstance(d, int))
        return Tensor(shape, itemsize(tt.elem_type))
