"""One Objective: the price of a configuration, the score of a trial under each metric, the SLO,
and the cache key that covers all of them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from falcon_operator.core.catalog import load_catalog
from falcon_operator.core.errors import SpecError
from falcon_operator.core.objective import Metric, Objective
from falcon_operator.core.prices import PriceOverrides
from falcon_operator.fleet.backend import fleet_space

CATALOG = load_catalog()
T4 = {"gputype": "T4", "cpus": 2}


def test_the_price_of_a_configuration_is_gpu_share_cores_and_host_memory() -> None:
    o = Objective.of(CATALOG, host_memory_gib=4.0)
    c = CATALOG
    assert o.cost_per_hour(T4) == pytest.approx(
        c.gpus["T4"].hour + 2 * c.cpu_core_hour + 4 * c.memory_gib_hour
    )
    sliced = o.cost_per_hour({"gputype": "A100/3g.20gb", "cpus": 1})
    assert sliced == pytest.approx(c.gpus["A100"].hour * 3 / 7 + c.cpu_core_hour + 4 * 0.0057)


def test_overrides_replace_only_the_prices_they_name() -> None:
    o = Objective.of(CATALOG, prices=PriceOverrides({"T4": 1.0}, cpu_core_hour=0.5))
    assert o.cost_per_hour(T4) == pytest.approx(1.0 + 2 * 0.5 + 4 * CATALOG.memory_gib_hour)
    v100 = {"gputype": "V100", "cpus": 2}
    assert o.prices.slice_hour("V100") == CATALOG.gpus["V100"].hour
    assert o.cost_per_hour(v100) > o.cost_per_hour(T4)
    with pytest.raises(SpecError, match="unknown GPU types"):
        Objective.of(CATALOG, prices=PriceOverrides({"Z100": 1.0}))


def test_the_vectorised_cost_is_the_cost_of_each_configuration() -> None:
    space = fleet_space(CATALOG, gpus=["T4", "A100"], batches=(1, 8))
    o = Objective.of(CATALOG, prices=PriceOverrides({"A100": 0.1}))
    idx = np.arange(0, space.size, 7)
    expected = [o.cost_per_hour(space.config_at(int(i))) for i in idx]
    np.testing.assert_allclose(o.cost_function(space)(idx), expected)


def test_requests_per_second_per_dollar() -> None:
    o = Objective.of(CATALOG, slo_p99_ms=50.0)
    assert o.metric is Metric.RPS_PER_DOLLAR
    assert o.score(rps=500.0, p99_ms=40.0, cost_per_hour=0.25) == pytest.approx(2000.0)
    assert o.score(rps=500.0, p99_ms=51.0, cost_per_hour=0.25) == 0.0  # over the SLO
    assert o.slo_broken(math.nan) and not o.slo_broken(50.0) and o.slo_broken(50.0001)
    assert not Objective.of(CATALOG).slo_broken(1e9)  # no SLO
    assert o.describe(1991.54, rps=1.0) == "1991.5 rps/$"


def test_cost_at_target_throughput_counts_whole_replicas() -> None:
    """The docs' worked example (docs/prices.md)."""
    o = Objective.of(CATALOG, metric="CostAtTargetThroughput", target_rps=5000, slo_p99_ms=50)
    assert o.replicas(817.4) == 7 and o.replicas(1182.2) == 5 and o.replicas(5000.0) == 1
    a = o.score(rps=817.4, p99_ms=49.9, cost_per_hour=0.458)
    b = o.score(rps=1182.2, p99_ms=48.2, cost_per_hour=0.594)
    assert 1 / a == pytest.approx(7 * 0.458) and 1 / b == pytest.approx(5 * 0.594)
    assert b > a  # higher is better: 2.97 $/h beats 3.206 $/h
    assert o.shown(a) == pytest.approx(3.206)
    assert o.describe(a, rps=817.4) == "7 × 0.458 $/h = 3.206 $/h for 5000 rps"
    assert o.score(rps=6000.0, p99_ms=60.0, cost_per_hour=1.0) == 0.0  # over the SLO
    assert o.score(rps=0.0, p99_ms=1.0, cost_per_hour=1.0) == 0.0
    # a lower rps/$ wins when both need the same number of replicas (target 1600: 2 each)
    small = Objective.of(CATALOG, metric="CostAtTargetThroughput", target_rps=1600)
    cheap = small.score(rps=817.4, p99_ms=1.0, cost_per_hour=0.458)
    fast = small.score(rps=1182.2, p99_ms=1.0, cost_per_hour=0.594)
    assert cheap > fast and 817.4 / 0.458 < 1182.2 / 0.594


def test_the_target_is_required_by_and_only_by_its_metric() -> None:
    with pytest.raises(SpecError, match="targetRequestsPerSecond: required"):
        Objective.of(CATALOG, metric="CostAtTargetThroughput")
    with pytest.raises(SpecError, match="targetRequestsPerSecond: only metric"):
        Objective.of(CATALOG, target_rps=100.0)
    with pytest.raises(SpecError, match="metric must be one of"):
        Objective.of(CATALOG, metric="Latency")


def test_vectorised_scores_relax_replicas_for_relative_throughputs() -> None:
    rps, cost = np.array([0.5, 1.0, 2.0]), np.array([1.0, 2.0, 0.5])
    default = Objective.of(CATALOG)
    np.testing.assert_allclose(default.scores(rps, cost), rps / cost)
    target = Objective.of(CATALOG, metric="CostAtTargetThroughput", target_rps=10.0)
    np.testing.assert_allclose(target.scores(rps, cost), rps / (10.0 * cost))


def test_the_cache_key_covers_metric_target_prices_slo_and_host_memory() -> None:
    base = Objective.of(CATALOG, slo_p99_ms=50.0)
    same = Objective.of(CATALOG, slo_p99_ms=50.0)
    assert base.cache_key() == same.cache_key()
    others = [
        Objective.of(CATALOG, slo_p99_ms=20.0),
        Objective.of(CATALOG),
        Objective.of(CATALOG, slo_p99_ms=50.0, prices=PriceOverrides({"T4": 0.01})),
        Objective.of(CATALOG, slo_p99_ms=50.0, prices=PriceOverrides(cpu_core_hour=1.0)),
        Objective.of(CATALOG, slo_p99_ms=50.0, host_memory_gib=8.0),
        Objective.of(CATALOG, slo_p99_ms=50.0, metric="CostAtTargetThroughput", target_rps=1e3),
        Objective.of(CATALOG, slo_p99_ms=50.0, metric="CostAtTargetThroughput", target_rps=2e3),
    ]
    keys = {o.cache_key() for o in others}
    assert len(keys) == len(others) and base.cache_key() not in keys
