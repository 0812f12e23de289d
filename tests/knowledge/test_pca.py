"""Tests for PCA pruning of redundant resource curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import falcon_operator
from falcon_operator.core.errors import KnowledgeError
from falcon_operator.knowledge.curves import (
    Curve,
    load_model_operator_curves,
    load_operator_curves,
)
from falcon_operator.knowledge.pca import pca_components, prune_redundant_curves

DATA = Path(falcon_operator.__file__).parent / "data/falcon"
GPUS = ("M60", "K80", "T4", "V100")


def grid_curve(pair: str, values: np.ndarray, *, operator: str = "conv2d") -> Curve:
    """A cpus (1..5) x gputype curve; ``values`` has one entry per cell, cpus-major."""
    cells = [(float(c), g) for c in range(1, 6) for g in GPUS]
    points = tuple((c, g, float(v)) for (c, g), v in zip(cells, values, strict=True))
    return Curve(operator, pair, "cpus", "gputype", points)


@pytest.fixture
def family() -> list[Curve]:
    rng = np.random.default_rng(3)
    a, b = rng.uniform(size=20), rng.uniform(size=20)
    return [
        grid_curve("CPU-GPU", a),
        grid_curve("cores-instance__", a.copy()),
        grid_curve("cpu-power", 3 * a + 0.5),
        grid_curve("network-RAM", b),
    ]


def test_pca_components() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 1))
    assert pca_components(np.hstack([x, 2 * x, -x]), pca_cutoff=0.99) == 1
    assert pca_components(rng.normal(size=(50, 3)), pca_cutoff=0.99) == 3
    assert pca_components(rng.normal(size=(50, 3)), pca_cutoff=0.3) == 1
    assert pca_components(np.ones((5, 2)), pca_cutoff=0.99) == 0
    for bad in (0.0, 1.5):
        with pytest.raises(KnowledgeError):
            pca_components(x, pca_cutoff=bad)


def test_copies_are_pruned_and_named(family: list[Curve]) -> None:
    result = prune_redundant_curves(family)
    assert [c.pair for c in result.kept] == ["CPU-GPU", "network-RAM"]
    assert [(c.pair, why) for c, why in result.pruned] == [
        ("cores-instance__", "explained by CPU-GPU (r=1.000)"),
        ("cpu-power", "explained by CPU-GPU (r=1.000)"),
    ]
    assert result.n_components == (
        ("conv2d: CPU-GPU, cores-instance__, cpu-power, network-RAM", 2),
    )


def test_deterministic_and_order_respecting(family: list[Curve]) -> None:
    assert prune_redundant_curves(family) == prune_redundant_curves(family)
    result = prune_redundant_curves(family[::-1])
    assert [c.pair for c in result.kept] == ["network-RAM", "cpu-power"]
    assert {c.pair for c, _ in result.pruned} == {"cores-instance__", "CPU-GPU"}


def test_constant_singletons_and_groups(family: list[Curve]) -> None:
    flat = grid_curve("CPU-GPU", np.full(20, 0.4), operator="dense")
    other = grid_curve("CPU-GPU", np.linspace(0, 1, 20), operator="dense")
    lone = grid_curve("CPU-GPU", np.linspace(0, 1, 20), operator="relu")  # another operator
    small = Curve("conv2d", "CPU-GPU", "cpus", "gputype", ((1, "T4", 0.1), (2, "T4", 0.9)))
    result = prune_redundant_curves([*family, flat, other, lone, small])
    assert [(c.operator, why) for c, why in result.pruned if c.operator == "dense"] == [
        ("dense", "constant")
    ]
    kept = {(c.operator, c.pair) for c in result.kept}
    assert {("dense", "CPU-GPU"), ("relu", "CPU-GPU")} <= kept
    assert small in result.kept  # different grid -> its own group
    assert prune_redundant_curves([flat]).kept == (flat,)
    with pytest.raises(KnowledgeError):
        prune_redundant_curves(family, pca_cutoff=0.0)


def test_relabelled_copy_over_other_knobs_is_grouped() -> None:
    values = np.random.default_rng(5).uniform(size=20)
    gpu = grid_curve("CPUcores-GPU", values)
    mem_points = tuple(
        (c, {"M60": 0.8, "K80": 1.2, "T4": 1.6, "V100": 2.4}[str(g)], v) for c, g, v in gpu.points
    )
    mem = Curve("conv2d", "CPUcores-GPUmem", "cpus", "gpumem", mem_points)
    assert gpu.grid() == mem.grid()
    result = prune_redundant_curves([gpu, mem])
    assert result.kept == (gpu,) and result.pruned == (
        (mem, "explained by CPUcores-GPU (r=1.000)"),
    )


def test_bert_large_gpumem_curves_are_copies_and_pruned() -> None:
    curves = load_model_operator_curves(DATA / "models/model-operator/bert-large")
    by_key = {(c.operator, c.pair): c for c in curves}
    for op in ("transpose", "dense", "add"):  # the data really are relabelled copies
        gpu, mem = by_key[(op, "CPUcores-GPU")], by_key[(op, "CPUcores-GPUmem")]
        assert gpu.grid() == mem.grid()
        assert np.abs(gpu.cell_values() - mem.cell_values()).max() < 1e-3
    result = prune_redundant_curves(curves)
    assert sorted((c.operator, c.pair, why) for c, why in result.pruned) == [
        (op, "CPUcores-GPUmem", "explained by CPUcores-GPU (r=1.000)")
        for op in ("add", "dense", "transpose")
    ]
    assert len(result.kept) == 9


def test_real_operator_folder_prunes_rounded_copies() -> None:
    curves = load_operator_curves(DATA / "operators")
    result = prune_redundant_curves(curves)
    assert len(result.kept) + len(result.pruned) == len(curves) == 120
    # batchsize-GPU, GPU-POWER and batchsize-power hold the same table (one rounded to 3 digits)
    # for most operators; where they do, exactly one of the three survives
    trio = ("batchsize-GPU", "GPU-POWER", "batchsize-power")
    copies = 0
    for op in {c.operator for c in curves}:
        three = [next(c for c in curves if (c.operator, c.pair) == (op, p)) for p in trio]
        if max(np.abs(three[0].cell_values() - c.cell_values()).max() for c in three) < 1e-3:
            copies += 1
            assert sum(c in result.kept for c in three) == 1
    assert copies >= 10
    # CPU-batchsize is the only 5x6 grid: never compared with anything, always kept
    assert sum(c.pair == "CPU-batchsize" for c in result.kept) == 15
