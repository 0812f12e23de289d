"""The ``mix`` benchmark's models: seeded mixes of operator types on the fleet's performance model.

Every operator type has a fixed physics (:data:`OPERATOR_TYPES`): an arithmetic-intensity range
(FLOPs per byte moved) and a share of its time spent launching kernels, so a type responds alike in
every model (the paper's premise: KOP resource curves transfer across models). Names are real
ONNX operators, so the fleet's KOP logic (``operator_loads``, ``operator_curves``) applies.

A model is a *mix* (each type's share of the model's time per sample on the reference
configuration: a whole A100 at full power, batch 8) and a *size*: time per sample on the
reference, resident weights, activation memory per sample (input size) and host CPU per
request. :func:`mix_workload` turns the mix into per-operator FLOPs and bytes: a type whose
intensity is above the reference's ridge point gets its share as compute time, the others as
memory time; launches take their part.
The profile a target gives before any trial (:func:`reference_shares`) is each operator's share
of the batch time on the reference configuration, as the ONNX analysis would give it.

Sources and held-out targets come from two :class:`Family` generators (docs/mix-world.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from falcon_operator.fleet.performance import FleetModel, OperatorLoad, Workload


@dataclass(frozen=True)
class OperatorType:
    """An operator type's physics: FLOPs per byte moved and the share of its reference time
    spent launching kernels (many small kernels: launch-bound)."""

    onnx: str
    intensity: tuple[float, float]  #: FLOPs per byte, low and high end
    launch_share: float  #: share of its time on the reference spent in kernel launches
    holds_weights: bool  #: its weights are streamed once per batch (Conv, Gemm, recurrent)


#: compute-bound, medium, memory-bound, launch-bound
OPERATOR_TYPES: tuple[OperatorType, ...] = (
    OperatorType("Conv", (60.0, 200.0), 0.03, True),
    OperatorType("Gemm", (15.0, 50.0), 0.03, True),
    OperatorType("MatMul", (4.0, 16.0), 0.05, False),
    OperatorType("Gather", (0.05, 0.3), 0.02, False),
    OperatorType("LSTM", (1.0, 4.0), 0.6, True),
    OperatorType("Softmax", (0.3, 1.5), 0.15, False),
)
TYPE_NAMES = tuple(t.onnx for t in OPERATOR_TYPES)

#: the configuration the mix and the profile refer to: a whole A100 at full power, batch 8
REFERENCE_GPU, REFERENCE_BATCH, REFERENCE_POWER = "A100", 8, 1.0


@dataclass(frozen=True)
class MixModel:
    """A generated model: its mix (share of reference time per type) and its size."""

    name: str
    mix: Mapping[str, float]
    ms_per_sample: float  #: GPU time per sample on the reference configuration
    weight_mb: float  #: resident weights (embedding tables included)
    activation_mb: float  #: activation memory per sample (grows with the input size)
    cpu_ms: float  #: host work per request on one core (pre-processing, deserialising)
    intensity: Mapping[str, float]  #: each type's FLOPs per byte in this model


@dataclass(frozen=True)
class Family:
    """A part of the mix space: Dirichlet concentrations per type and log-uniform size ranges."""

    alpha: Mapping[str, float]
    ms_per_sample: tuple[float, float]
    weight_mb: tuple[float, float]
    activation_mb: tuple[float, float]
    cpu_ms: tuple[float, float]


#: sources: Conv/Gemm/MatMul-heavy models of moderate size (CNNs, transformers, MLPs)
SOURCE_FAMILY = Family(
    alpha={"Conv": 3.0, "Gemm": 2.0, "MatMul": 2.0, "Gather": 0.3, "LSTM": 0.3, "Softmax": 1.0},
    ms_per_sample=(0.05, 0.5),
    weight_mb=(20.0, 400.0),
    activation_mb=(1.0, 12.0),
    cpu_ms=(0.3, 1.2),
)

#: held-out: dominated by the types that are minor in the sources, with extreme sizes
TARGET_FAMILY = Family(
    alpha={"Conv": 0.4, "Gemm": 0.4, "MatMul": 0.6, "Gather": 2.0, "LSTM": 2.0, "Softmax": 1.5},
    ms_per_sample=(0.01, 3.0),
    weight_mb=(5.0, 6000.0),
    activation_mb=(0.2, 60.0),
    cpu_ms=(0.2, 6.0),
)


def _log_uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(np.exp(rng.uniform(np.log(bounds[0]), np.log(bounds[1]))))


def draw_model(name: str, family: Family, rng: np.random.Generator) -> MixModel:
    """One model of ``family`` (the draws happen in a fixed order, so a seed fixes the model)."""
    shares = rng.dirichlet([family.alpha[t] for t in TYPE_NAMES])
    intensity = {t.onnx: _log_uniform(rng, t.intensity) for t in OPERATOR_TYPES}
    return MixModel(
        name,
        {t: float(s) for t, s in zip(TYPE_NAMES, shares, strict=True)},
        _log_uniform(rng, family.ms_per_sample),
        _log_uniform(rng, family.weight_mb),
        _log_uniform(rng, family.activation_mb),
        _log_uniform(rng, family.cpu_ms),
        intensity,
    )


def mix_workload(m: MixModel, model: FleetModel) -> Workload:
    """Per-operator FLOPs and bytes per sample that give ``m``'s mix on the reference."""
    st = model.settings
    sl = model.catalog.slice(REFERENCE_GPU)
    batch = REFERENCE_BATCH
    eff = batch / (batch + st.batch_half_efficiency)
    peak = sl.gpu.fp32_tflops * 1e12 * st.compute_utilisation * eff
    bandwidth = sl.gpu.bandwidth_gbs * 1e9
    ridge = peak / bandwidth
    streamed = sum(m.mix[t.onnx] for t in OPERATOR_TYPES if t.holds_weights) or 1.0
    ops: list[OperatorLoad] = []
    for t in OPERATOR_TYPES:
        share = m.mix[t.onnx]
        if share < 1e-3:
            continue
        seconds = share * m.ms_per_sample / 1e3
        kernels = max(1, round(t.launch_share * seconds * batch / st.launch_seconds))
        work = max(seconds - kernels * st.launch_seconds / batch, 0.1 * seconds)
        a = m.intensity[t.onnx]
        flops, moved = (
            (work * peak, work * peak / a)
            if a > ridge
            else (work * bandwidth * a, work * bandwidth)
        )
        # dense weights are streamed once per batch; an embedding table (Gather) is only looked up
        dense = m.weight_mb * 1e6 * (1.0 - m.mix["Gather"])
        weights = dense * share / streamed if t.holds_weights else 0.0
        ops.append(OperatorLoad(t.onnx, flops, moved, weights, kernels))
    return Workload(m.name, ops, m.weight_mb * 1e6, m.activation_mb * 1e6, m.cpu_ms / 1e3)


def reference_shares(w: Workload, model: FleetModel) -> dict[str, float]:
    """Each operator's share of the batch time on the reference (the target's profile)."""
    sl = model.catalog.slice(REFERENCE_GPU)
    times = {
        op.operator: model.batch_seconds(
            Workload(op.operator, (op,), 0.0, 0.0), sl, REFERENCE_BATCH,
            REFERENCE_POWER,
        )
        for op in w.operators
    }  # fmt: skip
    total = sum(times.values()) or 1.0
    return {op: t / total for op, t in sorted(times.items(), key=lambda kv: -kv[1])}


def profile_distance(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """L1 distance of two operator profiles (0 = the same mix, 2 = disjoint)."""
    return float(sum(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in set(a) | set(b)))
