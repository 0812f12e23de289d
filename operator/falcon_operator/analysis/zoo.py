"""Small, deterministic ONNX models of the four architectures Falcon serves, built with
``onnx.helper``: a ResNet-style CNN, a BERT-style encoder block, GRU/LSTM sequence models and an
MLP recommender, plus a model with ops outside the operator table. Tests and the shipped demo
model (``data/models/make_models.py``) share them. Weights come from a seeded numpy generator;
every model has a symbolic batch dimension ``N``.
"""

from __future__ import annotations

import onnx
from onnx import TensorProto
from onnx import helper as oh

from falcon_operator.analysis.builder import GraphBuilder, value_info


def _conv_bn(
    g: GraphBuilder,
    x: str,
    name: str,
    cin: int,
    cout: int,
    *,
    k: int = 3,
    stride: int = 1,
    relu: bool = True,
) -> str:
    w = g.weight(f"{name}.w", cout, cin, k, k)
    y = g.op(
        "Conv", [x, w], f"{name}.conv", kernel_shape=[k, k], pads=[k // 2] * 4, strides=[stride] * 2
    )
    bn = [g.weight(f"{name}.{p}", cout, scale=0.1) for p in ("gamma", "beta", "mean")]
    var = g.const(f"{name}.var", [1.0] * cout)
    y = g.op("BatchNormalization", [y, *bn, var], f"{name}.bn")
    return g.op("Relu", [y], f"{name}.relu") if relu else y


def resnet_cnn(
    *, width: int = 32, image: int = 64, classes: int = 10, seed: int = 0
) -> onnx.ModelProto:
    """ResNet-style CNN: stem, two residual stages (the second strided), global pool, Gemm."""
    g = GraphBuilder("resnet-mini", seed=seed)
    x = _conv_bn(g, "input", "stem", 3, width)
    cin = width
    for stage, (cout, stride) in enumerate([(width, 1), (2 * width, 2)]):
        y = _conv_bn(g, x, f"s{stage}.a", cin, cout, stride=stride)
        y = _conv_bn(g, y, f"s{stage}.b", cout, cout, relu=False)
        short = (
            x
            if stride == 1 and cin == cout
            else _conv_bn(g, x, f"s{stage}.down", cin, cout, k=1, stride=stride, relu=False)
        )
        x = g.op("Relu", [g.op("Add", [y, short], f"s{stage}.add")], f"s{stage}.out")
        cin = cout
    x = g.op("Flatten", [g.op("GlobalAveragePool", [x], "pool")], "flat")
    x = g.op(
        "Gemm", [x, g.weight("fc.w", classes, cin), g.weight("fc.b", classes)], "logits", transB=1
    )
    return g.model(
        [value_info("input", "N", 3, image, image)], [value_info("logits", "N", classes)]
    )


def bert_encoder_block(
    *, seq: int = 128, hidden: int = 768, heads: int = 12, ffn: int = 3072, seed: int = 0
) -> onnx.ModelProto:
    """One BERT-style encoder layer (BERT-base sizes by default, ~28 MB of weights).

    Multi-head self-attention (MatMul projections, batched MatMul scores, Softmax) and a GELU
    (Erf) feed-forward, each with a residual Add and LayerNormalization.
    """
    g, dh = GraphBuilder("bert-block", seed=seed), hidden // heads

    def linear(x: str, name: str, cin: int, cout: int) -> str:
        y = g.op("MatMul", [x, g.weight(f"{name}.w", cin, cout)], f"{name}.mm")
        return g.op("Add", [y, g.weight(f"{name}.b", cout)], f"{name}.out")

    def layer_norm(x: str, name: str) -> str:
        scale, bias = g.const(f"{name}.g", [1.0] * hidden), g.const(f"{name}.b", [0.0] * hidden)
        return g.op("LayerNormalization", [x, scale, bias], name, axis=-1)

    split_heads, merge = (
        g.const("heads_shape", [0, 0, heads, dh]),
        g.const("merge_shape", [0, 0, hidden]),
    )
    q, k, v = (
        g.op("Reshape", [linear("input", n, hidden, hidden), split_heads], f"{n}.heads")
        for n in "qkv"
    )
    q = g.op("Transpose", [q], "q.t", perm=[0, 2, 1, 3])
    k = g.op("Transpose", [k], "k.t", perm=[0, 2, 3, 1])
    v = g.op("Transpose", [v], "v.t", perm=[0, 2, 1, 3])
    scores = g.op(
        "Div", [g.op("MatMul", [q, k], "scores"), g.const("sqrt_dh", [float(dh) ** 0.5])], "scaled"
    )
    ctx = g.op("MatMul", [g.op("Softmax", [scores], "probs", axis=-1), v], "ctx")
    ctx = g.op(
        "Reshape", [g.op("Transpose", [ctx], "ctx.t", perm=[0, 2, 1, 3]), merge], "ctx.merged"
    )
    x = layer_norm(g.op("Add", [linear(ctx, "attn_out", hidden, hidden), "input"], "res1"), "ln1")
    h = linear(x, "ffn1", hidden, ffn)
    erf = g.op("Erf", [g.op("Div", [h, g.const("sqrt2", [2.0**0.5])], "gelu.div")], "gelu.erf")
    gelu = g.op(
        "Mul",
        [
            g.op("Mul", [h, g.const("half", [0.5])], "gelu.half"),
            g.op("Add", [erf, g.const("one", [1.0])], "gelu.add"),
        ],
        "gelu",
    )
    y = layer_norm(g.op("Add", [linear(gelu, "ffn2", ffn, hidden), x], "res2"), "output")
    return g.model([value_info("input", "N", seq, hidden)], [value_info(y, "N", seq, hidden)])


def _recurrent(
    cell: str, *, seq: int, features: int, hidden: int, classes: int, seed: int
) -> onnx.ModelProto:
    g, gates = GraphBuilder(f"{cell.lower()}-model", seed=seed), {"LSTM": 4, "GRU": 3}[cell]
    x = g.op("Transpose", ["input"], "time_major", perm=[1, 0, 2])
    w, r = g.weight("w", 1, gates * hidden, features), g.weight("r", 1, gates * hidden, hidden)
    b = g.weight("b", 1, 2 * gates * hidden)
    g.nodes.append(
        oh.make_node(cell, [x, w, r, b], ["y", "h_last"], name="rnn", hidden_size=hidden)
    )
    h = g.op("Squeeze", ["h_last", g.const("axis0", [0])], "h")
    y = g.op(
        "Gemm",
        [h, g.weight("fc.w", classes, hidden), g.weight("fc.b", classes)],
        "logits",
        transB=1,
    )
    return g.model([value_info("input", "N", seq, features)], [value_info(y, "N", classes)])


def lstm_model(
    *, seq: int = 16, features: int = 32, hidden: int = 64, classes: int = 8, seed: int = 0
) -> onnx.ModelProto:
    """Batch-first sequence classifier: Transpose to time-major, one LSTM layer, Gemm head."""
    return _recurrent("LSTM", seq=seq, features=features, hidden=hidden, classes=classes, seed=seed)


def gru_model(
    *, seq: int = 16, features: int = 32, hidden: int = 64, classes: int = 8, seed: int = 0
) -> onnx.ModelProto:
    """As :func:`lstm_model`, with a GRU layer."""
    return _recurrent("GRU", seq=seq, features=features, hidden=hidden, classes=classes, seed=seed)


def mlp_recommender(
    *, dense: int = 13, fields: int = 8, vocab: int = 1000, embed: int = 16, seed: int = 0
) -> onnx.ModelProto:
    """DLRM-style recommender: embedding lookups + dense features, concatenated, into an MLP."""
    g = GraphBuilder("mlp-recommender", seed=seed)
    emb = g.op("Gather", [g.weight("embedding", vocab, embed), "ids"], "emb", axis=0)
    x = g.op("Concat", [g.op("Flatten", [emb], "emb.flat"), "dense"], "features", axis=1)
    cin = fields * embed + dense
    for i, cout in enumerate([256, 128, 1]):
        x = g.op("Gemm", [x, g.weight(f"fc{i}.w", cin, cout), g.weight(f"fc{i}.b", cout)], f"fc{i}")
        x = g.op("Relu" if cout > 1 else "Sigmoid", [x], f"act{i}")
        cin = cout
    inputs = [
        value_info("ids", "N", fields, elem=TensorProto.INT64),
        value_info("dense", "N", dense),
    ]
    return g.model(inputs, [value_info(x, "N", 1)])


def unseen_op_model(*, tokens: int = 16, width: int = 32, seed: int = 0) -> onnx.ModelProto:
    """Ops outside the operator table: an ``Einsum`` projection and a custom-domain activation."""
    g = GraphBuilder("unseen-ops", seed=seed)
    y = g.op("Einsum", ["input", g.weight("w", width, 4 * width)], "proj", equation="bij,jk->bik")
    g.nodes.append(oh.make_node("FancySwish", [y], ["act"], name="act", domain="com.example"))
    out = g.op("Softmax", ["act"], "output", axis=-1)
    model = g.model(
        [value_info("input", "N", tokens, width)], [value_info(out, "N", tokens, 4 * width)]
    )
    model.opset_import.append(oh.make_opsetid("com.example", 1))
    model.graph.value_info.append(value_info("act", "N", tokens, 4 * width))
    return model
