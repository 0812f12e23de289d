"""FLOPs and bytes moved by each node of a graph.

Bytes moved are the node's inputs + outputs + weights (initializers are inputs), at each
tensor's element size; a tensor of unknown shape counts 0 bytes and the node says so. A node is
one or more :class:`Part` s, each a Relay operator: Conv and Gemm with a bias are ``conv2d`` /
``dense`` plus ``bias_add`` (as TVM's frontend lowers them), LSTM/GRU/RNN are dense plus
element-wise parts (:mod:`falcon_operator.analysis.recurrent`).

FLOPs (a multiply-add is 2): Conv ``2·out_elems·(Cin/group)·prod(kernel)`` (+1 per output for
the bias); Gemm/MatMul ``2·M·K·N`` times the batch dims; element-wise ops ``FLOPS_PER_ELEMENT``
per output element (1 unless listed); pooling ``prod(kernel)`` per output element; global
pooling and reductions 1 per input element; data movement and views 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import onnx
import onnx.helper

from falcon_operator.analysis import opmap, recurrent
from falcon_operator.analysis.parts import Part
from falcon_operator.analysis.shapes import Tensor, TensorTable

#: FLOPs per output element of element-wise and normalising ops (1 when not listed):
#: Sigmoid = neg, exp, add, div; Tanh ≈ two exps, add, sub, div, +1; Softmax = max, sub, exp,
#: sum, div; Erf = a rational approximation; Gelu = Erf plus mul/add; normalisations = centre,
#: square, sum, rsqrt-scale, affine.
FLOPS_PER_ELEMENT: dict[str, float] = {
    "Sigmoid": 4.0,
    "Tanh": 6.0,
    "Softmax": 5.0,
    "LogSoftmax": 5.0,
    "Erf": 8.0,
    "Gelu": 10.0,
    "BatchNormalization": 4.0,
    "LayerNormalization": 8.0,
    "InstanceNormalization": 8.0,
}


@dataclass(frozen=True)
class NodeCost:
    """One node's work: its parts, and notes (e.g. shapes that were unknown)."""

    name: str
    onnx_op: str  #: op type, ``domain::op`` outside the default domain
    parts: tuple[Part, ...]
    shapes_known: bool = True
    notes: tuple[str, ...] = ()

    @property
    def flops(self) -> float:
        return sum(p.flops for p in self.parts)

    @property
    def bytes(self) -> float:
        return sum(p.bytes for p in self.parts)


def _ints(node: onnx.NodeProto, name: str) -> list[int]:
    for a in node.attribute:
        if a.name == name:
            value = onnx.helper.get_attribute_value(a)
            return [int(value)] if isinstance(value, int) else [int(v) for v in value]
    return []


def _einsum_flops(node: onnx.NodeProto, ins: list[Tensor]) -> float | None:
    eq = next((a.s.decode() for a in node.attribute if a.name == "equation"), "")
    terms = eq.replace(" ", "").split("->")[0].split(",")
    if "." in eq or len(terms) != len(ins) or any(t.shape is None for t in ins):
        return None
    sizes: dict[str, int] = {}
    for term, t in zip(terms, ins, strict=True):
        sizes.update(zip(term, t.shape or (), strict=False))
    return (2.0 if len(ins) > 1 else 1.0) * math.prod(sizes.values())


def _flops(node: onnx.NodeProto, kind: opmap.Kind, ins: list[Tensor], out: int) -> float | None:
    op, shape0, shape1 = node.op_type, ins[0].shape, ins[1].shape if len(ins) > 1 else None
    if kind in ("movement", "view"):
        return 0.0
    if op in ("Conv", "ConvTranspose"):
        if shape1 is None or shape0 is None:
            return None
        per = math.prod(shape1[1:])
        return 2.0 * (out if op == "Conv" else math.prod(shape0)) * per
    if op == "Gemm":
        k = None if shape0 is None else shape0[0 if _ints(node, "transA") == [1] else 1]
        return None if k is None else 2.0 * out * k
    if op == "MatMul":
        return None if shape0 is None else 2.0 * out * shape0[-1]
    if op in ("MaxPool", "AveragePool"):
        return float(out * math.prod(_ints(node, "kernel_shape") or [1]))
    if kind == "reduction" and op not in FLOPS_PER_ELEMENT:
        return None if ins[0].numel is None else float(ins[0].numel)
    if op == "Einsum":
        return _einsum_flops(node, ins)
    return out * FLOPS_PER_ELEMENT.get(op, 1.0)


def _name(template: str, node: onnx.NodeProto, ins: list[Tensor]) -> str:
    rank = len(_ints(node, "kernel_shape")) or (
        len(ins[1].shape) - 2 if len(ins) > 1 and ins[1].shape else 2
    )
    if node.op_type in ("MaxPool", "AveragePool") and not _ints(node, "kernel_shape"):
        rank = 2
    if node.op_type == "MatMul" and len(ins) > 1 and ins[1].shape and len(ins[1].shape) > 2:
        return "batch_matmul"
    return template.format(n=rank)


def node_cost(node: onnx.NodeProto, tensors: TensorTable) -> NodeCost:
    """FLOPs and bytes of one node, split into Relay-operator parts."""
    qualified = (
        node.op_type if opmap.is_onnx_domain(node.domain) else f"{node.domain}::{node.op_type}"
    )
    ins = [tensors.get(n) or Tensor(None) for n in node.input if n]
    outs = [tensors.get(n) or Tensor(None) for n in node.output if n]
    unknown = [
        n
        for n in [*node.input, *node.output]
        if n and (tensors.get(n) or Tensor(None)).shape is None
    ]
    notes = [f"unknown shape of {', '.join(unknown)}: counted as 0 bytes"] if unknown else []
    io_bytes = float(sum(t.nbytes for t in [*ins, *outs]))
    out = outs[0].numel if outs else None
    entry = opmap.lookup(node.op_type, node.domain)
    if entry is not None and entry[1] == "recurrent":
        parts, extra = recurrent.parts(node, ins, io_bytes)
        return NodeCost(node.name, qualified, parts, not unknown, (*notes, *extra))
    kind = entry[1] if entry else "elementwise"
    flops = None if out is None else _flops(node, kind, ins or [Tensor(None)], out)
    if flops is None:
        notes.append("FLOPs not counted: shapes unknown")
        flops = 0.0
    if entry is None:
        in_elems = max((t.numel or 0 for t in ins), default=0)
        kind = opmap.classify(flops, out or 0, in_elems)
        if node.op_type != "Einsum":
            notes.append("not in the operator table: assumed 1 FLOP per output element")
        name = qualified
    else:
        name = _name(entry[0], node, ins)
    bias = node.op_type in ("Conv", "ConvTranspose", "Gemm") and len(ins) > 2
    if bias and out is not None:
        # TVM fuses the bias into the kernel's epilogue: the add reads only the bias itself
        main_bytes = io_bytes - ins[2].nbytes
        parts = (
            Part(name, kind, flops, main_bytes),
            Part("bias_add", "elementwise", float(out), float(ins[2].nbytes)),
        )
    else:
        parts = (Part(name, kind, flops, io_bytes, 0 if kind == "view" else 1),)
    return NodeCost(node.name, qualified, parts, not unknown, tuple(notes))
