"""The mix world: a deterministic generator, the held-out rule, scenario directories, the noisy
oracle (off: the old best-so-far exactly), and a tiny ``falcon bench --mix`` end to end."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from falcon_operator.bench import mixworld
from falcon_operator.bench.mixmodels import profile_distance
from falcon_operator.bench.mixworld import SCENARIOS, MixSettings, generate
from falcon_operator.bench.noisy import NoisyTableOracle, deployed_best
from falcon_operator.bench.runner import Job, run_job
from falcon_operator.cli.main import main
from falcon_operator.core.catalog import load_catalog
from falcon_operator.core.space import Space
from falcon_operator.fleet.backend import fleet_space
from falcon_operator.knowledge.dataset import FalconDataset, default_data_dir
from falcon_operator.search.driver import Budget, Driver
from falcon_operator.search.registry import make_strategy

CATALOG = load_catalog()
SMALL = MixSettings(n_sources=4, n_targets=3)


def small_space() -> Space:
    return fleet_space(CATALOG, gpus=["T4", "A100"], mig=True, batches=(1, 8, 64), cpus=(1, 8))


def test_generator_is_deterministic_and_keeps_the_held_out_rule() -> None:
    space = small_space()
    one, two = generate(CATALOG, SMALL, space=space), generate(CATALOG, SMALL, space=space)
    assert [e.model for e in one] == [e.model for e in two]
    sources = [e for e in one if not e.scenario]
    targets = [e for e in one if e.scenario]
    assert len(sources) == SMALL.n_sources and len(targets) == SMALL.n_targets
    assert [t.scenario for t in targets] == [s.name for s in SCENARIOS]
    for t in targets:
        nearest = min(profile_distance(t.shares, s.shares) for s in sources)
        assert nearest == pytest.approx(t.distance) and nearest >= SMALL.min_distance
    for e in one:
        assert sum(e.shares.values()) == pytest.approx(1.0)
    other = generate(CATALOG, MixSettings(seed=15, n_sources=4, n_targets=3), space=space)
    assert [e.model for e in other] != [e.model for e in one]


def test_scenarios_price_and_limit_differently() -> None:
    tight, spot, loose = (s.objective(CATALOG) for s in SCENARIOS)
    config = {"gputype": "A100", "cpus": 1}
    assert spot.cost_per_hour(config) < tight.cost_per_hour(config)
    assert tight.slo_p99_ms is not None and loose.slo_p99_ms is not None
    assert tight.slo_p99_ms <= 20 and loose.slo_p99_ms >= 200


def test_noise_off_is_the_old_best_so_far_and_on_deploys_the_best_measured() -> None:
    table = FalconDataset(default_data_dir()).tables("targets", ["vgg16"])[0]
    plain = run_job(Job("random", table, {}, 3, 12), {"": _paper_kb()})
    zero = NoisyTableOracle(table, sigma=0.0, seed=1)
    for i in range(5):
        record = zero.run(table.space.config_at(i))
        assert record.objective is None or record.objective == zero.truth[-1]
    noisy = run_job(Job("random", table, {}, 3, 12, noise_sigma=0.2), {"": _paper_kb()})
    assert noisy.run.best_so_far != plain.run.best_so_far  # same picks, another deployed one
    for value in noisy.run.best_so_far:
        assert math.isnan(value) or value in set(table.values[~np.isnan(table.values)])
    assert deployed_best([1.0, None, 3.0, 2.0], [0.9, math.nan, 0.5, 0.8]) == [0.9, 0.9, 0.5, 0.5]
    # noise 0 through the noisy path: exactly the noise-free best-so-far
    strategy = make_strategy("random", table.space, _paper_kb(), seed=plain.run.stream_seed or 0)
    oracle = NoisyTableOracle(table, sigma=0.0, seed=plain.run.stream_seed or 0)
    history = Driver(strategy, Budget(12)).run(oracle.run).history
    same = deployed_best([r.objective for r in history], oracle.truth)
    np.testing.assert_array_equal(same, plain.run.best_so_far)


def _paper_kb():  # type: ignore[no-untyped-def]
    return FalconDataset(default_data_dir()).knowledge()


def test_bench_mix_runs_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mixworld, "MixSettings", lambda: SMALL)
    monkeypatch.setattr("falcon_operator.bench.mixplan.MixSettings", lambda: SMALL)
    monkeypatch.setattr("falcon_operator.bench.mixplan.mix_space", lambda _c: small_space())
    out, data = tmp_path / "out", tmp_path / "data"
    args = ["bench", "--mix", "--methods", "random,source-rank", "--seeds", "1", "--trials",
            "2,4", "--workers", "1", "--no-latency", "--data", str(data),
            "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    doc = json.loads((out / "results.json").read_text())
    assert doc["meta"]["mix"]["noise_sigma"] == pytest.approx(0.03)
    targets = {r["target"] for r in doc["runs"]}
    assert len(targets) == SMALL.n_targets
    for s in SCENARIOS:
        assert (data / s.name / "models" / "sources").is_dir()
    assert main([*args[:2], "--loo", *args[2:]]) == 0
    loo = json.loads((out / "results.json").read_text())
    assert {r["target"].split("@")[1] for r in loo["runs"]} == {s.name for s in SCENARIOS}
