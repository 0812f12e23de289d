"""ONNX op types -> the knowledge base's operator vocabulary (TVM Relay names), and unseen ops.

``OPERATORS`` is the one table. Each entry names the Relay operator an ONNX op becomes and its
*kind*, the arithmetic-intensity class used when the knowledge base has never seen the operator:
``matmul`` and ``conv`` (dense arithmetic), ``elementwise``, ``reduction`` (pooling, reductions,
normalisation), ``movement`` (copies: concat, slice, transpose) and ``view`` (metadata only:
reshape, squeeze; no kernel runs). A few names depend on the node: Conv/pooling take the kernel
rank (``conv1d``/``conv2d``/``conv3d``), MatMul is ``dense`` when its second operand is a matrix
(TVM's frontend folds the leading dims) and ``batch_matmul`` otherwise. LSTM/GRU/RNN are split
into their dense and element-wise parts by :mod:`falcon_operator.analysis.recurrent`.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

Kind = Literal["matmul", "conv", "elementwise", "reduction", "movement", "view", "recurrent"]

#: ONNX op type -> (Relay operator, kind); ``{n}`` is the kernel rank
OPERATORS: dict[str, tuple[str, Kind]] = {
    "Conv": ("conv{n}d", "conv"),
    "ConvTranspose": ("conv{n}d_transpose", "conv"),
    "Gemm": ("dense", "matmul"),
    "MatMul": ("dense", "matmul"),
    "LSTM": ("lstm", "recurrent"),
    "GRU": ("gru", "recurrent"),
    "RNN": ("rnn", "recurrent"),
    **{
        op: (name, "elementwise")
        for op, name in {
            "Relu": "relu",
            "LeakyRelu": "leaky_relu",
            "Sigmoid": "sigmoid",
            "Tanh": "tanh",
            "Erf": "erf",
            "Gelu": "gelu",
            "Add": "add",
            "Sub": "subtract",
            "Mul": "multiply",
            "Div": "divide",
            "Pow": "power",
            "Sqrt": "sqrt",
            "Exp": "exp",
            "Log": "log",
            "Neg": "negative",
            "Abs": "abs",
            "Clip": "clip",
            "Reciprocal": "reciprocal",
            "Where": "where",
            "Max": "maximum",
            "Min": "minimum",
            "Cast": "cast",
            "Equal": "equal",
            "Less": "less",
            "Greater": "greater",
            "Not": "logical_not",
            "HardSigmoid": "hard_sigmoid",
            "Softplus": "softplus",
            "PRelu": "prelu",
        }.items()
    },
    **{
        op: (name, "reduction")
        for op, name in {
            "Softmax": "softmax",
            "LogSoftmax": "log_softmax",
            "BatchNormalization": "batch_norm",
            "LayerNormalization": "layer_norm",
            "InstanceNormalization": "instance_norm",
            "MaxPool": "max_pool{n}d",
            "AveragePool": "avg_pool{n}d",
            "GlobalAveragePool": "global_avg_pool2d",
            "GlobalMaxPool": "global_max_pool2d",
            "ReduceMean": "mean",
            "ReduceSum": "sum",
            "ReduceMax": "max",
            "ReduceMin": "min",
            "ReduceProd": "prod",
            "ArgMax": "argmax",
        }.items()
    },
    **{
        op: (name, "movement")
        for op, name in {
            "Concat": "concatenate",
            "Split": "split",
            "Slice": "strided_slice",
            "Transpose": "transpose",
            "Gather": "take",
            "Pad": "pad",
            "Expand": "broadcast_to",
            "Tile": "tile",
            "Resize": "resize2d",
            "DepthToSpace": "depth_to_space",
        }.items()
    },
    **{
        op: (name, "view")
        for op, name in {
            "Reshape": "reshape",
            "Flatten": "batch_flatten",
            "Squeeze": "squeeze",
            "Unsqueeze": "expand_dims",
            "Identity": "identity",
            "Dropout": "dropout",
            "Constant": "constant",
            "Shape": "shape_of",
            "Size": "ndarray_size",
        }.items()
    },
}

#: where an operator the knowledge has never seen goes, by kind: the first known name wins
FALLBACKS: dict[Kind, tuple[str, ...]] = {
    "matmul": ("dense", "batch_matmul", "conv2d", "conv1d"),
    "conv": ("conv2d", "conv1d", "dense"),
    "elementwise": ("add", "multiply", "subtract", "divide", "bias_add", "relu"),
    "reduction": ("sum", "mean", "add", "multiply", "batch_norm"),
    "movement": ("transpose", "concatenate", "strided_slice", "split", "add"),
    "view": ("reshape", "transpose", "add"),
    "recurrent": ("dense",),
}

#: FLOPs per output element above which an op outside the table counts as matmul-like
MATMUL_WORK_PER_ELEMENT = 16.0


def is_onnx_domain(domain: str) -> bool:
    return domain in ("", "ai.onnx")


def lookup(op_type: str, domain: str = "") -> tuple[str, Kind] | None:
    """The table's (Relay name template, kind) for an op, or None when it is not in the table."""
    return OPERATORS.get(op_type) if is_onnx_domain(domain) else None


def table_vocabulary() -> set[str]:
    """Every Relay operator name the table can produce (kernel ranks 1-3)."""
    names = {n.format(n=r) for n, _ in OPERATORS.values() for r in (1, 2, 3)}
    return names | {"batch_matmul", "bias_add"}


def classify(flops: float, out_elements: int, in_elements: int) -> Kind:
    """Intensity class of an op outside the table, from its work per output element.

    FLOPs per byte is no guide at small batch (a batch-1 GEMM is memory-bound), so the class comes
    from FLOPs per output element: at least ``MATMUL_WORK_PER_ELEMENT`` is matmul-like; fewer
    outputs than inputs is a reduction; anything else is element-wise.
    """
    if out_elements > 0 and flops / out_elements >= MATMUL_WORK_PER_ELEMENT:
        return "matmul"
    if 0 < out_elements < in_elements:
        return "reduction"
    return "elementwise"


def fallback(kind: Kind, known: Collection[str]) -> str | None:
    """The known operator an unseen operator of ``kind`` behaves like, or None if none is known."""
    return next((name for name in FALLBACKS[kind] if name in known), None)
