"""LSTM, GRU and RNN nodes as their dense and element-wise parts (as TVM unrolls them).

Per time step and direction, with ``E = batch·hidden`` gate elements and ``G`` gates (LSTM 4,
GRU 3, RNN 1), the input and recurrent projections are two dense ops of
``2·batch·G·hidden·input`` and ``2·batch·G·hidden·hidden`` FLOPs. The element-wise parts are:

* LSTM: add 9E (x+h projections 4E, bias 4E, c = f⊙c + i⊙g 1E), sigmoid 3E (i, f, o),
  tanh 2E (g, c), multiply 3E (f⊙c, i⊙g, o⊙tanh c);
* GRU: add 7E (z, r projections 2E, candidate 1E, bias 3E, h update 1E), subtract 1E (1 − z),
  multiply 3E (r⊙·, (1−z)⊙h̃, z⊙h), sigmoid 2E (z, r), tanh 1E (h̃);
* RNN: add 2E (projections, bias), tanh 1E.

Without a bias input the bias adds drop out. Every part runs once per step and direction, so
its kernel launches are ``instances·steps·directions``. The dense part reads the input and the
input weights once and the recurrent weights every step; an element-wise part moves 3 operands
(binary) or 2 (unary) per element. Sigmoid and tanh cost 4 and 6 FLOPs per element, as in
``costs.FLOPS_PER_ELEMENT``.
"""

from __future__ import annotations

import onnx

from falcon_operator.analysis.opmap import Kind
from falcon_operator.analysis.parts import Part
from falcon_operator.analysis.shapes import Tensor

#: per op type: gates, and (operator, gate-element multiple with bias, without bias, launches
#: per step, operands moved per element, FLOPs per element)
_STEP: dict[str, tuple[int, tuple[tuple[str, int, int, int, int, float], ...]]] = {
    "LSTM": (
        4,
        (
            ("add", 9, 5, 3, 3, 1.0),
            ("sigmoid", 3, 3, 3, 2, 4.0),
            ("tanh", 2, 2, 2, 2, 6.0),
            ("multiply", 3, 3, 3, 3, 1.0),
        ),
    ),
    "GRU": (
        3,
        (
            ("add", 7, 4, 4, 3, 1.0),
            ("subtract", 1, 1, 1, 3, 1.0),
            ("multiply", 3, 3, 3, 3, 1.0),
            ("sigmoid", 2, 2, 2, 2, 4.0),
            ("tanh", 1, 1, 1, 2, 6.0),
        ),
    ),
    "RNN": (1, (("add", 2, 1, 2, 3, 1.0), ("tanh", 1, 1, 1, 2, 6.0))),
}


def _layout(node: onnx.NodeProto) -> int:
    return next((int(a.i) for a in node.attribute if a.name == "layout"), 0)


def parts(
    node: onnx.NodeProto, ins: list[Tensor], io_bytes: float
) -> tuple[tuple[Part, ...], list[str]]:
    """The parts of an LSTM/GRU/RNN node, and notes (unknown shapes)."""
    gates, step = _STEP[node.op_type]
    x, w, r = (ins + [Tensor(None)] * 3)[:3]
    if x.shape is None or w.shape is None or r.shape is None or len(x.shape) != 3:
        return (Part("dense", "matmul", 0.0, io_bytes, 1),), ["FLOPs not counted: shapes unknown"]
    steps, batch = (x.shape[1], x.shape[0]) if _layout(node) == 1 else x.shape[:2]
    dirs, hidden, inputs = w.shape[0], r.shape[2], x.shape[2]
    has_bias = len(ins) > 3 and node.input[3] != ""
    size, reps = x.itemsize, steps * dirs
    elems = batch * hidden
    dense_flops = 2.0 * batch * gates * hidden * (inputs + hidden) * reps
    dense_bytes = float(x.nbytes + w.nbytes + r.nbytes * steps)
    dense_bytes += 2.0 * batch * gates * hidden * size * reps  # gate pre-activations out
    out: list[Part] = [Part("dense", "matmul", dense_flops, dense_bytes, 2 * reps)]
    kind: Kind = "elementwise"
    for name, with_b, without_b, launches, operands, per in step:
        n = (with_b if has_bias else without_b) * elems * reps
        out.append(Part(name, kind, n * per, float(n * operands * size), launches * reps))
    return tuple(out), []
