"""The search engine of one search: the strategy, rebuilt from the spec, and its ask/tell driver.

The driver (search/driver.py, shared with ``falcon search``, ``replay`` and ``bench``) decides
what to try next and when to stop. Strategies are stateless (a suggestion is a pure function
of space, knowledge, history, pending trials and seed), so the engine needs no state of its
own: it is rebuilt from the recorded history whenever the operator restarts. Suggestion
latency goes to the telemetry.
The engine also explains its winner (``why``): Falcon's estimate for what it did not try,
from the same knowledge (report/why.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence

from falcon_operator.core.objective import Objective
from falcon_operator.core.records import TrialRecord
from falcon_operator.core.space import Config, Value
from falcon_operator.knowledge.base import Knowledge
from falcon_operator.reconcile.plan import driver_budget
from falcon_operator.report.why import explain
from falcon_operator.search.driver import Driver
from falcon_operator.search.falcon import FalconStrategy
from falcon_operator.search.falcon_settings import FalconSettings
from falcon_operator.search.registry import make_strategy
from falcon_operator.search.strategy import Strategy
from falcon_operator.spec.resolve import ResolvedSearch

log = logging.getLogger(__name__)


class Engine:
    """The search's driver (ask/tell over the recorded history; blocking: call from a worker
    thread) and the explanation of its winner."""

    def __init__(
        self,
        driver: Driver,
        *,
        falcon: Callable[[], Strategy] | None = None,
        objective: Objective | None = None,
    ) -> None:
        self.driver = driver
        #: what the scores mean, for the why line (None: requests per second per dollar-hour)
        self.objective = objective
        #: builds Falcon's strategy over the same knowledge when ``strategy`` is another one
        self._falcon = falcon

    @property
    def strategy(self) -> Strategy:
        return self.driver.strategy

    def suggest(
        self, history: Sequence[TrialRecord], n: int, *, pending: Sequence[Mapping[str, Value]] = ()
    ) -> list[Config]:
        """Up to ``n`` new distinct configurations (none when the space is used up)."""
        return self.driver.suggest(history, n, pending=pending)

    def converged(self, history: Sequence[TrialRecord]) -> bool:
        """The strategy's optional stop: no worthwhile improvement left."""
        return self.driver.converged(history)

    def falcon_strategy(self) -> FalconStrategy | None:
        """Falcon's strategy over the search's knowledge (the search's own when it is Falcon)."""
        strategy = self.strategy
        if not isinstance(strategy, FalconStrategy) and self._falcon is not None:
            strategy = self._falcon()
        return strategy if isinstance(strategy, FalconStrategy) else None

    def why(self, history: Sequence[TrialRecord]) -> str:
        """A short line on why the best trial won ("" when nothing succeeded or it cannot tell;
        an explanation never fails a search)."""
        strategy = self.falcon_strategy()
        if strategy is None:
            return ""
        try:
            return explain(strategy, history, goal=self.objective)
        except Exception:  # best effort: the search's verdict stands without it
            log.exception("cannot explain the best trial")
            return ""


def build_engine(
    rs: ResolvedSearch,
    knowledge: Knowledge,
    *,
    profile: Mapping[str, float] | None,
    observe: Callable[[float], None] | None = None,
) -> Engine:
    """The strategy named by ``spec.algorithm`` over the spec's space, scored by its objective
    (metric, prices, target)."""
    algo = rs.spec.algorithm
    settings = FalconSettings(kop_threshold=algo.kop_threshold) if algo.kop_threshold else None

    def strategy(name: str) -> Strategy:
        return make_strategy(
            name,
            rs.space,
            knowledge,
            profile=profile,
            seed=algo.seed,
            falcon_settings=settings,
            objective=rs.objective,
        )

    return Engine(
        search_driver(rs, strategy(algo.name), observe=observe),
        falcon=lambda: strategy("falcon"),
        objective=rs.objective,
    )


def search_driver(
    rs: ResolvedSearch, strategy: Strategy, *, observe: Callable[[float], None] | None = None
) -> Driver:
    """The driver of ``strategy`` within the spec's budget (``spec.budget``, and
    ``spec.algorithm.stopOnConvergence``)."""
    budget = driver_budget(
        rs.spec.budget, stop_on_convergence=rs.spec.algorithm.stop_on_convergence
    )
    return Driver(strategy, budget, observe=observe)
