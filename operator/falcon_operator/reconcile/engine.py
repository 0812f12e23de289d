"""The search engine of one search: the strategy, rebuilt from the spec, asked for suggestions.

Strategies are stateless (a suggestion is a pure function of space, knowledge, history,
pending trials and seed), so the engine needs no state of its own: it is rebuilt from the
recorded history whenever the operator restarts. Suggestion latency goes to the telemetry.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

from falcon_operator.knowledge.base import Knowledge
from falcon_operator.search.falcon import FalconSettings
from falcon_operator.search.records import TrialRecord
from falcon_operator.search.registry import make_strategy
from falcon_operator.search.space import Config, Value
from falcon_operator.search.strategy import Strategy
from falcon_operator.spec.resolve import ResolvedSearch


class Engine:
    """Ask/tell over the recorded history (blocking: call from a worker thread)."""

    def __init__(
        self, strategy: Strategy, *, observe: Callable[[float], None] | None = None
    ) -> None:
        self.strategy = strategy
        self._observe = observe

    def suggest(
        self, history: Sequence[TrialRecord], n: int, *, pending: Sequence[Mapping[str, Value]] = ()
    ) -> list[Config]:
        """Up to ``n`` new distinct configurations (none when the space is used up)."""
        start = time.perf_counter()
        try:
            return self.strategy.suggest(history, n, pending=pending)
        finally:
            if self._observe is not None:
                self._observe(time.perf_counter() - start)

    def converged(self, history: Sequence[TrialRecord]) -> bool:
        """The strategy's optional stop: no worthwhile improvement left."""
        return self.strategy.should_stop(history)


def build_engine(
    rs: ResolvedSearch,
    knowledge: Knowledge,
    *,
    profile: Mapping[str, float] | None,
    observe: Callable[[float], None] | None = None,
) -> Engine:
    """The strategy named by ``spec.algorithm`` over the spec's space, priced by its prices."""
    algo = rs.spec.algorithm
    settings = FalconSettings(kop_threshold=algo.kop_threshold) if algo.kop_threshold else None
    strategy = make_strategy(
        algo.name,
        rs.space,
        knowledge,
        profile=profile,
        seed=algo.seed,
        falcon_settings=settings,
        cost=rs.cost_function(),
    )
    return Engine(strategy, observe=observe)
