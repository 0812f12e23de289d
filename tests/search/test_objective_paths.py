"""The search's objective (metric and prices) reaches every strategy on every path."""

from __future__ import annotations

import pytest

from falcon_operator.core.catalog import load_catalog
from falcon_operator.core.objective import Objective
from falcon_operator.core.prices import PriceOverrides
from falcon_operator.fleet.backend import fleet_space
from falcon_operator.knowledge.base import Knowledge, build_knowledge
from falcon_operator.knowledge.dataset import FalconDataset, default_data_dir
from falcon_operator.search.falcon import FalconStrategy
from falcon_operator.search.registry import make_strategy

PROFILE = {"conv2d": 1.0}


@pytest.fixture(scope="module")
def curves_only() -> Knowledge:
    """The paper's KOP curves without any source table: Falcon's curve-prior path."""
    return build_knowledge(curves=FalconDataset(default_data_dir()).knowledge().curves)


def _first_gpu(kb: Knowledge, objective: Objective | None, method: str = "falcon") -> str:
    space = fleet_space(load_catalog(), gpus=["T4", "A100"], mig=False)
    strategy = make_strategy(method, space, kb, profile=PROFILE, objective=objective)
    (pick,) = strategy.suggest([])
    return str(pick["gputype"])


def test_make_strategy_gives_falcon_the_objective(curves_only: Knowledge) -> None:
    space = fleet_space(load_catalog(), gpus=["T4", "A100"], mig=False)
    objective = Objective.of(load_catalog())
    made = make_strategy("falcon", space, curves_only, profile=PROFILE, objective=objective)
    assert isinstance(made, FalconStrategy)
    assert made.prior.kind == "kop-curves"
    assert made.prior.objective is objective


def test_a_cheap_gpu_changes_falcons_first_curve_prior_suggestion(curves_only: Knowledge) -> None:
    catalog = load_catalog()
    at_list = _first_gpu(curves_only, Objective.of(catalog))
    other = "T4" if at_list == "A100" else "A100"
    cheap = Objective.of(catalog, prices=PriceOverrides(gpu_hour={other: 1e-4}))
    assert _first_gpu(curves_only, cheap) == other
    assert _first_gpu(curves_only, cheap, "transfer-prior") == other
