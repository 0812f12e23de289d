"""Simulated trials (``--simulate-trials``): a ready KWOK trial pod gets the simulated fleet's
measurement of its configuration -- the very numbers ``falcon search`` prints for it with the
same seed -- after the trial's wall time, and a pod that goes away mid-trial fails the trial.

The operator side runs the real ``prepare`` (model read from its ConfigMap and analysed) and
``measure.simulated`` against the fake API server (the two reads they make: a ConfigMap and a
pod); the e2e tests run them against a real one.
"""

from __future__ import annotations

import asyncio
import io
import re
import time
from pathlib import Path
from typing import Any

import pytest
from fake_kube import FakeKube, model_ref
from rich.console import Console

import falcon_operator
from falcon_operator.cli import search as search_cli
from falcon_operator.cli.main import main
from falcon_operator.core.records import FailureKind, Outcome, TrialRecord
from falcon_operator.core.space import Value
from falcon_operator.reconcile import measure
from falcon_operator.reconcile.plan import Launch
from falcon_operator.reconcile.prepare import SearchContext, prepare, shipped_knowledge
from falcon_operator.reconcile.settings import ControllerSettings
from falcon_operator.spec.model import BudgetSpec
from falcon_operator.trials.history import TrialEntry
from falcon_operator.trials.manifest import SearchRef
from falcon_operator.trials.readback import read_pod
from falcon_operator.trials.simulated import SimulationSettings

PACKAGE = Path(falcon_operator.__file__).parent
MODEL = PACKAGE / "data/models/resnet-mini.onnx"
REF = SearchRef("resnet-mini", "team-a", "0000-1111")
#: a trial line of falcon search (cli/trials.py): n/N, the knob values in space order, then
#: rps, p99 ms, $/h, rps/$ or the outcome and its reason (the reason's first line)
LINE = re.compile(
    r"^\s*\d+/\d+\s+(?P<batchsize>\d+)\s+(?P<cpus>\d+)\s+(?P<gpumem>[\d.]+)\s+"
    r"(?P<gpupower>\d+)\s+(?P<gputype>\S+)\s+(?:(?P<rps>[\d.]+)\s+(?P<p99>[\d.]+)\s+"
    r"(?P<cost>[\d.]+)\s+(?P<obj>[\d.]+)$|(?P<outcome>failed|infeasible): (?P<reason>.*))"
)
TYPES = {"batchsize": int, "cpus": int, "gpumem": float, "gpupower": int, "gputype": str}


def _body(seed: int, slo_ms: float) -> dict[str, Any]:
    return {
        "spec": {
            "model": model_ref(),
            "searchSpace": {
                "gpus": [{"type": "T4"}, {"type": "V100"}, {"type": "A100"}],
                "cpus": [1, 2, 4, 8],
                "gpuMemoryGB": [0, 2, 4, 8],
                "batchSizes": [1, 2, 4, 8, 16, 32, 64, 128],
                "powerLimits": [50, 75, 100],
            },
            "objective": {"sloP99Ms": slo_ms},
            "algorithm": {"name": "falcon", "seed": seed},
        }
    }


async def _context(api: FakeKube, settings: ControllerSettings, seed: int) -> SearchContext:
    return await prepare(
        api.kube, settings, REF, _body(seed, 50.0), knowledge=lambda _: shipped_knowledge()
    )


def _settings(trial_seconds: float) -> ControllerSettings:
    return ControllerSettings(poll_s=0.05, simulate=SimulationSettings(trial_seconds))


async def _trial(
    api: FakeKube, ctx: SearchContext, settings: ControllerSettings, config: dict[str, Value]
) -> TrialRecord:
    name = f"resnet-mini-t{len(api.pods):03d}"
    view = read_pod(api.add_ready_pod(name, ready_at="2026-01-01T00:00:01Z"))
    launch = Launch(len(api.pods), name, config)
    return await measure.simulated(api.kube, ctx, launch, view, settings)


def _falcon_search(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int) -> list[Any]:
    """``falcon search`` on ResNet-mini: its printed trials, parsed."""
    out = io.StringIO()
    monkeypatch.setattr(search_cli, "console", Console(file=out, width=400))
    argv = ["search", str(MODEL), "--trials", "8", "--seed", str(seed), "--slo-p99-ms", "50",
            "--gpus", "T4,V100,A100", "--no-mig", "--knowledge", "paper", "--method", "random",
            "--output", str(tmp_path / "rec.yaml")]  # fmt: skip
    assert main(argv) == 0
    trials = [m for m in map(LINE.search, out.getvalue().splitlines()) if m]
    assert len(trials) == 8, out.getvalue()
    return trials


def _config(match: Any) -> dict[str, Value]:
    return {k: convert(match[k]) for k, convert in TYPES.items()}


def test_simulated_trials_measure_what_falcon_search_measures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed = 0  # random picks: 5 measured, 2 unreachable SLOs, 1 broken SLO
    trials = _falcon_search(tmp_path, monkeypatch, seed)
    api, settings = FakeKube(), _settings(0.05)

    async def operator_side() -> list[TrialRecord]:
        ctx = await _context(api, settings, seed)
        try:
            return [await _trial(api, ctx, settings, _config(t)) for t in trials]
        finally:
            await ctx.close()

    records = asyncio.run(operator_side())
    ok = 0
    for t, record in zip(trials, records, strict=True):
        if t["rps"] is None:  # failed or infeasible in falcon search: not ok here either
            assert not record.ok
            assert t["reason"].strip() in record.reason
            continue
        ok += 1
        assert record.outcome is Outcome.OK, record.reason
        m = record.metrics
        assert f"{m['rps']:.1f}" == t["rps"]
        assert f"{m['p99_ms']:.1f}" == t["p99"]
        assert f"{m['cost_per_hour']:.3f}" == t["cost"]
        assert f"{record.objective:.1f}" == t["obj"]
        assert "time_scale" not in m
    assert ok >= 4 and ok < len(trials)  # measured trials and failed ones alike


def test_the_search_seed_keys_the_measurement_noise() -> None:
    config: dict[str, Value] = {
        "batchsize": 8, "cpus": 4, "gpumem": 0.0, "gpupower": 100, "gputype": "T4"
    }  # fmt: skip

    async def measure_with(seed: int) -> float:
        api, settings = FakeKube(), _settings(0.01)
        ctx = await _context(api, settings, seed)
        try:
            return (await _trial(api, ctx, settings, config)).metrics["rps"]
        finally:
            await ctx.close()

    a, a_again, b = (asyncio.run(measure_with(s)) for s in (0, 0, 1))
    assert a == a_again
    assert a != b and abs(a - b) / a < 0.2  # noise, not another configuration


def test_a_simulated_trial_takes_its_wall_time_and_fails_when_its_pod_goes() -> None:
    config: dict[str, Value] = {
        "batchsize": 4, "cpus": 2, "gpumem": 0.0, "gpupower": 75, "gputype": "V100"
    }  # fmt: skip
    api, settings = FakeKube(), _settings(0.6)

    async def run() -> tuple[float, TrialRecord, TrialRecord]:
        ctx = await _context(api, settings, 0)
        try:
            t0 = time.monotonic()
            full = await _trial(api, ctx, settings, config)
            took = time.monotonic() - t0
            task = asyncio.create_task(_trial(api, ctx, settings, config))
            await asyncio.sleep(0.2)
            assert not task.done()
            api.pods.clear()  # the pod is deleted mid-trial
            return took, full, await task
        finally:
            await ctx.close()

    took, full, cut = asyncio.run(run())
    assert 0.6 <= took < 3.0
    assert full.ok
    assert cut.failure is FailureKind.DELETED and not cut.ok


def test_a_reused_pod_asked_for_a_batch_that_does_not_fit_is_an_oom_trial() -> None:
    # ResNet-mini needs about 0.35 GB at batch 1; a 0.25 GB MPS limit cannot hold it
    config: dict[str, Value] = {
        "batchsize": 1, "cpus": 2, "gpumem": 0.25, "gpupower": 100, "gputype": "T4"
    }  # fmt: skip
    api, settings = FakeKube(), _settings(5.0)

    async def run() -> TrialRecord:
        ctx = await _context(api, settings, 0)
        try:
            assert ctx.sim is not None and ctx.sim.fault_for(config) == "oom"
            return await _trial(api, ctx, settings, config)
        finally:
            await ctx.close()

    t0 = time.monotonic()
    record = asyncio.run(run())
    assert record.failure is FailureKind.OOM and "out of memory" in record.reason
    assert record.outcome is Outcome.INFEASIBLE and not record.counts_against_budget
    assert time.monotonic() - t0 < 5.0  # refused at once, as Triton refuses the reload


def test_the_default_trial_time_is_the_budget_warmup_plus_its_windows() -> None:
    api, settings = FakeKube(), ControllerSettings(simulate=SimulationSettings())

    async def run() -> float:
        ctx = await _context(api, settings, 0)
        try:
            assert ctx.sim is not None
            return ctx.sim.trial_seconds(BudgetSpec(warmup_s=0.5, measurement_s=1.0, windows=3))
        finally:
            await ctx.close()

    assert asyncio.run(run()) == pytest.approx(3.5)


def test_records_written_with_a_time_scale_still_read_back() -> None:
    old = {
        "index": 0,
        "name": "s-t000",
        "config": {"batchsize": 4, "cpus": 2, "gputype": "T4"},
        "outcome": "ok",
        "objective": 812.5,
        "metrics": {"rps": 650.0, "p99_ms": 2.9, "time_scale": 12.5},
    }
    assert TrialEntry.from_dict(old).record.metrics["rps"] == 650.0


def test_the_operator_does_not_import_the_test_server() -> None:
    users = [p for p in PACKAGE.rglob("*.py") if "testserver" in p.read_text()]
    assert users == []
