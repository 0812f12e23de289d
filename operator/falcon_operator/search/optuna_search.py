"""Optuna's TPE and random samplers behind the ask/tell ``Strategy`` (Optuna 5, its ask/tell API).

Each ``suggest`` rebuilds an in-memory study from the history (the strategy keeps no state):
every knob is a ``CategoricalDistribution`` over its values; a finished trial is replayed with
``enqueue_trial`` + ``ask`` + ``tell``; a pending one is enqueued and asked but never told, so it
stays RUNNING and TPE's constant liar treats it as a bad observation; then the study is asked for
new trials.

- A successful trial is told COMPLETE with its objective (already scored by the search's
  objective: price and SLO included).
- A failed or infeasible trial is told COMPLETE with a **penalty** value, the worst objective
  seen so far (0 when none), and a violated constraint (``trial.set_constraint("runs", 1.0)``,
  Optuna 5's constrained TPE), so TPE puts these trials in its "bad" group whatever the penalty.
- An asked configuration that is already tried or pending, outside the space's constraints, or
  vetoed by the sources (search/cold.py) is told FAIL (never run) and the study is asked again,
  up to :data:`MAX_ASKS` times, after which a seeded random open configuration is used.
"""

from __future__ import annotations

import abc

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution
from optuna.samplers import BaseSampler, RandomSampler, TPESampler
from optuna.trial import TrialState

from falcon_operator.search.cold import ColdStrategy
from falcon_operator.search.strategy import SearchState, derive_rng

optuna.logging.set_verbosity(optuna.logging.WARNING)

#: the constraint a failed or infeasible trial violates
CONSTRAINT = "runs"
#: asks per suggestion before falling back to a random open configuration
MAX_ASKS = 200


class OptunaStrategy(ColdStrategy):
    """Common replay/ask loop; subclasses choose the sampler."""

    @abc.abstractmethod
    def sampler(self) -> BaseSampler:
        """A fresh, seeded sampler (one per replayed study)."""

    def distributions(self) -> dict[str, BaseDistribution]:
        return {k.name: CategoricalDistribution(k.values) for k in self.space.knobs}

    def study(self, state: SearchState) -> optuna.Study:
        """The study replayed from ``state``: finished trials told, pending ones RUNNING."""
        study = optuna.create_study(direction="maximize", sampler=self.sampler())
        dists = self.distributions()
        values = dict(zip(state.ok_idx.tolist(), state.ok_y.tolist(), strict=True))
        penalty = float(state.ok_y.min()) if state.ok_y.size else 0.0
        for i in state.tried.tolist():
            study.enqueue_trial(self.space.config_at(i))
            trial = study.ask(dists)
            if i in values:
                study.tell(trial, values[i])
            else:
                trial.set_constraint(CONSTRAINT, 1.0)  # > 0: violated
                study.tell(trial, penalty)
        for i in sorted(state.excluded - set(state.tried.tolist())):
            study.enqueue_trial(self.space.config_at(i))
            study.ask(dists)
        return study

    def _suggest_indices(self, state: SearchState, n: int) -> list[int]:
        study, dists = self.study(state), self.distributions()
        open_set = set(self.open_candidates(state, n).tolist())
        picks: list[int] = []
        rng = derive_rng(self.seed, self.name, state.n_done, len(state.excluded))
        while len(picks) < n and open_set:
            for _ in range(MAX_ASKS):
                trial = study.ask(dists)
                i = self.space.index_of(trial.params)
                if i in open_set:
                    break  # stays RUNNING: the next ask of this batch lies about it
                study.tell(trial, state=TrialState.FAIL)
            else:
                i = int(rng.choice(np.array(sorted(open_set), dtype=np.int64)))
                study.enqueue_trial(self.space.config_at(i))
                study.ask(dists)
            picks.append(i)
            open_set.discard(i)
        return picks


class OptunaTPEStrategy(OptunaStrategy):
    """Optuna's default TPE (10 random start-up trials), constrained, with constant liar."""

    name = "optuna-tpe"

    def sampler(self) -> BaseSampler:
        return TPESampler(seed=self.seed, constant_liar=True)


class OptunaRandomStrategy(OptunaStrategy):
    """Optuna's ``RandomSampler``: uniform over each knob's values, independently."""

    name = "optuna-random"

    def sampler(self) -> BaseSampler:
        return RandomSampler(seed=self.seed)
