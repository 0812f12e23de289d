"""Strategy names → constructors, so the CLI, the benchmark and the operator build them alike."""

from __future__ import annotations

from collections.abc import Mapping

from falcon_operator.core.errors import StrategyError
from falcon_operator.core.objective import Objective
from falcon_operator.core.space import Space
from falcon_operator.knowledge.base import Knowledge
from falcon_operator.search.baselines import (
    GPBOStrategy,
    RandomStrategy,
    TransferPriorStrategy,
)
from falcon_operator.search.cold import ColdStrategy
from falcon_operator.search.ernest import ErnestStrategy
from falcon_operator.search.falcon import FalconStrategy
from falcon_operator.search.falcon_settings import FalconSettings
from falcon_operator.search.gp_ei import GPEIStrategy
from falcon_operator.search.heterbo import HeterBOStrategy
from falcon_operator.search.methods import METHODS
from falcon_operator.search.morphling import MorphlingStrategy
from falcon_operator.search.optuna_search import OptunaRandomStrategy, OptunaTPEStrategy
from falcon_operator.search.quick_search import TritonQuickStrategy
from falcon_operator.search.source_rank import SourceRankStrategy
from falcon_operator.search.strategy import Strategy
from falcon_operator.search.vesta import VestaStrategy

__all__ = ["METHODS", "make_strategy"]


def make_strategy(
    name: str,
    space: Space,
    knowledge: Knowledge,
    *,
    profile: Mapping[str, float] | None = None,
    seed: int = 0,
    falcon_settings: FalconSettings | None = None,
    objective: Objective | None = None,
) -> Strategy:
    """Build the strategy called ``name`` (one of :data:`METHODS`).

    ``objective`` (metric and prices) turns a throughput-only prior (KOP curves) into the
    objective's score at each configuration's price, for Falcon and the transfer-prior and
    morphling baselines alike. Source tables are used as they are: they already hold the
    objective's scores (fleet/knowledge.py; the paper's rps/budget); ``vesta`` transfers from
    them (or from the curve prior) alike. ``None`` leaves a curve prior in throughput units,
    for spaces without priced GPUs (the paper's integer codes).
    ``heterbo`` also divides its expected improvement by each configuration's price.
    The cold baselines (search/cold.py) get the objective, the space and the sources'
    feasibility, but no performance prior.
    """
    if name == "falcon":
        return FalconStrategy(
            space,
            knowledge,
            profile=profile,
            seed=seed,
            settings=falcon_settings,
            objective=objective,
        )
    if name == "random":
        return RandomStrategy(space, seed=seed)
    if name == "gp-bo":
        return GPBOStrategy(space, seed=seed)
    if name == "transfer-prior":
        return TransferPriorStrategy(
            space, knowledge, profile=profile, seed=seed, objective=objective
        )
    if name == "morphling":
        return MorphlingStrategy(space, knowledge, profile=profile, seed=seed, objective=objective)
    cold: dict[str, type[ColdStrategy]] = {
        "optuna-tpe": OptunaTPEStrategy,
        "optuna-random": OptunaRandomStrategy,
        "triton-quick": TritonQuickStrategy,
        "gp-ei": GPEIStrategy,
        "ernest": ErnestStrategy,
    }
    if name == "heterbo":
        return HeterBOStrategy(space, knowledge, profile=profile, seed=seed, objective=objective)
    if name == "source-rank":
        return SourceRankStrategy(space, knowledge, profile=profile, seed=seed, objective=objective)
    if name == "vesta":
        return VestaStrategy(space, knowledge, profile=profile, seed=seed, objective=objective)
    if name in cold:
        return cold[name](space, knowledge, profile=profile, seed=seed, objective=objective)
    raise StrategyError(f"unknown method {name!r}; choose from {', '.join(METHODS)}")
