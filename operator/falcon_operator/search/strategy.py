"""The ask/tell contract every search strategy honours, and helpers shared by all of them.

``suggest(history, n, pending=...)`` returns ``n`` distinct configurations that are neither in the
history nor pending. A strategy holds no mutable state between calls: its answer is a pure function
of (space, knowledge, history, pending, seed), so a restarted operator that replays the recorded
trials gets the same suggestions.

Search loops do not call ``suggest`` themselves: the ask/tell driver (search/driver.py) does, for
``falcon search``, ``replay``, ``bench`` and the operator alike, and applies the stop rules
around it (``should_stop`` only when a search asks to stop on convergence).
"""

from __future__ import annotations

import abc
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from falcon_operator.core.errors import StrategyError
from falcon_operator.core.records import History
from falcon_operator.core.space import Config, Space, Value


@dataclass(frozen=True)
class SearchState:
    """History in index form: what every strategy derives first from (space, history, pending)."""

    tried: NDArray[np.int64]  #: indices of all finished trials, in order
    ok_idx: NDArray[np.int64]  #: indices of successful trials
    ok_y: NDArray[np.float64]  #: their objectives
    bad_idx: NDArray[np.int64]  #: indices of infeasible / failed trials
    excluded: frozenset[int]  #: tried or pending: never suggested again

    @property
    def n_done(self) -> int:
        return int(self.tried.size)


def search_state(
    space: Space, history: History, pending: Sequence[Mapping[str, Value]]
) -> SearchState:
    tried = [space.index_of(t.config) for t in history]
    ok = [
        (space.index_of(t.config), float(t.objective)) for t in history if t.objective is not None
    ]
    bad = [space.index_of(t.config) for t in history if not t.ok]
    pend = [space.index_of(c) for c in pending]
    return SearchState(
        tried=np.array(tried, dtype=np.int64),
        ok_idx=np.array([i for i, _ in ok], dtype=np.int64),
        ok_y=np.array([y for _, y in ok], dtype=float),
        bad_idx=np.array(bad, dtype=np.int64),
        excluded=frozenset(tried) | frozenset(pend),
    )


def derive_rng(seed: int, *parts: object) -> np.random.Generator:
    """A generator seeded from ``seed`` and the call's context (e.g. the number of trials done).

    Deriving a fresh generator per call keeps strategies stateless yet reproducible.
    """
    salt = zlib.crc32(repr(parts).encode())
    return np.random.default_rng([seed & 0xFFFFFFFF, salt])


def top_n(
    scores: NDArray[np.float64],
    indices: NDArray[np.int64],
    n: int,
    excluded: frozenset[int],
    *,
    rng: np.random.Generator | None = None,
) -> list[int]:
    """The ``n`` highest-scoring indices not in ``excluded``; ties broken by ``rng`` if given."""
    keep = np.fromiter((int(i) not in excluded for i in indices), dtype=bool, count=len(indices))
    idx, sc = indices[keep], scores[keep]
    if idx.size == 0:
        return []
    jitter = rng.random(idx.size) if rng is not None else np.zeros(idx.size)
    order = np.lexsort((-jitter, -sc))
    return [int(i) for i in idx[order[:n]]]


class Strategy(abc.ABC):
    """Base class for every search strategy (Falcon's MCTS-BO and the baselines)."""

    #: short name used on the command line and in results.json
    name: str = ""

    def __init__(self, space: Space, *, seed: int = 0) -> None:
        self.space = space
        self.seed = seed

    def suggest(
        self,
        history: History,
        n: int = 1,
        *,
        pending: Sequence[Mapping[str, Value]] = (),
    ) -> list[Config]:
        """Return ``n`` distinct new configurations (fewer only when the space runs out)."""
        if n < 1:
            raise StrategyError(f"n must be at least 1, got {n}")
        state = search_state(self.space, history, pending)
        remaining = self.space.size - len(state.excluded)
        if remaining <= 0:
            return []
        picked = self._suggest_indices(state, min(n, remaining))
        if len(set(picked)) != len(picked) or any(i in state.excluded for i in picked):
            raise StrategyError(f"{type(self).__name__} suggested a repeated configuration")
        return [self.space.config_at(i) for i in picked]

    @abc.abstractmethod
    def _suggest_indices(self, state: SearchState, n: int) -> list[int]:
        """Indices of ``n`` distinct configurations outside ``state.excluded``."""

    def should_stop(self, history: History) -> bool:
        """Whether further trials look pointless. Default: never (run the whole budget)."""
        return False
