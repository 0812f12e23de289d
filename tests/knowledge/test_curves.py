"""Tests for KOP resource curves: response model, shape classification, loaders."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import falcon_operator
from falcon_operator.core.errors import DataError, KnowledgeError
from falcon_operator.knowledge.curves import (
    GPU_CODES,
    KNOB_PAIRS,
    Curve,
    Shape,
    canonical_operator,
    classify_shape,
    load_curve_file,
    load_model_operator_curves,
    load_operator_curves,
    shape_statistics,
)

DATA = Path(falcon_operator.__file__).parent / "data/falcon"
BATCHES = (4.0, 8.0, 16.0, 32.0, 64.0, 128.0)


def synthetic(
    fn: Callable[[float], float], *, noise: float = 0.0, seed: int = 0, levels: int = 3
) -> Curve:
    """A batchsize x gputype curve with y = fn(rank of batchsize scaled to [0, 1]) per level."""
    rng = np.random.default_rng(seed)
    points = [
        (b, GPU_CODES[g + 1], fn(i / 5) + float(rng.normal(0, noise)))
        for g in range(levels)
        for i, b in enumerate(BATCHES)
    ]
    return Curve("conv2d", "batchsize-GPU", "batchsize", "gputype", tuple(points))


SHAPES: list[tuple[Callable[[float], float], Shape]] = [
    (lambda x: x, Shape.SLOPE),
    (lambda x: 1 - x, Shape.SLOPE),
    (lambda x: x * x, Shape.CONVEX),
    (np.sqrt, Shape.CONCAVE),
    (lambda x: 0.5, Shape.PLANE),
    (lambda x: 0.05 * x, Shape.PLANE),
]


@pytest.mark.parametrize(("fn", "shape"), SHAPES)
def test_classify_synthetic_exact(fn: Callable[[float], float], shape: Shape) -> None:
    assert classify_shape(synthetic(fn)) is shape


@pytest.mark.parametrize(("fn", "shape"), SHAPES[:4])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_classify_synthetic_noisy(fn: Callable[[float], float], shape: Shape, seed: int) -> None:
    assert classify_shape(synthetic(fn, noise=0.02, seed=seed)) is shape


def test_shape_statistics_and_tolerances() -> None:
    amplitude, curvature = shape_statistics(synthetic(lambda x: x * x))
    assert amplitude == pytest.approx(1.0) and curvature == pytest.approx(1.0)
    assert classify_shape(synthetic(lambda x: x * x), curvature_tol=1.5) is Shape.SLOPE
    assert classify_shape(synthetic(lambda x: x), plane_tol=1.5) is Shape.PLANE
    # two knob1 points per level: a line, never curved
    two = Curve("op", "CPU-GPU", "cpus", "gputype", ((1, "T4", 0.0), (2, "T4", 1.0)))
    assert shape_statistics(two) == pytest.approx((1.0, 0.0))


def test_rank_scaling_makes_geometric_ladder_even() -> None:
    # linear in log2(batchsize) is a straight line in rank space
    curve = Curve(
        "dense", "batchsize-GPU", "batchsize", "gputype",
        tuple((b, "V100", float(np.log2(b)) / 7) for b in BATCHES),
    )  # fmt: skip
    assert classify_shape(curve) is Shape.SLOPE


def curve_34() -> Curve:
    return Curve(
        "conv2d", "CPUcores-power", "cpus", "gpupower",
        ((1, 50, 0.0), (3, 50, 1.0), (1, 100, 0.5), (3, 100, 0.7), (2, 100, 0.6)),
    )  # fmt: skip


def test_value_interpolates_clamps_and_averages_unknown_levels() -> None:
    c = curve_34()
    assert c.knob2_levels == (50.0, 100.0) and c.knob1_levels == (1.0, 2.0, 3.0)
    assert c.value(2, 50) == pytest.approx(0.5)
    assert c.value(1.5, 100.0000001) == pytest.approx(0.55)
    assert c.value(0, 50) == 0.0 and c.value(9, 50) == 1.0
    assert c.value(2, 75) == pytest.approx((0.5 + 0.6) / 2)
    assert c.value(2, "50") == pytest.approx((0.5 + 0.6) / 2)  # text is not a numeric level


def test_gpu_levels_in_code_order_and_text_match() -> None:
    c = synthetic(lambda x: x, levels=4)
    assert c.knob2_levels == ("M60", "K80", "T4", "V100")
    assert c.value(128, "T4") == pytest.approx(1.0)
    assert c.value(4, "A100") == pytest.approx(0.0)


def test_values_equals_value_and_keeps_shape() -> None:
    rng = np.random.default_rng(7)
    for c in (curve_34(), synthetic(np.sqrt, noise=0.1, levels=4)):
        levels = [*c.knob2_levels, 75.0 if isinstance(c.knob2_levels[0], float) else "P100"]
        v1 = rng.uniform(0, 140, size=(40, 5))
        v2 = np.array([levels[i] for i in rng.integers(0, len(levels), 200)], dtype=object)
        v2 = v2.reshape(40, 5)
        fast = c.values(v1, v2)
        assert fast.shape == (40, 5)
        slow = np.array([[c.value(a, b) for a, b in zip(r1, r2, strict=True)]
                         for r1, r2 in zip(v1, v2, strict=True)])  # fmt: skip
        np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-12)
    with pytest.raises(KnowledgeError):
        c.values(np.zeros(3), np.array(["T4"]))


def test_dict_round_trip_and_validation() -> None:
    c = Curve("add", "batchsize-GPU", "batchsize", "gputype", ((4, "T4", 0.1), (8, "T4", 0.3)),
              labelled_shape=Shape.SLOPE)  # fmt: skip
    back = Curve.from_dict(json.loads(json.dumps(c.to_dict())))
    assert back == c and back.value(6, "T4") == pytest.approx(0.2)
    with pytest.raises(KnowledgeError):
        Curve.from_dict({"operator": "x"})
    with pytest.raises(KnowledgeError):
        Curve("a", "CPU-GPU", "cpus", "gputype", ())
    with pytest.raises(KnowledgeError):
        Curve("a", "CPU-GPU", "cpus", "gputype", ((1, "T4", 0.1), (1, "T4", 0.2)))


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_load_time_layout_derives_names(tmp_path: Path) -> None:
    f = _write(tmp_path / "batchsize-GPU/nn.conv2d-batchsize-instance-time.csv",
               "4,1,0.1,240,2048\n4,4,0.2,300,5120\n8,1,0.5,240,2048\n")  # fmt: skip
    c = load_curve_file(f)
    assert (c.operator, c.pair, c.knob1, c.knob2) == ("conv2d", "batchsize-GPU", "batchsize",
                                                      "gputype")  # fmt: skip
    assert c.points == ((4.0, "M60", 0.1), (4.0, "V100", 0.2), (8.0, "M60", 0.5))
    assert c.labelled_shape is None
    assert load_curve_file(f, operator="nn.dense", pair="GPU-POWER").operator == "dense"


def test_gpu_labels_may_be_text(tmp_path: Path) -> None:
    """Generated curves (the fleet benchmark) name GPUs and MIG slices by label, not code."""
    f = _write(tmp_path / "CPUcores-GPU/dense-cpus-gputype-time.csv",
               "1,A100/3g.20gb,0.2\n2,A100/3g.20gb,0.4\n1,T4,0.5\n2,T4,1\n")  # fmt: skip
    c = load_curve_file(f)
    assert (c.knob1, c.knob2) == ("cpus", "gputype")
    assert set(c.knob2_levels) == {"A100/3g.20gb", "T4"}
    assert c.value(2.0, "A100/3g.20gb") == pytest.approx(0.4)


def test_load_model_layout_derives_shape(tmp_path: Path) -> None:
    f = _write(tmp_path / "01-conv2d/03-CPUcores-power-concave.csv", "1,50,0.1\n2,50,0.3\n")
    c = load_curve_file(f)
    assert (c.operator, c.pair, c.knob2, c.labelled_shape) == (
        "conv2d", "CPUcores-power", "gpupower", Shape.CONCAVE)  # fmt: skip
    assert c.knob2_levels == (50.0,)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("CPU-GPU/add-cores-instance-time.csv", ""),
        ("CPU-GPU/add-cores-instance-time.csv", "\n\n"),
        ("CPU-GPU/add-cores-instance-time.csv", "1,1\n"),
        ("CPU-GPU/add-cores-instance-time.csv", "1,1,abc\n"),
        ("CPU-GPU/add-cores-instance-time.csv", "1,1,nan\n"),
        ("CPU-GPU/add-cores-instance-time.csv", "1,7,0.5\n"),
        ("CPU-GPU/add-cores-instance-time.csv", "1,1,0.5\n1,1,0.6\n"),
        ("unknown-pair/add-cores-instance-time.csv", "1,1,0.5\n"),
        ("CPU-GPU/whatever.csv", "1,1,0.5\n"),
        ("CPU-GPU/add-cores-instance-time.csv", "1, ,0.5\n"),
        ("CPU-GPU/add-cores-instance-time.csv", "1,inf,0.5\n"),
        ("CPUcores-power/add-cores-power-time.csv", "1,high,0.5\n"),
    ],
)
def test_bad_files_raise_data_error(tmp_path: Path, name: str, text: str) -> None:
    with pytest.raises(DataError):
        load_curve_file(_write(tmp_path / name, text))


def test_missing_inputs_raise_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError):
        load_curve_file(tmp_path / "CPU-GPU/add-cores-instance-time.csv")
    with pytest.raises(DataError):
        load_operator_curves(tmp_path / "nope")
    with pytest.raises(DataError):
        load_model_operator_curves(tmp_path / "nope")


def test_canonical_operator() -> None:
    assert canonical_operator("nn.conv2d") == "conv2d"
    assert canonical_operator(" batch_norm ") == "batch_norm"


def test_real_operator_curves_load() -> None:
    curves = load_operator_curves(DATA / "operators")
    pairs = Counter(c.pair for c in curves)
    assert set(pairs) == {p for p in KNOB_PAIRS if not p.startswith("CPUcores")}
    assert set(pairs.values()) == {15}
    assert not any(c.operator.startswith("nn.") for c in curves)
    conv = next(c for c in curves if (c.operator, c.pair) == ("conv2d", "CPU-GPU"))
    assert conv.knob2_levels == ("M60", "K80", "T4", "V100") and len(conv.points) == 20
    assert all(0.0 <= v <= 1.0 for c in curves for _, _, v in c.points)


def test_real_model_operator_curves_and_shape_agreement() -> None:
    folders = sorted(d for d in (DATA / "models/model-operator").iterdir() if d.is_dir())
    assert len(folders) == 8
    curves = [c for d in folders for c in load_model_operator_curves(d)]
    bert = load_model_operator_curves(DATA / "models/model-operator/bert-large")
    assert {c.operator for c in bert} == {"transpose", "dense", "add"} and len(bert) == 12
    labels = {c.pair: c.labelled_shape for c in curves}
    assert labels == {"batchsize-GPU": Shape.SLOPE, "CPUcores-GPU": Shape.CONVEX,
                      "CPUcores-power": Shape.CONCAVE, "CPUcores-GPUmem": Shape.CONVEX}  # fmt: skip
    shapes = [classify_shape(c) for c in curves]
    agree = sum(s is c.labelled_shape for s, c in zip(shapes, curves, strict=True))
    print(f"classify_shape agrees with the authors' label on {agree}/{len(curves)} curves")
    assert len(shapes) == len(curves) == 88
    assert all(isinstance(s, Shape) for s in shapes)
