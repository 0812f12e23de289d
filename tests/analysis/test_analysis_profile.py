"""Model profiles of the four architectures, batch scaling, unseen operators, and the search."""

from __future__ import annotations

import json
from collections.abc import Callable

import onnx
import pytest

from falcon_operator.analysis import ModelProfile, Roofline, profile_model, zoo
from falcon_operator.knowledge.base import Knowledge


def top(profile: ModelProfile) -> str:
    return next(iter(profile.shares()))


def test_cnn_is_conv_dominated(kb_operators: list[str]) -> None:
    for batch in (1, 8):
        p = profile_model(zoo.resnet_cnn(), batch_size=batch, known_operators=kb_operators)
        assert top(p) == "conv2d" and p.kops[0] == "conv2d"
        assert p.rows[0].operator == "conv2d" and p.rows[0].is_kop
        assert {"batch_norm", "relu", "add"} <= set(p.shares())


def test_encoder_is_matmul_dominated(kb_operators: list[str]) -> None:
    p = profile_model(zoo.bert_encoder_block(), batch_size=8, known_operators=kb_operators)
    assert p.kops[0] == "dense"
    raw = profile_model(zoo.bert_encoder_block(), batch_size=8)  # no knowledge: table names
    assert top(raw) in ("dense", "batch_matmul")
    assert "batch_matmul" in raw.shares() and "softmax" in raw.shares()
    # the knowledge base has no batch_matmul / softmax: counted as dense / add, and reported
    assert p.unseen["batch_matmul"] == "dense" and p.unseen["softmax"] == "add"
    assert set(p.shares()) <= set(kb_operators)


@pytest.mark.parametrize("build", [zoo.lstm_model, zoo.gru_model])
def test_recurrent_models_decompose(
    build: Callable[[], onnx.ModelProto], kb_operators: list[str]
) -> None:
    p = profile_model(build(), batch_size=4, known_operators=kb_operators)
    assert {"dense", "sigmoid", "tanh", "multiply", "add"} <= set(p.shares())
    assert not p.unseen  # every part is in the knowledge base's vocabulary
    assert abs(sum(p.shares().values()) - 1) < 1e-9


def test_mlp_recommender(kb_operators: list[str]) -> None:
    p = profile_model(zoo.mlp_recommender(), batch_size=64, known_operators=kb_operators)
    assert p.kops[0] == "dense"
    assert {"concatenate", "relu", "sigmoid"} <= set(p.shares())
    assert "take" in p.unseen  # the embedding Gather


@pytest.mark.parametrize(
    "build", [zoo.resnet_cnn, zoo.bert_encoder_block, zoo.lstm_model, zoo.mlp_recommender]
)
def test_flops_scale_linearly_with_batch(build: Callable[[], onnx.ModelProto]) -> None:
    one = profile_model(build(), batch_size=1)
    four = profile_model(build(), batch_size=4)
    assert four.total_flops == pytest.approx(4 * one.total_flops)
    assert four.batch_size == 4 and one.dynamic_batch and not one.warnings


def test_unseen_ops_are_mapped_and_flagged() -> None:
    p = profile_model(zoo.unseen_op_model(), batch_size=2, known_operators={"dense", "add"})
    assert p.unseen == {
        "Einsum": "dense",  # 2·b·i·j·k FLOPs: matmul-like
        "com.example::FancySwish": "add",  # element-wise
        "softmax": "add",
    }
    rows = {r.operator: r for r in p.rows}
    assert rows["Einsum"].unseen and rows["Einsum"].flops == 2 * 2 * 16 * 32 * 128
    assert set(p.shares()) == {"dense", "add"}
    custom = next(n for n in p.nodes if n.onnx_op == "com.example::FancySwish")
    assert any("not in the operator table" in note for note in custom.notes)


def test_no_known_operator_of_a_class_is_reported() -> None:
    p = profile_model(zoo.unseen_op_model(), known_operators={"dense"})
    assert p.unseen["softmax"] is None
    assert any("no known operator" in w for w in p.warnings)


def test_fixed_batch_is_reported() -> None:
    from onnx_single import single_op

    p = profile_model(single_op("Relu", {"x": [2, 4]}, [2, 4]), batch_size=8)
    assert p.total_flops == 8 and not p.dynamic_batch
    assert any("fixed" in w for w in p.warnings)


def test_kop_threshold_and_roofline() -> None:
    model = zoo.resnet_cnn()
    one = profile_model(model, kop_threshold=0.2)
    assert one.kops == ("conv2d",)
    # memory-bound everywhere and no launch cost: shares are shares of the bytes kernels move
    slow = profile_model(model, roofline=Roofline(bandwidth=1e9, launch_overhead=0))
    kernel_bytes = {r.operator: r.bytes for r in slow.rows if r.est_time > 0}
    total = sum(kernel_bytes.values())
    for r in slow.rows:
        assert r.share == pytest.approx(kernel_bytes.get(r.operator, 0.0) / total)


def test_json_round_trip() -> None:
    p = profile_model(zoo.lstm_model(), batch_size=2)
    d = json.loads(p.to_json(include_nodes=True))
    assert d["batch_size"] == 2 and d["kops"] == list(p.kops)
    assert d["operators"][0]["operator"] == p.rows[0].operator
    assert sum(d["shares"].values()) == pytest.approx(1)
    assert {n["onnx_op"] for n in d["nodes"]} >= {"LSTM", "Gemm"}


def test_shares_drive_a_prior(kb_operators: list[str]) -> None:
    from falcon_operator.knowledge.dataset import FalconDataset, default_data_dir
    from falcon_operator.knowledge.prior import Prior

    kb: Knowledge = FalconDataset(default_data_dir()).knowledge()
    p = profile_model(zoo.bert_encoder_block(), batch_size=8, known_operators=kb.operators)
    assert kb.space is not None
    prior = Prior(kb, kb.space, profile=p.shares())
    assert prior.kops == list(p.kops) and not prior.unseen
