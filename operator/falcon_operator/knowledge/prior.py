"""Priors for one model in one space, drawn from the knowledge base.

Two sources of prior knowledge, used in this order:

1. **Source tables** (when the knowledge base's tables are indexed in the search space): the mean
   over the source models, optionally re-weighted towards the sources the target resembles
   (``source_weights``). With ``compose``, one more row joins them: the target's own prediction
   composed from its operator profile and the KOP curves (knowledge/compose.py), so that the
   re-weighting can choose it when the target resembles no source.
2. **KOP resource curves** (any space whose knobs the curves name): for every key operator of the
   model, the mean of its curves' responses at the configuration, weighted by the operator's share
   of running time. Operators the knowledge base has never seen are reported and skipped; if none
   is known, every known operator counts equally.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from falcon_operator.core.objective import CostFunction, Objective
from falcon_operator.core.space import Space
from falcon_operator.knowledge.base import Knowledge
from falcon_operator.knowledge.compose import composed_row
from falcon_operator.knowledge.kops import select_kops

Array = NDArray[np.float64]


@dataclass
class Prior:
    """Prior mean and spread over a space's indices for one model profile."""

    knowledge: Knowledge
    space: Space
    profile: Mapping[str, float] = field(default_factory=dict)
    kop_threshold: float | None = None
    #: the search's objective, when the knowledge only predicts throughput (KOP curves): the
    #: curve prior becomes the objective's (relaxed) score of it at each configuration's price
    objective: Objective | None = None
    #: with source tables, add the curve-composed prediction of the target as one more row
    compose: bool = False
    #: floor of a curve cell's relative throughput in the composition (knowledge/compose.py)
    compose_floor: float = 0.05

    def __post_init__(self) -> None:
        threshold = self.kop_threshold or self.knowledge.settings.kop_threshold
        self.kops = select_kops(self.profile, kop_threshold=threshold) if self.profile else []
        known = set(self.knowledge.operators)
        self.unseen = [op for op in self.kops if op not in known]
        matrix = self.knowledge.source_matrix(self.space)
        self.source_names: list[str] = matrix[0] if matrix else []
        self.sources: Array | None = None
        #: 1 where a source model ran at the configuration, 0 where it was infeasible or failed
        self.source_ran: Array | None = None
        if matrix is not None:
            self.sources = np.where(np.isnan(matrix[1]), 0.0, matrix[1])
            self.source_ran = (~np.isnan(matrix[1])).astype(float)
        #: the source rows, plus the composed prediction as the last row when there is one
        self.rows: Array | None = self.sources
        self.composed: Array | None = None
        if self.compose and self.sources is not None and self.profile:
            self.composed = composed_row(
                self.space,
                self.knowledge,
                self.profile,
                objective=self.objective,
                floor=self.compose_floor,
            )
            if self.composed is not None:
                self.rows = np.vstack([self.sources, self.composed])
        self._curve_terms = self._curve_weights()
        self._cost: CostFunction | None = None
        self._cache: Array | None = None
        self._spread = (
            float(self.sources.std(0).mean())
            if self.sources is not None and len(self.sources) >= 2
            else 0.1
        )

    @property
    def kind(self) -> str:
        return "source-tables" if self.sources is not None else "kop-curves"

    def _curve_weights(self) -> list[tuple[float, list[object]]]:
        names = set(self.space.names)
        terms: list[tuple[float, list[object]]] = []
        ops = [op for op in self.kops if op not in self.unseen] or self.knowledge.operators
        weights = {op: self.profile.get(op, 1.0) for op in ops}
        total = sum(weights.values()) or 1.0
        for op in ops:
            curves = [c for c in self.knowledge.curves_of(op) if {c.knob1, c.knob2} <= names]
            if curves:
                terms.append((weights[op] / total, list(curves)))
        return terms

    #: spaces up to this size get their curve prior computed once and cached (8 bytes a cell)
    cache_limit: int = 4_000_000

    def curve_mean(self, idx: NDArray[np.int64]) -> Array:
        """KOP-curve prior at ``idx`` (cached over the whole space when it is small enough)."""
        if self.space.size <= self.cache_limit:
            if self._cache is None:
                self._cache = np.concatenate(
                    [
                        self._curve_mean(c)
                        for c in np.array_split(
                            np.arange(self.space.size), max(self.space.size // 65536, 1)
                        )
                    ]
                )
            return np.asarray(self._cache[idx], dtype=float)
        return self._curve_mean(idx)

    def _curve_mean(self, idx: NDArray[np.int64]) -> Array:
        out = np.zeros(idx.size)
        cache: dict[str, NDArray[np.object_]] = {}

        def column(name: str) -> NDArray[np.object_]:
            if name not in cache:
                cache[name] = self.space.values_of(idx, name)
            return cache[name]

        for weight, curves in self._curve_terms:
            part = np.zeros(idx.size)
            for c in curves:
                part += c.values(column(c.knob1), column(c.knob2))  # type: ignore[attr-defined]
            out += weight * part / len(curves)
        return out if self._curve_terms else np.ones(idx.size)

    def mean(self, idx: NDArray[np.int64], *, source_weights: Array | None = None) -> Array:
        if self.sources is None:
            if self.objective is None:
                return self.curve_mean(idx)
            if self._cost is None:
                self._cost = self.objective.cost_function(self.space)
            return self.objective.scores(self.curve_mean(idx), self._cost(idx))
        if source_weights is None:
            return np.asarray(self.sources[:, idx].mean(0), dtype=float)
        assert self.rows is not None
        return np.asarray(source_weights @ self.rows[: len(source_weights), idx], dtype=float)

    def ran_fraction(
        self, idx: NDArray[np.int64], *, source_weights: Array | None = None
    ) -> Array | None:
        """(Weighted) share of the source models that ran at ``idx``; None without tables."""
        if self.source_ran is None:
            return None
        rows = self.source_ran[:, idx]
        if source_weights is None:
            return np.asarray(rows.mean(0), dtype=float)
        return np.asarray(source_weights @ rows, dtype=float)

    def profile_weights(self, temperature: float) -> Array | None:
        """Weights over the sources from operator-profile similarity: ``exp(-L1 / temperature)``.

        L1 is the distance between the target's and a source's operator time shares (0: the same
        mix of operators, 2: nothing in common). None when the target or any source has no
        profile, or the temperature is not positive.
        """
        dist = self.profile_distances()
        if temperature <= 0 or dist is None:
            return None
        w = np.exp(-(dist - dist.min()) / temperature)
        return np.asarray(w / w.sum(), dtype=float)

    def row_weights(
        self, temperature: float, *, compose_distance: float, compose_min_weight: float
    ) -> Array | None:
        """Prior weights over :attr:`rows`: the sources by :meth:`profile_weights` (equal when
        None), and the composed prediction ``w = max(1 - exp(-d / compose_distance),
        compose_min_weight)``, ``d`` the L1 distance from the target's profile to the nearest
        source's (``compose_min_weight`` when unknown); the sources share ``1 - w``. None
        without a composed row and without profile weights."""
        sources = self.profile_weights(temperature)
        if self.composed is None or self.sources is None:
            return sources
        base = sources if sources is not None else np.full(len(self.sources), 1 / len(self.sources))
        dist = self.profile_distances()
        w = compose_min_weight
        if dist is not None and compose_distance > 0:
            w = max(1.0 - float(np.exp(-dist.min() / compose_distance)), compose_min_weight)
        w = min(w, 1.0 - 1e-9)
        return np.asarray(np.append(base * (1.0 - w), w), dtype=float)

    def profile_distances(self) -> Array | None:
        """L1 distance between the target's operator time shares and each source's (0: the same
        mix, 2: nothing in common); None when the target or any source has no profile."""
        profiles = self.knowledge.profiles
        if not self.profile or not self.source_names:
            return None
        if any(n not in profiles for n in self.source_names):
            return None
        return np.array([_l1(self.profile, profiles[n]) for n in self.source_names])

    def spread(self) -> float:
        """Typical spread of a model around the prior mean (std across sources, mean over cells)."""
        return self._spread

    def source_fit(self, idx: NDArray[np.int64], y: Array) -> tuple[Array, Array] | None:
        """How well a scaled copy of each source explains observations ``y`` at ``idx``.

        Returns ``(b, sse)``: per row of :attr:`rows` (the sources, then the composed
        prediction) the least-squares scale ``b`` (``y ≈ b · source``) and
        the sum of squared residuals in the sources' units. None without source tables.
        """
        if self.rows is None:
            return None
        ys = self.rows[:, idx]
        b = np.maximum((ys @ y) / np.maximum((ys * ys).sum(1), 1e-12), 1e-12)
        sse = ((y[None, :] / b[:, None] - ys) ** 2).sum(1)
        return b, np.asarray(sse, dtype=float)


def _l1(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    ta, tb = sum(a.values()) or 1.0, sum(b.values()) or 1.0
    return float(sum(abs(a.get(k, 0.0) / ta - b.get(k, 0.0) / tb) for k in set(a) | set(b)))
