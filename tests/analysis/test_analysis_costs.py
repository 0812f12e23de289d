"""Hand-computed FLOPs and bytes for single nodes, and the ONNX -> Relay operator names."""

from __future__ import annotations

import onnx
import pytest
from onnx import TensorProto
from onnx_single import single_op

from falcon_operator.analysis import profile_model
from falcon_operator.analysis.costs import NodeCost


def node(model: onnx.ModelProto, *, batch_size: int = 1) -> NodeCost:
    profile = profile_model(model, batch_size=batch_size)
    assert len(profile.nodes) == 1
    return profile.nodes[0]


def test_conv_flops_bytes_and_bias_add() -> None:
    m = single_op(
        "Conv",
        {"x": ["N", 3, 8, 8]},
        ["N", 4, 8, 8],
        weights={"w": (4, 3, 3, 3), "b": (4,)},
        kernel_shape=[3, 3],
        pads=[1, 1, 1, 1],
    )
    n = node(m, batch_size=2)
    conv, bias = n.parts
    assert (conv.operator, bias.operator) == ("conv2d", "bias_add")
    assert conv.flops == 2 * 2 * 4 * 8 * 8 * 3 * 3 * 3  # 2·N·Cout·H·W·Cin·kH·kW
    assert bias.flops == 2 * 4 * 8 * 8
    # inputs + weights + outputs, 4 bytes per float32 element
    assert n.bytes == 4 * (2 * 3 * 64 + 4 * 27 + 4 + 2 * 4 * 64)


def test_grouped_conv1d() -> None:
    m = single_op("Conv", {"x": ["N", 4, 10]}, ["N", 4, 8], weights={"w": (4, 1, 3)}, group=4)
    (part,) = node(m, batch_size=3).parts
    assert part.operator == "conv1d"
    assert part.flops == 2 * 3 * 4 * 8 * (4 // 4) * 3


def test_gemm_is_dense_plus_bias_add() -> None:
    m = single_op("Gemm", {"a": ["N", 16]}, ["N", 8], weights={"b": (16, 8), "c": (8,)})
    dense, bias = node(m, batch_size=3).parts
    assert (dense.operator, dense.flops) == ("dense", 2 * 3 * 16 * 8)
    assert (bias.operator, bias.flops) == ("bias_add", 3 * 8)


def test_gemm_trans_a() -> None:
    m = single_op("Gemm", {"a": [16, 5]}, [5, 8], weights={"b": (16, 8)}, transA=1)
    (dense,) = node(m).parts
    assert dense.flops == 2 * 5 * 16 * 8


def test_matmul_with_batch_dims_is_batch_matmul() -> None:
    m = single_op("MatMul", {"a": ["N", 4, 5, 6], "b": ["N", 4, 6, 7]}, ["N", 4, 5, 7])
    (part,) = node(m, batch_size=2).parts
    assert (part.operator, part.flops) == ("batch_matmul", 2 * 2 * 4 * 5 * 7 * 6)


def test_matmul_by_a_weight_matrix_is_dense() -> None:
    m = single_op("MatMul", {"a": ["N", 5, 6]}, ["N", 5, 7], weights={"w": (6, 7)})
    (part,) = node(m, batch_size=2).parts
    assert (part.operator, part.flops) == ("dense", 2 * 2 * 5 * 7 * 6)


@pytest.mark.parametrize("direction, dirs", [("forward", 1), ("bidirectional", 2)])
def test_lstm_dense_part(direction: str, dirs: int) -> None:
    t, n, i, h = 5, 2, 3, 4
    m = single_op(
        "LSTM",
        {"x": [t, n, i]},
        [t, dirs, n, h],
        weights={"w": (dirs, 4 * h, i), "r": (dirs, 4 * h, h), "b": (dirs, 8 * h)},
        hidden_size=h,
        direction=direction,
    )
    parts = {p.operator: p for p in node(m).parts}
    # 4 gates; input (I) and recurrent (H) weights; every step, every direction
    assert parts["dense"].flops == 2 * n * 4 * h * (i + h) * t * dirs
    assert set(parts) == {"dense", "add", "sigmoid", "tanh", "multiply"}
    e = n * h * t * dirs
    assert parts["sigmoid"].flops == 3 * e * 4
    assert parts["multiply"].flops == 3 * e


def test_gru_batch_first_layout() -> None:
    t, n, i, h = 6, 3, 5, 4
    m = single_op(
        "GRU",
        {"x": ["N", t, i]},
        ["N", t, 1, h],
        weights={"w": (1, 3 * h, i), "r": (1, 3 * h, h)},
        hidden_size=h,
        layout=1,
    )
    parts = {p.operator: p for p in node(m, batch_size=n).parts}
    assert parts["dense"].flops == 2 * n * 3 * h * (i + h) * t
    assert {"subtract", "sigmoid", "tanh"} <= set(parts)


@pytest.mark.parametrize(
    "op, per_element, relay",
    [("Relu", 1, "relu"), ("Sigmoid", 4, "sigmoid"), ("Tanh", 6, "tanh"), ("Erf", 8, "erf")],
)
def test_elementwise_flops_per_element(op: str, per_element: int, relay: str) -> None:
    (part,) = node(single_op(op, {"x": ["N", 10]}, ["N", 10]), batch_size=3).parts
    assert (part.operator, part.flops, part.bytes) == (relay, 30 * per_element, 2 * 30 * 4)


def test_pooling_reduction_and_data_movement() -> None:
    pool = single_op(
        "MaxPool", {"x": [1, 2, 8, 8]}, [1, 2, 4, 4], kernel_shape=[2, 2], strides=[2, 2]
    )
    (part,) = node(pool).parts
    assert (part.operator, part.flops) == ("max_pool2d", 32 * 4)
    (gap,) = node(single_op("GlobalAveragePool", {"x": [1, 2, 8, 8]}, [1, 2, 1, 1])).parts
    assert gap.flops == 128
    (tr,) = node(single_op("Transpose", {"x": [2, 3]}, [3, 2], perm=[1, 0])).parts
    assert (tr.operator, tr.flops, tr.bytes) == ("transpose", 0, 48)


def test_dtype_sizes_are_respected() -> None:
    m = single_op("Relu", {"x": [8, 8]}, [8, 8], elem=TensorProto.FLOAT16)
    assert node(m).bytes == 2 * 64 * 2


def test_unknown_shape_counts_zero_bytes_and_says_so() -> None:
    m = single_op("Relu", {"x": ["N", "F"]}, ["N", "F"])
    n = node(m)
    assert n.bytes == 0 and n.flops == 0 and not n.shapes_known
    assert any("unknown shape" in note for note in n.notes)
