"""Strategy names → constructors, so the CLI, the benchmark and the operator build them alike."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from numpy.typing import NDArray

from falcon_operator.core.errors import StrategyError
from falcon_operator.core.space import Space
from falcon_operator.knowledge.base import Knowledge
from falcon_operator.search.baselines import (
    GPBOStrategy,
    MorphlingStrategy,
    RandomStrategy,
    TransferPriorStrategy,
)
from falcon_operator.search.falcon import FalconSettings, FalconStrategy
from falcon_operator.search.methods import METHODS
from falcon_operator.search.strategy import Strategy

__all__ = ["METHODS", "make_strategy"]


def make_strategy(
    name: str,
    space: Space,
    knowledge: Knowledge,
    *,
    profile: Mapping[str, float] | None = None,
    seed: int = 0,
    falcon_settings: FalconSettings | None = None,
    cost: Callable[[NDArray[np.int64]], NDArray[np.float64]] | None = None,
) -> Strategy:
    """Build the strategy called ``name`` (one of :data:`METHODS`).

    ``cost`` gives the known price ($/h) of configurations when the objective is throughput
    per dollar; prior-driven strategies divide their throughput prior by it.
    """
    if name == "falcon":
        return FalconStrategy(
            space, knowledge, profile=profile, seed=seed, settings=falcon_settings
        )
    if name == "random":
        return RandomStrategy(space, seed=seed)
    if name == "gp-bo":
        return GPBOStrategy(space, seed=seed)
    if name == "transfer-prior":
        return TransferPriorStrategy(space, knowledge, profile=profile, seed=seed, cost=cost)
    if name == "morphling":
        return MorphlingStrategy(space, knowledge, profile=profile, seed=seed, cost=cost)
    raise StrategyError(f"unknown method {name!r}; choose from {', '.join(METHODS)}")
