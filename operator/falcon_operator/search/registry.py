"""Strategy names → constructors, so the CLI, the benchmark and the operator build them alike."""

from __future__ import annotations

from collections.abc import Mapping

from falcon_operator.errors import StrategyError
from falcon_operator.knowledge.base import Knowledge
from falcon_operator.search.baselines import (
    GPBOStrategy,
    MorphlingStrategy,
    RandomStrategy,
    TransferPriorStrategy,
)
from falcon_operator.search.falcon import FalconSettings, FalconStrategy
from falcon_operator.search.space import Space
from falcon_operator.search.strategy import Strategy

METHODS = ("falcon", "random", "gp-bo", "transfer-prior", "morphling")


def make_strategy(
    name: str,
    space: Space,
    knowledge: Knowledge,
    *,
    profile: Mapping[str, float] | None = None,
    seed: int = 0,
    falcon_settings: FalconSettings | None = None,
) -> Strategy:
    """Build the strategy called ``name`` (one of :data:`METHODS`)."""
    if name == "falcon":
        return FalconStrategy(
            space, knowledge, profile=profile, seed=seed, settings=falcon_settings
        )
    if name == "random":
        return RandomStrategy(space, seed=seed)
    if name == "gp-bo":
        return GPBOStrategy(space, seed=seed)
    if name == "transfer-prior":
        return TransferPriorStrategy(space, knowledge, profile=profile, seed=seed)
    if name == "morphling":
        return MorphlingStrategy(space, knowledge, profile=profile, seed=seed)
    raise StrategyError(f"unknown method {name!r}; choose from {', '.join(METHODS)}")
