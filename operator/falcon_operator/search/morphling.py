"""``morphling``: Morphling (Wang et al., SoCC'21) — a meta-learned regression model, adapted to
the target with its few trials, whose best prediction is the next trial.

1. **Meta-learning over the sources** (search/meta_mlp.py): a 3-layer tanh MLP over the space's
   encoding, meta-trained with first-order MAML on the source tables (each normalised by its
   best value; cells where the source did not run are left out). It is trained once per
   (source tables, space) and cached in memory; its randomness comes from :data:`META_SEED`,
   never from the run's seed. Without source tables (KOP-curve prior) the only task is the
   curve prior in the objective's units, so the initialisation is a plain regression fit of it.
2. **Few-shot adaptation**: the target's successful trials, divided by the best of them (the
   model predicts values relative to the best trial so far), and ``steps`` gradient steps from
   the meta-learned initialisation (the same inner loop as at meta-training).
3. **Acquisition**, as in Morphling: the untried configuration with the best adapted
   prediction — greedy, with no exploration bonus; only the adaptation (a disappointing trial
   pulls its neighbours down) moves the search elsewhere. The prediction is multiplied by the
   same feasibility terms as Falcon's acquisition: the share of the sources that ran at the
   configuration, weighted by how well each source's runnable cells match the target's trials,
   to the power 8; and, once trials failed, the kernel vote and the logistic classifier learnt
   from them. Ties are broken by the run's seed.

Pending trials and ``n`` > 1: a Kriging believer — each pending trial and each pick joins the
adaptation data at its adapted prediction before the next pick.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from falcon_operator.core.objective import Objective
from falcon_operator.core.space import Space
from falcon_operator.knowledge.base import Knowledge
from falcon_operator.knowledge.prior import Prior
from falcon_operator.search.acquisition import (
    feasibility,
    feasibility_features,
    logistic_feasibility,
    source_agreement,
)
from falcon_operator.search.baselines import (
    CURVE_SAMPLE,
    RAN_ERROR,
    RAN_POWER,
    PriorStrategy,
    candidates,
)
from falcon_operator.search.meta_mlp import (
    MetaSettings,
    Params,
    adapt,
    meta_train,
    predict,
    unit_scale,
)
from falcon_operator.search.strategy import SearchState, derive_rng, top_n

Array = NDArray[np.float64]
Index = NDArray[np.int64]

#: seed of the meta-training (initial weights, support and query draws): fixed, not the run's
META_SEED = 20211101
_CACHE: OrderedDict[str, Params] = OrderedDict()
_CACHE_SIZE = 8


def meta_model(prior: Prior, space: Space, settings: MetaSettings) -> Params:
    """The meta-learned initialisation for ``prior``'s tasks over ``space`` (cached by content)."""
    if prior.sources is not None and prior.source_ran is not None and len(prior.sources) > 0:
        idx = space.all_indices()
        ran = prior.source_ran
        best = np.maximum(np.where(ran > 0, prior.sources, -np.inf).max(1, initial=0.0), 1e-12)
        tasks = prior.sources / best[:, None]
    else:
        idx = candidates(space, set(), limit=CURVE_SAMPLE)
        values = prior.mean(idx)
        tasks = (values / max(float(np.abs(values).max()), 1e-12))[None, :]
        ran = np.ones_like(tasks)
    parts = [tasks.tobytes(), ran.tobytes(), idx.tobytes(), repr(space.describe()).encode()]
    key = hashlib.sha1(b"".join([*parts, repr(settings).encode()])).hexdigest()
    if key not in _CACHE:
        x = space.encode(idx)
        _CACHE[key] = meta_train(x, tasks, ran, settings=settings, seed=META_SEED)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    _CACHE.move_to_end(key)
    return _CACHE[key]


class MorphlingStrategy(PriorStrategy):
    name = "morphling"

    def __init__(
        self,
        space: Space,
        knowledge: Knowledge,
        *,
        profile: Mapping[str, float] | None = None,
        seed: int = 0,
        objective: Objective | None = None,
        settings: MetaSettings | None = None,
    ) -> None:
        super().__init__(space, knowledge, profile=profile, seed=seed, objective=objective)
        self.settings = settings or MetaSettings()
        self.init = meta_model(self.prior, space, self.settings)

    def adapted(self, idx: Index, y: Array) -> tuple[Params, float]:
        """Parameters adapted to observations ``y`` at ``idx``, and the target's unit scale."""
        if idx.size == 0:
            return self.init, 1.0
        x = self.space.encode(idx)
        scale = float(unit_scale(y))
        s = self.settings
        return adapt(self.init, x, y / scale, steps=s.steps, lr=s.inner_lr), scale

    def ran_weights(self, state: SearchState) -> Array | None:
        """Sources weighted by how well their runnable cells match the target's trials (as in
        Falcon's ``feasibility_weights``: each disagreement costs a factor ``RAN_ERROR``)."""
        ran = self.prior.source_ran
        if ran is None:
            return None
        return source_agreement(ran, state.ok_idx, state.bad_idx, error=RAN_ERROR)

    def p_runs(self, state: SearchState, cand: Index) -> Array:
        """Feasibility weight of each candidate: the sources' ran share, the target's failures."""
        p = np.ones(cand.size)
        ran = self.prior.ran_fraction(cand, source_weights=self.ran_weights(state))
        if ran is not None:
            p = p * ran**RAN_POWER
        if state.bad_idx.size:
            ok_x, bad_x = self.space.encode(state.ok_idx), self.space.encode(state.bad_idx)
            p = p * feasibility(self.space.encode(cand), ok_x, bad_x)
            p = p * logistic_feasibility(
                self._onehot(cand), self._onehot(state.ok_idx), self._onehot(state.bad_idx)
            )
        return p

    def _onehot(self, idx: Index) -> Array:
        """Encoding plus a one-hot of every ordinal knob's value (Falcon's feasibility features)."""
        return feasibility_features(self.space, idx)

    def _suggest_indices(self, state: SearchState, n: int) -> list[int]:
        rng = derive_rng(self.seed, self.name, state.n_done, len(state.excluded))
        cand = candidates(self.space, state.excluded)
        cx = self.space.encode(cand)
        p_ok = self.p_runs(state, cand)
        idx, y = state.ok_idx, state.ok_y
        pending = sorted(set(state.excluded) - set(map(int, state.tried)))
        params, scale = self.adapted(idx, y)
        if pending:  # believer: pending trials at their adapted predictions
            p_idx = np.array(pending, dtype=np.int64)
            believed = scale * predict(params, self.space.encode(p_idx))
            idx, y = np.concatenate([idx, p_idx]), np.concatenate([y, believed])
        picks: list[int] = []
        for _ in range(n):
            params, scale = self.adapted(idx, y)
            mu = predict(params, cx)
            acq = np.maximum(mu, 1e-9) * p_ok
            best = top_n(acq, cand, 1, frozenset(picks), rng=rng)
            if not best:
                break
            picks.append(best[0])
            at = int(np.searchsorted(cand, best[0]))
            idx = np.append(idx, best[0])
            y = np.append(y, scale * float(mu[at]))
        return picks
