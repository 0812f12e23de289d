"""Models of the simulated fleet's knowledge base and benchmark, built with ``onnx.helper`` and
deterministic weights: source models (the architectures of the test suite, at several sizes) and
held-out target models of *other* architectures.

Targets: a VGG-style plain CNN, a MobileNet-style depthwise-separable CNN, a ViT-style patch
transformer (strided-conv embedding + attention), a 1-D convolutional audio classifier and a
wide-and-deep recommender. None of them is built by :mod:`falcon_operator.analysis.zoo`.
"""

from __future__ import annotations

from collections.abc import Callable

import onnx
from onnx import TensorProto

from falcon_operator.analysis import zoo
from falcon_operator.analysis.builder import GraphBuilder, value_info

Builder = Callable[[], onnx.ModelProto]


def vgg_cnn(*, widths: tuple[int, ...] = (16, 32, 64, 64), image: int = 224) -> onnx.ModelProto:
    """Plain 3×3 conv stack (no normalisation, no shortcut), max-pool per stage, two FC layers."""
    g, x, cin, size = GraphBuilder("vgg-plain", seed=11), "input", 3, image
    for i, cout in enumerate(widths):
        for j in range(2):
            w = g.weight(f"c{i}{j}.w", cout, cin, 3, 3)
            x = g.op("Conv", [x, w, g.weight(f"c{i}{j}.b", cout)], f"c{i}{j}", pads=[1] * 4,
                     kernel_shape=[3, 3])  # fmt: skip
            x, cin = g.op("Relu", [x], f"c{i}{j}.relu"), cout
        x = g.op("MaxPool", [x], f"pool{i}", kernel_shape=[2, 2], strides=[2, 2])
        size //= 2
    x = g.op("Flatten", [g.op("GlobalAveragePool", [x], "gap")], "flat")
    for i, cout in enumerate((512, 100)):
        x = g.op("Gemm", [x, g.weight(f"fc{i}.w", cout, cin), g.weight(f"fc{i}.b", cout)],
                 f"fc{i}", transB=1)  # fmt: skip
        cin = cout
    return g.model([value_info("input", "N", 3, image, image)], [value_info(x, "N", cin)])


def mobilenet_cnn(*, width: int = 32, image: int = 224) -> onnx.ModelProto:
    """Depthwise-separable blocks (grouped 3×3 conv, BN, Clip; pointwise 1×1 conv, BN)."""
    g = GraphBuilder("mobilenet-dw", seed=12)
    x = g.op("Conv", ["input", g.weight("stem.w", width, 3, 3, 3)], "stem", pads=[1] * 4,
             strides=[2, 2], kernel_shape=[3, 3])  # fmt: skip
    cin = width

    def bn_clip(y: str, name: str, c: int) -> str:
        bn = [g.weight(f"{name}.{p}", c, scale=0.1) for p in ("gamma", "beta", "mean")]
        y = g.op("BatchNormalization", [y, *bn, g.const(f"{name}.var", [1.0] * c)], f"{name}.bn")
        return g.op("Clip", [y, g.const(f"{name}.lo", [0.0]), g.const(f"{name}.hi", [6.0])],
                    f"{name}.clip")  # fmt: skip

    for i, (cout, stride) in enumerate([(64, 1), (128, 2), (128, 1), (256, 2), (256, 1)]):
        dw = g.op("Conv", [x, g.weight(f"b{i}.dw.w", cin, 1, 3, 3)], f"b{i}.dw", group=cin,
                  pads=[1] * 4, strides=[stride] * 2, kernel_shape=[3, 3])  # fmt: skip
        x = bn_clip(dw, f"b{i}.dw", cin)
        x = bn_clip(g.op("Conv", [x, g.weight(f"b{i}.pw.w", cout, cin, 1, 1)], f"b{i}.pw"),
                    f"b{i}.pw", cout)  # fmt: skip
        cin = cout
    x = g.op("Flatten", [g.op("GlobalAveragePool", [x], "gap")], "flat")
    x = g.op("Gemm", [x, g.weight("fc.w", 1000, cin), g.weight("fc.b", 1000)], "logits", transB=1)
    return g.model([value_info("input", "N", 3, image, image)], [value_info(x, "N", 1000)])


def vit_encoder(*, image: int = 224, patch: int = 16, hidden: int = 384) -> onnx.ModelProto:
    """ViT-style: a strided-conv patch embedding, then a BERT-style encoder layer, then a head."""
    g = GraphBuilder("vit-patch", seed=13)
    tokens = (image // patch) ** 2
    x = g.op("Conv", ["input", g.weight("patch.w", hidden, 3, patch, patch)], "patch",
             strides=[patch, patch], kernel_shape=[patch, patch])  # fmt: skip
    x = g.op("Reshape", [x, g.const("flat_shape", [0, hidden, tokens])], "patch.flat")
    x = g.op("Transpose", [x], "tokens", perm=[0, 2, 1])
    block = zoo.bert_encoder_block(seq=tokens, hidden=hidden, heads=6, ffn=4 * hidden, seed=13)
    rename = {"input": x}
    for node in block.graph.node:
        node.input[:] = [rename.get(n, n) for n in node.input]
        g.nodes.append(node)
    g.weights.extend(block.graph.initializer)
    y = g.op("ReduceMean", [block.graph.output[0].name], "pooled", axes=[1], keepdims=0)
    y = g.op("Gemm", [y, g.weight("head.w", 1000, hidden), g.weight("head.b", 1000)], "logits",
             transB=1)  # fmt: skip
    return g.model([value_info("input", "N", 3, image, image)], [value_info(y, "N", 1000)])


def conv1d_audio(*, samples: int = 16000, width: int = 64) -> onnx.ModelProto:
    """Raw-audio classifier: strided 1-D convolutions with BN/ReLU, global pooling, a Gemm."""
    g, x, cin = GraphBuilder("audio-conv1d", seed=14), "input", 1
    for i, (cout, k, stride) in enumerate([(width, 80, 4), (width, 3, 1), (2 * width, 3, 2),
                                           (2 * width, 3, 1), (4 * width, 3, 2)]):  # fmt: skip
        x = g.op("Conv", [x, g.weight(f"c{i}.w", cout, cin, k), g.weight(f"c{i}.b", cout)],
                 f"c{i}", strides=[stride], kernel_shape=[k], pads=[k // 2] * 2)  # fmt: skip
        bn = [g.weight(f"c{i}.{p}", cout, scale=0.1) for p in ("gamma", "beta", "mean")]
        x = g.op("BatchNormalization", [x, *bn, g.const(f"c{i}.var", [1.0] * cout)], f"c{i}.bn")
        x, cin = g.op("Relu", [x], f"c{i}.relu"), cout
        if i in (0, 2):
            x = g.op("MaxPool", [x], f"pool{i}", kernel_shape=[4], strides=[4])
    x = g.op("Flatten", [g.op("GlobalAveragePool", [x], "gap")], "flat")
    x = g.op("Gemm", [x, g.weight("fc.w", 35, cin), g.weight("fc.b", 35)], "logits", transB=1)
    return g.model([value_info("input", "N", 1, samples)], [value_info(x, "N", 35)])


def wide_and_deep(*, fields: int = 26, vocab: int = 50_000, embed: int = 32) -> onnx.ModelProto:
    """Wide (a linear model over the one-hot ids) and deep (embeddings into an MLP) parts."""
    g = GraphBuilder("wide-deep", seed=15)
    emb = g.op("Gather", [g.weight("embedding", vocab, embed), "ids"], "emb", axis=0)
    deep = g.op("Flatten", [emb], "emb.flat")
    cin = fields * embed
    for i, cout in enumerate([1024, 512, 256]):
        deep = g.op("Gemm", [deep, g.weight(f"d{i}.w", cin, cout), g.weight(f"d{i}.b", cout)],
                    f"d{i}")  # fmt: skip
        deep, cin = g.op("Relu", [deep], f"d{i}.relu"), cout
    wide = g.op("Gather", [g.weight("wide", vocab, 1), "ids"], "wide.w", axis=0)
    wide = g.op("ReduceSum", [wide, g.const("axes12", [1, 2])], "wide.sum", keepdims=0)
    deep = g.op("Gemm", [deep, g.weight("out.w", cin, 1), g.weight("out.b", 1)], "deep.out")
    y = g.op("Sigmoid", [g.op("Add", [deep, g.op("Unsqueeze", [wide, g.const("ax1", [1])],
                                                   "wide.col")], "logit")], "prob")  # fmt: skip
    return g.model(
        [value_info("ids", "N", fields, elem=TensorProto.INT64)], [value_info(y, "N", 1)]
    )


#: source models: the test suite's architectures at several sizes
SOURCES: dict[str, Builder] = {
    "resnet-s": lambda: zoo.resnet_cnn(width=32, image=64),
    "resnet-m": lambda: zoo.resnet_cnn(width=48, image=128),
    "resnet-l": lambda: zoo.resnet_cnn(width=64, image=224),
    "bert-s": lambda: zoo.bert_encoder_block(seq=64, hidden=256, heads=4, ffn=1024),
    "bert-base": lambda: zoo.bert_encoder_block(seq=128),
    "lstm-m": lambda: zoo.lstm_model(seq=32, features=64, hidden=256),
    "gru-l": lambda: zoo.gru_model(seq=64, features=128, hidden=512),
    "mlp-rec-s": lambda: zoo.mlp_recommender(),
    "mlp-rec-l": lambda: zoo.mlp_recommender(fields=26, vocab=100_000, embed=32),
}

#: held-out targets: architectures the sources do not contain
TARGETS: dict[str, Builder] = {
    "vgg-plain": vgg_cnn,
    "mobilenet-dw": mobilenet_cnn,
    "vit-patch": vit_encoder,
    "audio-conv1d": conv1d_audio,
    "wide-deep": wide_and_deep,
}
