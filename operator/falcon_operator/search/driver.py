"""The one ask/tell driver of every search: ``falcon search``, ``replay``, ``bench``, the operator.

A :class:`Driver` owns the decisions of a search loop, so that every entry point takes them the
same way:

- the stop rules, in this order: the failure budget (more counted failures than allowed), the
  trial budget (that many trials recorded), the strategy's convergence (only when asked, and
  only when a trial could start), and the space running out (the strategy suggests nothing);
- the pending-aware ask: how many trials may start given the parallelism and what is running,
  and the strategy's suggestions for them, with the running trials as pending;
- the tell: a finished trial's record joins the history the next decision reads.

It keeps no state between decisions (the history is the state), so a restarted operator that
reads the same history and running trials takes the same decision. :meth:`Driver.run` is the
synchronous loop (one trial at a time through an executor: the table oracle, the simulated
fleet); the operator's asynchronous loop calls :meth:`Driver.decide` at each step instead.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from falcon_operator.core.errors import StrategyError
from falcon_operator.core.records import History, TrialRecord
from falcon_operator.core.space import Config, Value
from falcon_operator.search.strategy import Strategy

#: runs one configuration to its record (the table oracle, the simulated fleet, …)
Executor = Callable[[Config], TrialRecord]


class Stop(enum.StrEnum):
    """Why a search stops (the value is the operator's condition reason)."""

    FAILURES = "TooManyFailedTrials"
    BUDGET = "BudgetExhausted"
    CONVERGED = "Converged"
    SPACE = "SpaceExhausted"


@dataclass(frozen=True)
class Budget:
    """The limits of one search."""

    max_trials: int
    #: trials that may run at once
    max_parallel: int = 1
    #: counted failures allowed (one more fails the search); None: no failure budget
    max_failed: int | None = None
    #: stop early when the strategy says further trials look pointless
    stop_on_convergence: bool = False

    def __post_init__(self) -> None:
        if self.max_trials < 0 or self.max_parallel < 1:
            raise StrategyError(
                f"a budget needs max_trials >= 0 and max_parallel >= 1, got {self.max_trials} "
                f"and {self.max_parallel}"
            )


@dataclass(frozen=True)
class Decision:
    """What to do now: start ``ask`` (in order), and/or stop for ``stop``.

    A stop with trials still running means: start nothing more; the search ends once they are
    recorded (a failure-budget stop ends it at once).
    """

    ask: tuple[Config, ...] = ()
    stop: Stop | None = None


@dataclass(frozen=True)
class Run:
    """A finished synchronous search: the history in trial order and why it stopped."""

    history: list[TrialRecord]
    stop: Stop


def budget_stop(budget: Budget, history: History) -> Stop | None:
    """The stops that need no strategy: the failure budget first (the trials whose failure kind
    counts against it, core/records.py's policy), then the trial budget."""
    failures = sum(1 for record in history if record.counts_against_budget)
    if budget.max_failed is not None and failures > budget.max_failed:
        return Stop.FAILURES
    if len(history) >= budget.max_trials:
        return Stop.BUDGET
    return None


def free_slots(budget: Budget, *, done: int, running: int) -> int:
    """How many trials may start now: the parallelism left, within the trial budget."""
    return max(0, min(budget.max_parallel - running, budget.max_trials - done - running))


class Driver:
    """Asks ``strategy`` for trials within ``budget`` and says when the search is over."""

    def __init__(
        self,
        strategy: Strategy,
        budget: Budget,
        *,
        observe: Callable[[float], None] | None = None,
    ) -> None:
        self.strategy, self.budget = strategy, budget
        #: gets the seconds each ask of the strategy took (telemetry, benchmarks)
        self._observe = observe

    # -- the rules -------------------------------------------------------------------------------
    def over(self, history: History) -> Stop | None:
        """The stops that need no strategy: failure budget first, then trial budget."""
        return budget_stop(self.budget, history)

    def slots(self, *, done: int, running: int) -> int:
        """How many trials may start now, given the parallelism and what is running."""
        return free_slots(self.budget, done=done, running=running)

    def converged(self, history: History) -> bool:
        """The strategy's optional stop: no worthwhile improvement left."""
        return self.strategy.should_stop(history)

    # -- ask / tell ------------------------------------------------------------------------------
    def suggest(
        self, history: History, n: int, *, pending: Sequence[Mapping[str, Value]] = ()
    ) -> list[Config]:
        """The strategy's ``n`` next configurations (fewer when the space runs out), timed."""
        start = time.perf_counter()
        try:
            return self.strategy.suggest(history, n, pending=pending)
        finally:
            if self._observe is not None:
                self._observe(time.perf_counter() - start)

    def decide(
        self,
        history: History,
        *,
        pending: Sequence[Mapping[str, Value]] = (),
    ) -> Decision:
        """The next step after ``history`` with ``pending`` running (blocking: it may fit and ask
        the strategy)."""
        stop = self.over(history)
        if stop is not None:
            return Decision(stop=stop)
        n = self.slots(done=len(history), running=len(pending))
        if n == 0:
            return Decision()
        if self.budget.stop_on_convergence and self.converged(history):
            return Decision(stop=Stop.CONVERGED)
        asked = self.suggest(history, n, pending=pending)
        if not asked:
            return Decision(stop=Stop.SPACE)
        return Decision(ask=tuple(asked))

    def run(
        self,
        execute: Executor,
        *,
        history: History = (),
        on_trial: Callable[[int, Config, TrialRecord], None] | None = None,
    ) -> Run:
        """Ask, execute and tell until a stop rule ends the search (one trial at a time).

        ``history`` continues an earlier search; ``on_trial(n, config, record)`` hears of trial
        ``n`` (counted from 1) as soon as it is told.
        """
        told = list(history)
        while True:
            decision = self.decide(told)
            if decision.stop is not None:
                return Run(told, decision.stop)
            for config in decision.ask:
                record = execute(config)
                told.append(record)  # the tell: the next decision reads it
                if on_trial is not None:
                    on_trial(len(told), config, record)
