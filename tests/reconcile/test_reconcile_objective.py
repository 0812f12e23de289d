"""The search's objective reaches what it starts from: price overrides and the metric shape the
fleet knowledge, its prior and its first suggestion; the knowledge is built on the catalog the
spec was resolved against (so every GPU type of the space is known to it)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from falcon_operator.core.catalog import load_catalog
from falcon_operator.core.errors import SpecError
from falcon_operator.knowledge.prior import Prior
from falcon_operator.reconcile.engine import build_engine
from falcon_operator.reconcile.prepare import search_knowledge
from falcon_operator.spec import ResolvedSearch, parse_spec, resolve

PROFILE = {"conv2d": 0.6, "dense": 0.3, "relu": 0.1}


def _spec(gpus: list[str], **objective: Any) -> dict[str, Any]:
    return {
        "model": {
            "name": "m",
            "configMapRef": {"name": "m", "key": "k"},
            "operatorProfile": PROFILE,
        },
        "searchSpace": {
            "gpus": [{"type": g} for g in gpus],
            "cpus": [2, 4],
            "batchSizes": [1, 8, 16],
        },
        "objective": {"sloP99Ms": 50, **objective},
        "algorithm": {"name": "falcon", "seed": 0},
    }


def _first(rs: ResolvedSearch) -> tuple[str, str]:
    """(GPU type of the prior's best configuration, GPU type of the first suggestion)."""
    kb = search_knowledge(rs)
    assert kb.space == rs.space and len(kb.sources) == 9  # the fleet's knowledge
    prior = Prior(kb, rs.space, PROFILE)
    idx = rs.space.all_indices()
    top = rs.space.config_at(int(idx[int(np.argmax(prior.mean(idx)))]))
    (first,) = build_engine(rs, kb, profile=PROFILE).suggest([], 1)
    return str(top["gputype"]), str(first["gputype"])


def test_price_overrides_reach_the_prior_and_the_first_suggestion(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """At catalog prices an H100 is the dearest GPU per request; priced at a cent an hour it
    is the cheapest, and the knowledge the search starts from must say so."""
    monkeypatch.setenv("FALCON_CACHE", str(tmp_path))
    gpus = ["T4", "V100", "H100"]
    catalog = load_catalog()
    listed = resolve(parse_spec(_spec(gpus)), catalog)
    cheap = resolve(parse_spec(_spec(gpus, prices={"gpuHour": {"H100": 0.01}})), catalog)
    assert _first(listed) != ("H100", "H100")
    assert _first(cheap) == ("H100", "H100")


def test_cost_at_target_throughput_is_parsed_resolved_and_scored(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FALCON_CACHE", str(tmp_path))
    spec = _spec(["T4", "V100"], metric="CostAtTargetThroughput", targetRequestsPerSecond=2000)
    rs = resolve(parse_spec(spec), load_catalog())
    assert rs.objective.target_rps == 2000 and rs.objective.slo_p99_ms == 50
    kb = search_knowledge(rs)
    for values in kb.sources.values():  # normalised replica-fleet scores, NaN where it can't run
        assert np.nanmax(values) == pytest.approx(1.0)
    with pytest.raises(SpecError, match="targetRequestsPerSecond"):
        parse_spec(_spec(["T4"], metric="CostAtTargetThroughput"))


def test_the_knowledge_is_built_on_the_catalog_the_spec_was_resolved_against(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A GPU type the shipped catalog lacks but the search's catalog has gets the fleet's
    knowledge, not the paper's curves: there is no "unknown GPU" case left after resolution."""
    monkeypatch.setenv("FALCON_CACHE", str(tmp_path))
    shipped = load_catalog()
    z100 = dataclasses.replace(shipped.gpus["T4"], name="Z100", product="Z100", hour=0.2)
    catalog = dataclasses.replace(shipped, gpus={**shipped.gpus, "Z100": z100})
    rs = resolve(parse_spec(_spec(["T4", "Z100"])), catalog)
    kb = search_knowledge(rs)
    assert kb.space == rs.space and len(kb.sources) == 9
    with pytest.raises(SpecError, match="unknown GPU type 'Z100'"):
        resolve(parse_spec(_spec(["T4", "Z100"])), shipped)


def test_simulated_trials_are_priced_and_scored_by_the_searchs_objective() -> None:
    """The operator's simulated judge gets the spec's metric, target and price overrides."""
    import asyncio
    import math

    from fake_kube import FakeKube

    from falcon_operator.reconcile.prepare import prepare, shipped_knowledge
    from falcon_operator.reconcile.settings import ControllerSettings
    from falcon_operator.trials.manifest import SearchRef
    from falcon_operator.trials.simulated import SimulationSettings

    spec = _spec(
        ["T4", "V100"],
        metric="CostAtTargetThroughput",
        targetRequestsPerSecond=3000,
        prices={"gpuHour": {"T4": 0.1}, "cpuCoreHour": 0.01, "memoryGiBHour": 0.0},
    )
    del spec["model"]["operatorProfile"]
    settings = ControllerSettings(simulate=SimulationSettings(0.0))

    api = FakeKube(model_configmap="m", model_key="k")  # the spec's model: ConfigMap m, key k

    async def simulated() -> Any:
        ctx = await prepare(
            api.kube, settings, SearchRef("s", "ns", "uid"), {"spec": spec},
            knowledge=lambda _: shipped_knowledge(),
        )  # fmt: skip
        try:
            assert ctx.sim is not None
            config = {"batchsize": 8, "cpus": 4, "gpumem": 0.0, "gpupower": 100, "gputype": "T4"}
            return ctx.sim.record(config)
        finally:
            await ctx.close()

    record = asyncio.run(simulated())
    assert record.ok, record.reason
    cost = 0.1 + 4 * 0.01
    assert record.metrics["cost_per_hour"] == pytest.approx(cost)
    replicas = math.ceil(3000 / record.metrics["rps"])
    assert record.objective == pytest.approx(1 / (replicas * cost))
