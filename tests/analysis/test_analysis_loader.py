"""load_model: good files load with inferred shapes; every bad input is a one-line ModelError."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto
from onnx import helper as oh
from onnx_single import single_op

from falcon_operator.analysis import ModelError, load_model, profile_model
from falcon_operator.analysis.zoo import resnet_cnn
from falcon_operator.core.errors import FalconError

SHIPPED = (
    Path(__file__).resolve().parents[2] / "operator/falcon_operator/data/models/resnet-mini.onnx"
)


def _save(model: onnx.ModelProto, path: Path) -> Path:
    path.write_bytes(model.SerializeToString())
    return path


def test_shipped_model_loads_with_inferred_shapes_and_dynamic_batch() -> None:
    assert SHIPPED.stat().st_size < 1 << 20
    model = load_model(SHIPPED)
    assert model.graph.value_info  # shape inference ran
    first = model.graph.input[0].type.tensor_type.shape.dim[0]
    assert first.dim_param == "N"


def test_shipped_model_is_what_the_zoo_builds() -> None:
    assert SHIPPED.read_bytes() == resnet_cnn().SerializeToString(deterministic=True)


@pytest.mark.parametrize("batch_dim", ["N", 0, -1, None])
def test_dynamic_batch_forms_are_accepted(batch_dim: str | int | None) -> None:
    m = single_op("Relu", {"x": [batch_dim, 4]}, [batch_dim, 4])
    profile = profile_model(m, batch_size=3)
    assert profile.dynamic_batch and profile.total_flops == 12


def _no_inputs() -> onnx.ModelProto:
    w = oh.make_tensor("w", TensorProto.FLOAT, [2], [1.0, 2.0])
    node = oh.make_node("Relu", ["w"], ["y"])
    y = oh.make_tensor_value_info("y", TensorProto.FLOAT, [2])
    graph = oh.make_graph([node], "g", [], [y], [w])
    return oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)])


def _dangling_input() -> onnx.ModelProto:
    m = single_op("Relu", {"x": ["N", 4]}, ["N", 4])
    m.graph.node[0].input[0] = "nowhere"
    return m


def _no_nodes() -> onnx.ModelProto:
    m = single_op("Relu", {"x": ["N", 4]}, ["N", 4])
    del m.graph.node[:]
    return m


def _opset(version: int) -> onnx.ModelProto:
    m = single_op("Relu", {"x": ["N", 4]}, ["N", 4])
    m.opset_import[0].version = version
    return m


CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "missing": (lambda p: p / "absent.onnx", "no such model file"),
    "directory": (lambda p: p, "is a directory"),
    "empty": (lambda p: _write(p / "e.onnx", b""), "empty file"),
    "garbage": (lambda p: _write(p / "g.onnx", b"\xff\x13garbage" * 50), "not an ONNX model"),
    "text": (lambda p: _write(p / "t.onnx", b"just some text\n"), "ONNX"),
    "truncated": (
        lambda p: _write(p / "c.onnx", resnet_cnn().SerializeToString()[:5000]),
        "not an ONNX model",
    ),
    "no inputs": (lambda p: _save(_no_inputs(), p / "n.onnx"), "no inputs"),
    "no nodes": (lambda p: _save(_no_nodes(), p / "nn.onnx"), "no nodes"),
    "dangling": (lambda p: _save(_dangling_input(), p / "d.onnx"), "invalid ONNX model"),
    "old opset": (lambda p: _save(_opset(5), p / "o.onnx"), "unsupported opset 5"),
    "future opset": (lambda p: _save(_opset(99), p / "f.onnx"), "unsupported opset 99"),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_a_one_line_model_error(case: str, tmp_path: Path) -> None:
    make, expected = CASES[case]
    with pytest.raises(ModelError) as info:
        load_model(make(tmp_path))
    message = str(info.value)
    assert expected in message and "\n" not in message and len(message) < 400
    assert isinstance(info.value, FalconError) and isinstance(info.value, ValueError)


def test_bad_batch_size() -> None:
    with pytest.raises(ModelError, match="batch size"):
        profile_model(resnet_cnn(), batch_size=0)


@pytest.mark.parametrize(
    ("inputs", "output", "named"),
    [
        ({"pixels": ["N", 1 << 20, 1 << 20]}, ["N", 1 << 20, 1 << 20], "input 'pixels'"),
        ({"x": [1, 4]}, [1 << 16, 1 << 16], "output 'y'"),  # 2^32 out of a tiny input
    ],
)
def test_absurd_declared_tensor_sizes_are_refused_naming_the_tensor(
    inputs: dict[str, list[str | int]], output: list[str | int], named: str, tmp_path: Path
) -> None:
    m = single_op("Relu", inputs, output)
    with pytest.raises(ModelError) as err:
        load_model(_save(m, tmp_path / "huge.onnx"))
    text = str(err.value)
    assert named in text and "over the limit of 2,147,483,648 (2^31)" in text
    assert "\n" not in text


def test_the_batch_dimension_does_not_count_and_2_to_the_31_passes(tmp_path: Path) -> None:
    m = single_op("Relu", {"x": ["N", 1 << 16, 1 << 15]}, ["N", 1 << 16, 1 << 15])
    from falcon_operator.analysis.loader import check_tensor_sizes

    check_tensor_sizes(m)  # exactly 2^31 elements per request: allowed


def test_an_absurd_intermediate_tensor_is_refused_naming_it(tmp_path: Path) -> None:
    """Small inputs, a graph that blows them up: Expand to [2^20, 2^20], as inferred."""
    shape = oh.make_tensor("shape", TensorProto.INT64, [2], [1 << 20, 1 << 20])
    nodes = [
        oh.make_node("Expand", ["x", "shape"], ["big"]),
        oh.make_node("ReduceSum", ["big"], ["y"]),
    ]
    graph = oh.make_graph(
        nodes,
        "blowup",
        [oh.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1])],
        [oh.make_tensor_value_info("y", TensorProto.FLOAT, [])],
        initializer=[shape],
    )
    m = oh.make_model(graph, opset_imports=[oh.make_opsetid("", 13)])
    with pytest.raises(ModelError, match=r"intermediate tensor 'big' has 1,099,511,627,776"):
        load_model(_save(m, tmp_path / "blowup.onnx"))
