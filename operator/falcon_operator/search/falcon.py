"""Falcon's MCTS-BO: Monte Carlo tree search over knowledge-defined regions, BO inside a region.

One suggestion is made in three steps, all recomputed from the history (the strategy keeps no
state, so a restarted operator rebuilds it from the recorded trials):

1. **Surrogate.** A GP on the residual between the observations and the knowledge base's prior
   mean (the source tables, re-weighted towards the sources the target's own trials resemble;
   or the KOP resource curves when no table fits the space).
2. **Selection (MCTS).** From the root of the region tree (model → KOPs → KOP-RC good/bad
   regions), pick a child by UCT: value = the best acquisition inside the child relative to the
   best anywhere, plus ``c_uct · sqrt(ln(N_parent + 1) / (n_child + 1))``. Ties go left, to the
   region the knowledge calls good (exploit); the bonus sends the search right (explore) into
   regions it has visited less.
3. **BO in the leaf.** Expected improvement × probability of feasibility, over the leaf's
   configurations that are neither tried nor pending. Before any success the acquisition is the
   posterior mean (pure exploitation of the prior).

Settings: :class:`FalconSettings` (search/falcon_settings.py). The region tree is off by default
(``tree.max_depth=0``: one region, so step 2 is the acquisition's argmax); its ablation showed no
gain (docs/algorithm.md).

``n > 1`` suggestions and pending trials use a Kriging believer: each pending trial and each pick
joins the data at its posterior mean, and its twins (search/twins.py: the configurations that
differ from it only in knobs the model says do not matter there) are skipped for the rest of the
batch, so one batch does not hold the same configuration at four MPS limits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit

from falcon_operator.core.objective import Objective
from falcon_operator.core.records import History
from falcon_operator.core.space import Space
from falcon_operator.knowledge.base import Knowledge
from falcon_operator.knowledge.prior import Prior
from falcon_operator.search.acquisition import (
    expected_improvement,
    feasibility,
    feasibility_features,
    logistic_fit,
    source_agreement,
)
from falcon_operator.search.falcon_settings import FalconSettings
from falcon_operator.search.feature_gp import FeatureGP, median_distance
from falcon_operator.search.strategy import SearchState, Strategy, search_state
from falcon_operator.search.surrogate import LogPriorGP, PriorGP
from falcon_operator.search.tree import RegionTree, build_tree
from falcon_operator.search.twins import twins
from falcon_operator.search.uct import LeafScan, descend

Array = NDArray[np.float64]
Index = NDArray[np.int64]


@dataclass
class _Factors:
    """One ask's pieces of the acquisition that depend on the configurations and the history
    only, not on the surrogate: per chunk of the space (keyed by its first index) the sources' ran
    share and both feasibility models, with the chunk's leaf numbers; and the logistic
    feasibility model's weights, fitted once. An ask's rescans and picks compute them once."""

    chunks: dict[int, tuple[list[Array], NDArray[np.int64]]] = field(default_factory=dict)
    theta: Array | None = None


class FalconStrategy(Strategy):
    """MCTS-BO over the region tree built for the model's operator profile."""

    name = "falcon"
    #: spaces up to this many candidates keep every chunk's encoding, feasibility features and
    #: leaf numbers between asks (about 0.6 kB a candidate on the 110,592-candidate space)
    static_cache_limit: int = 131_072

    def __init__(
        self,
        space: Space,
        knowledge: Knowledge,
        *,
        profile: Mapping[str, float] | None = None,
        seed: int = 0,
        settings: FalconSettings | None = None,
        objective: Objective | None = None,
    ) -> None:
        super().__init__(space, seed=seed)
        self.settings = settings or FalconSettings()
        st = self.settings
        self.prior = Prior(
            knowledge,
            space,
            dict(profile or {}),
            st.kop_threshold,
            objective=objective,
            compose=st.compose,
            compose_floor=st.compose_floor,
        )
        self._scale: float | None = None
        #: per chunk: its encoding, feasibility features and leaf numbers (pure functions of the
        #: configurations), kept on spaces of up to ``static_cache_limit`` candidates
        self._static: dict[int, tuple[Array, Array, NDArray[np.int64]]] = {}
        kops = self.prior.kops or knowledge.operators
        self.tree: RegionTree = build_tree(
            space,
            knowledge,
            kops,
            dict(profile or {}),
            settings=self.settings.tree,
            composed=self.prior.composed,
        )

    # -- knowledge re-weighting ------------------------------------------------------------------
    def source_weights(self, state: SearchState) -> Array | None:
        """Posterior over "the target is a scaled copy of source s, plus the sources' noise".

        The prior over sources comes from operator-profile similarity (Falcon's premise: models
        made of the same operators behave alike); the likelihood from the target's own trials.
        """
        st = self.settings
        prior_w = self.prior.row_weights(
            st.profile_temperature,
            compose_distance=st.compose_distance,
            compose_min_weight=st.compose_min_weight,
        )
        temp = self.settings.source_temperature
        fit = self.prior.source_fit(state.ok_idx, state.ok_y) if state.ok_idx.size >= 2 else None
        if fit is None or temp <= 0:
            return prior_w
        logw = -fit[1] / (2 * self.prior.spread() ** 2 * temp)
        if prior_w is not None:
            logw = logw + np.log(np.maximum(prior_w, 1e-300))
        w = np.exp(logw - logw.max())
        return np.asarray(w / w.sum(), dtype=float)

    def feasibility_weights(self, state: SearchState) -> Array | None:
        """Weights over the sources by how well each one's runnable cells match the target's.

        A source that ran where the target ran, and failed where it failed, agrees; each
        disagreement costs a factor ``source_feasibility_error`` (a source may be wrong).
        """
        ran = self.prior.source_ran
        if ran is None:
            return None
        return source_agreement(
            ran, state.ok_idx, state.bad_idx, error=self.settings.source_feasibility_error
        )

    def surrogate(self, state: SearchState, extra: Sequence[tuple[int, float]] = ()) -> PriorGP:
        weights = self.source_weights(state)

        def prior(idx: Index) -> Array:
            return self.prior.mean(idx, source_weights=weights)

        idx = np.concatenate([state.ok_idx, np.array([i for i, _ in extra], dtype=np.int64)])
        y = np.concatenate([state.ok_y, np.array([v for _, v in extra], dtype=float)])
        model: PriorGP
        if self.prior.kind == "source-tables" and self.settings.knowledge_features:
            model = FeatureGP(
                self._source_features,
                prior,
                length_scale=self._feature_scale(),
                settings=self.settings.surrogate,
                seed=self.seed,
            )
        elif self.prior.kind == "kop-curves":
            model = LogPriorGP(
                self.space.encode, prior, settings=self.settings.curve_surrogate, seed=self.seed
            )
        else:
            model = PriorGP(
                self.space.encode, prior, settings=self.settings.surrogate, seed=self.seed
            )
        return model.fit(idx, y)

    def _source_features(self, idx: Index) -> Array:
        assert self.prior.sources is not None
        return np.asarray(self.prior.sources[:, idx].T, dtype=float)

    def _feature_scale(self) -> float:
        if self._scale is None:
            sample = np.unique(np.linspace(0, self.space.size - 1, 4000).astype(np.int64))
            self._scale = median_distance(self._source_features(sample), seed=self.seed)
        return self._scale

    # -- acquisition over the whole space, chunk by chunk ------------------------------------------
    def _scan(
        self,
        state: SearchState,
        gp: PriorGP,
        excluded: set[int],
        weights: Array | None = None,
        factors: _Factors | None = None,
    ) -> LeafScan:
        tree = self.settings.tree
        scan = LeafScan(len(self.tree.leaves), tree.top_k if tree.value == "top" else 0)
        has_ok = state.ok_y.size > 0
        incumbent = float(gp.to_model(state.ok_y).max()) if has_ok else 0.0
        factors = _Factors() if factors is None else factors
        excluded_arr = np.fromiter(excluded, dtype=np.int64, count=len(excluded))
        for chunk in self.space.iter_chunks(self.settings.chunk):
            if int(chunk[0]) not in factors.chunks:
                factors.chunks[int(chunk[0])] = self._factors(state, chunk, weights, factors)
            parts, leaves = factors.chunks[int(chunk[0])]
            if excluded_arr.size:
                keep = ~np.isin(chunk, excluded_arr)
                chunk, leaves, parts = chunk[keep], leaves[keep], [f[keep] for f in parts]
            if chunk.size == 0:
                continue
            mu, sd = gp.predict(chunk)
            acq = expected_improvement(mu, sd, incumbent, xi=self.settings.xi) if has_ok else mu
            for factor in parts:  # in this order: the product's rounding does not change
                acq = acq * factor
            scan.update(chunk, acq, leaves)
        return scan

    def _factors(
        self, state: SearchState, chunk: Index, weights: Array | None, ask: _Factors
    ) -> tuple[list[Array], NDArray[np.int64]]:
        """The acquisition's factors at ``chunk`` that do not depend on the surrogate, and the
        chunk's leaf numbers."""
        encoded, features, leaves = self._chunk_static(chunk)
        parts: list[Array] = []
        ran = self.prior.ran_fraction(chunk, source_weights=weights)
        if ran is not None:
            parts.append(ran**self.settings.source_feasibility_power)
        if state.bad_idx.size:
            ok_x, bad_x = self.space.encode(state.ok_idx), self.space.encode(state.bad_idx)
            parts.append(feasibility(encoded, ok_x, bad_x))
            if ask.theta is None:
                ok_f = self._feasibility_features(state.ok_idx)
                ask.theta = logistic_fit(ok_f, self._feasibility_features(state.bad_idx))
            parts.append(np.asarray(expit(features @ ask.theta[:-1] + ask.theta[-1]), dtype=float))
        return parts, leaves

    def _chunk_static(self, chunk: Index) -> tuple[Array, Array, NDArray[np.int64]]:
        """The chunk's encoding, feasibility features and leaf numbers (kept on small spaces)."""
        hit = self._static.get(int(chunk[0]))
        if hit is None:
            codes = self.space.codes(chunk)
            encoded, features = self.space.encode(chunk), self._feasibility_features(chunk)
            hit = (encoded, features, self.tree.leaf_ids(codes))
            if self.space.size <= self.static_cache_limit:
                self._static[int(chunk[0])] = hit
        return hit

    def _feasibility_features(self, idx: Index) -> Array:
        """Encoding plus a one-hot of every ordinal knob's value (a threshold can be learnt)."""
        return feasibility_features(self.space, idx)

    def _visits(self, indices: list[int]) -> NDArray[np.int64]:
        counts = np.zeros(len(self.tree.leaves), dtype=np.int64)
        if indices:
            ids = self.tree.leaf_ids(self.space.codes(np.array(indices, dtype=np.int64)))
            np.add.at(counts, ids[ids >= 0], 1)
        return counts

    def _descend(self, scan: LeafScan, visits: NDArray[np.int64]) -> int:
        """UCT from the root to a leaf (search/uct.py); returns the leaf number."""
        st = self.settings
        return descend(self.tree, scan, visits, c_uct=st.c_uct, mode=st.tree.value)

    def _suggest_indices(self, state: SearchState, n: int) -> list[int]:
        picks: list[int] = []
        pending = sorted(set(state.excluded) - set(map(int, state.tried)))
        weights = self.feasibility_weights(state)
        fantasies: list[tuple[int, float]] = []
        twinned: set[int] = set()
        factors = _Factors()
        if pending:
            gp = self.surrogate(state)
            fantasies = [(p, self._believed(gp, p)) for p in pending]
            for p in pending:
                twinned |= self._twins(gp, p, weights)
        for _ in range(n):
            gp = self.surrogate(state, fantasies)
            pick = self._pick(state, gp, picks, twinned, weights, factors)
            if pick < 0:
                break
            picks.append(pick)
            fantasies.append((pick, self._believed(gp, pick)))
            if len(picks) < n:
                twinned |= self._twins(gp, pick, weights)
        return picks

    def _pick(
        self,
        state: SearchState,
        gp: PriorGP,
        picks: list[int],
        twinned: set[int],
        w: Array | None,
        factors: _Factors | None = None,
    ) -> int:
        """The UCT leaf's best configuration that is no twin of a pending one or a pick, read
        from either side (a twin of one only by the candidate's own knobs is skipped too)."""
        excluded = set(state.excluded) | set(picks)
        conditioned = excluded - set(map(int, state.tried))
        visits = self._visits([*map(int, state.tried), *conditioned])
        for _ in range(8):  # a few rescans at most; then the last pick stands
            scan = self._scan(state, gp, excluded | twinned, w, factors)
            if not np.isfinite(scan.best_acq).any():  # only twins are left
                scan = self._scan(state, gp, excluded, w, factors)
                twinned = set()
            pick = int(scan.best_idx[self._descend(scan, visits)])
            if pick < 0 or not conditioned or not twinned:
                return pick
            own = self._twins(gp, pick, w)
            if not own & conditioned:
                return pick
            twinned = twinned | own | {pick}
        return pick

    @staticmethod
    def _believed(gp: PriorGP, index: int) -> float:
        """The Kriging believer's value at ``index``: its posterior mean, in objective units."""
        return gp.from_model(float(gp.predict(np.array([index], dtype=np.int64))[0][0]))

    def _twins(self, gp: PriorGP, index: int, weights: Array | None) -> set[int]:
        tolerance = self.settings.twin_tolerance
        if tolerance is None:
            return set()

        def predict(idx: Index) -> tuple[Array, Array | None]:
            mean = np.array([gp.from_model(float(m)) for m in gp.predict(idx)[0]], dtype=float)
            return mean, self.prior.ran_fraction(idx, source_weights=weights)

        return twins(self.space, index, predict, tolerance=tolerance)

    def should_stop(self, history: History) -> bool:
        """Stop when the best expected improvement left is negligible (no optimum needed)."""
        state = search_state(self.space, history, ())
        if state.ok_y.size < self.settings.stop_min_trials:
            return False
        scan = self._scan(
            state, self.surrogate(state), set(state.excluded), self.feasibility_weights(state)
        )
        return scan.top < self.settings.stop_ei_fraction * abs(float(state.ok_y.max()))
