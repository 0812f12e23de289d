"""The scaling terms of ``ernest``'s performance model (search/ernest.py), over a space's knobs.

Ernest (Venkataraman et al., NSDI'16) models a job's time as a non-negative combination of
terms with a physical reading: ``θ0 + θ1·scale/machines + θ2·log(machines) + θ3·machines``.
Ours model the time of one batch of a served model (``batch / throughput``), each column a
non-negative quantity, so that a non-negative weight on it means "this much time per unit":

- ``fixed``: 1 — the per-batch overhead (request handling, kernel launches);
- with the catalog's GPU figures (a priced search): ``weights/bandwidth`` (1/W: reading the
  weights once per batch), ``batch/compute`` (b/F, F the slice's fp32 TFLOPS),
  ``batch/bandwidth`` (b/W: per-sample memory traffic, W the slice's share of the bandwidth);
  without them (the paper data's tables have no prices, hence no catalog): one
  ``batch@<gpu>`` column per GPU type (b where the configuration has that GPU, 0 elsewhere),
  i.e. each GPU's time per sample is learnt instead of read from a datasheet;
- ``batch·power slowdown``: b·(1/p − 1)/F (or b·(1/p − 1) without F), p the power cap as a
  fraction of TDP — the extra compute time of a capped clock, 0 at full power;
- ``batch/cores``: b/c — host work per request spread over the container's cores;
  ``log(cores)``: Ernest's coordination term;
- ``batch/memory``: b/M, M the MPS memory limit (or the slice's memory when unlimited; without
  a catalog an unlimited GPU's memory is unknown and the term is 0 there) — memory pressure of
  a batch's activations;
- any other knob (not one of the registry's five): its rank u ∈ [0, 1] and 1 − u for an
  ordinal knob (so either direction can cost time), a one-hot for a categorical one.

Each column is divided by its mean over the space (as Ernest's design normalises features);
columns that are 0 everywhere (power at 100 % only) are dropped.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from falcon_operator.core.catalog import Catalog
from falcon_operator.core.errors import DataError
from falcon_operator.core.knobs import BATCH, CPUS, GPU, GPU_MEMORY, POWER
from falcon_operator.core.space import Space

Array = NDArray[np.float64]
Index = NDArray[np.int64]

#: the knobs the physical terms read; any other knob gets generic columns
PHYSICAL = (BATCH, CPUS, GPU, GPU_MEMORY, POWER)


def _gpu_figures(labels: tuple[str, ...], catalog: Catalog | None) -> Array | None:
    """Per GPU label: fp32 TFLOPS, bandwidth GB/s and memory GB of the slice; None when the
    catalog is missing or does not know every label."""
    if catalog is None:
        return None
    try:
        slices = [catalog.slice(label) for label in labels]
    except DataError:
        return None
    rows = []
    for s in slices:
        share = s.memory_gb / s.gpu.memory_gb  # a MIG slice's share of memory and bandwidth
        rows.append((s.gpu.fp32_tflops * s.compute_fraction, s.gpu.bandwidth_gbs * share,
                     s.memory_gb))  # fmt: skip
    return np.array(rows, dtype=float)


class ErnestTerms:
    """The model's columns for a space, optionally with a catalog for the GPUs' figures."""

    def __init__(self, space: Space, catalog: Catalog | None = None) -> None:
        self.space = space
        self.figures: Array | None = None
        if GPU in space.names:
            self.figures = _gpu_figures(tuple(map(str, space.knob(GPU).values)), catalog)
        sample = space.all_indices() if space.size <= 200_000 else None
        if sample is None:
            sample = np.unique(np.linspace(0, space.size - 1, 200_000).astype(np.int64))
        names, raw = self._columns(sample)
        mean = raw.mean(0)
        self.keep = mean > 0
        self.scale = np.where(self.keep, mean, 1.0)
        self.names: tuple[str, ...] = tuple(n for n, k in zip(names, self.keep, strict=True) if k)

    def _values(self, codes: Index, name: str, default: float) -> Array:
        if name not in self.space.names:
            return np.full(len(codes), default)
        j = self.space.names.index(name)
        values = np.array(self.space.knobs[j].values, dtype=float)
        return np.asarray(values[codes[:, j]], dtype=float)

    def batch(self, idx: Index) -> Array:
        """The batch size of each configuration (1 in a space without a batch knob)."""
        return self._values(self.space.codes(idx), BATCH, 1.0)

    def _columns(self, idx: Index) -> tuple[list[str], Array]:
        codes = self.space.codes(idx)
        n = len(idx)
        b = self._values(codes, BATCH, 1.0)
        slow = 1.0 / (self._values(codes, POWER, 100.0) / 100.0) - 1.0
        names, cols = ["fixed"], [np.ones(n)]
        memory: Array | None = None
        if self.figures is not None:
            f, w, m = self.figures[codes[:, self.space.names.index(GPU)]].T
            names += ["weights/bandwidth", "batch/compute", "batch/bandwidth"]
            cols += [1.0 / w, b / f, b / w]
            names.append("batch·power slowdown")
            cols.append(b * slow / f)
            memory = m
        else:
            if GPU in self.space.names:
                j = self.space.names.index(GPU)
                for k, label in enumerate(self.space.knobs[j].values):
                    names.append(f"batch@{label}")
                    cols.append(np.where(codes[:, j] == k, b, 0.0))
            else:
                names.append("batch")
                cols.append(b)
            names.append("batch·power slowdown")
            cols.append(b * slow)
        if CPUS in self.space.names:
            c = self._values(codes, CPUS, 1.0)
            names += ["batch/cores", "log(cores)"]
            cols += [b / c, np.log(c)]
        if GPU_MEMORY in self.space.names:
            limit = self._values(codes, GPU_MEMORY, 0.0)
            whole = memory if memory is not None else np.full(n, np.inf)
            names.append("batch/memory")
            cols.append(b / np.where(limit > 0, limit, whole))
        for j, knob in enumerate(self.space.knobs):
            if knob.name in PHYSICAL:
                continue
            if knob.kind == "categorical":
                for k, value in enumerate(knob.values):
                    names.append(f"{knob.name}={value}")
                    cols.append((codes[:, j] == k).astype(float))
            else:
                u = codes[:, j] / max(knob.size - 1, 1)
                names += [f"{knob.name} rank", f"{knob.name} 1-rank"]
                cols += [u.astype(float), 1.0 - u]
        return names, np.column_stack(cols)

    def matrix(self, idx: Index) -> Array:
        """The normalised columns at ``idx``, shape (len(idx), len(names)), all ≥ 0."""
        _, raw = self._columns(np.asarray(idx, dtype=np.int64))
        return np.asarray(raw[:, self.keep] / self.scale[self.keep], dtype=float)
