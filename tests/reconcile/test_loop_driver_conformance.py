"""Every search loop goes through the one driver: ``falcon search``, ``falcon replay``,
``falcon bench`` and the operator's SearchLoop.

A spy driver stops each search after two trials (a budget of four), and counts the asks of the
strategies against the driver's: an entry point with a loop of its own would run four trials,
or ask a strategy without the driver.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from fake_kube import FakeKube
from loop_fakes import REF, FakeExecutor, context, ok_result, resolved, run
from rich.console import Console

import falcon_operator
from falcon_operator.bench.runner import Job, run_job
from falcon_operator.cli import commands
from falcon_operator.cli import search as search_cli
from falcon_operator.cli.main import main
from falcon_operator.core.records import History
from falcon_operator.knowledge.dataset import FalconDataset, default_data_dir
from falcon_operator.reconcile.prepare import shipped_knowledge
from falcon_operator.search.baselines import RandomStrategy
from falcon_operator.search.driver import Decision, Driver, Stop
from falcon_operator.search.strategy import Strategy

MODEL = Path(falcon_operator.__file__).parent / "data/models/resnet-mini.onnx"
STOP_AT = 2
BUDGET = 4


class Spy:
    """Stops every driven search after STOP_AT trials; counts asks of strategies and driver."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.decisions = self.driver_asks = self.strategy_asks = 0
        decide, ask, suggest = Driver.decide, Driver.suggest, Strategy.suggest

        def spy_decide(driver: Driver, history: History, **kw: Any) -> Decision:
            self.decisions += 1
            return (
                Decision(stop=Stop.BUDGET)
                if len(history) >= STOP_AT
                else decide(driver, history, **kw)
            )

        def spy_ask(driver: Driver, *args: Any, **kw: Any) -> Any:
            self.driver_asks += 1
            return ask(driver, *args, **kw)

        def spy_suggest(strategy: Strategy, *args: Any, **kw: Any) -> Any:
            self.strategy_asks += 1
            return suggest(strategy, *args, **kw)

        monkeypatch.setattr(Driver, "decide", spy_decide)
        monkeypatch.setattr(Driver, "suggest", spy_ask)
        monkeypatch.setattr(Strategy, "suggest", spy_suggest)

    def check(self) -> None:
        assert self.decisions > STOP_AT
        assert self.strategy_asks == self.driver_asks >= 1  # no ask around the driver


def _trial_lines(text: str) -> list[str]:
    return re.findall(rf"^\s*\d+/{BUDGET} ", text, flags=re.M)


def test_falcon_search_goes_through_the_driver(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    spy = Spy(monkeypatch)
    out = io.StringIO()
    monkeypatch.setattr(search_cli, "console", Console(file=out, width=400))
    argv = ["search", str(MODEL), "--trials", str(BUDGET), "--knowledge", "paper",
            "--method", "random", "--no-mig", "--output", str(tmp_path / "rec.yaml")]  # fmt: skip
    assert main(argv) == 0
    assert len(_trial_lines(out.getvalue())) == STOP_AT
    spy.check()


def test_falcon_replay_goes_through_the_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(monkeypatch)
    out = io.StringIO()
    monkeypatch.setattr(commands, "console", Console(file=out, width=400))
    argv = ["replay", "--target", "bert-large", "--trials", str(BUDGET), "--method", "random"]
    assert main(argv) == 0
    assert len(_trial_lines(out.getvalue())) == STOP_AT
    spy.check()


def test_the_benchmark_goes_through_the_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(monkeypatch)
    target = FalconDataset(default_data_dir()).tables("targets", ["bert-large"])[0]
    result = run_job(Job("random", target, {}, 0, BUDGET), {"": shipped_knowledge()})
    assert len(result.run.best_so_far) == STOP_AT
    assert len(result.latencies) == spy.driver_asks  # the driver timed every ask
    spy.check()


def test_the_operator_loop_goes_through_the_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(monkeypatch)
    rs = resolved(budget={"maxTrials": BUDGET})
    kube = FakeKube()
    ctx = context(rs, RandomStrategy(rs.space, seed=1))
    fin = run(kube, ctx, FakeExecutor(kube, ctx, ok_result(rs)))
    assert fin is not None and fin.reason == "BudgetExhausted"
    assert len(kube.history(REF.name)) == STOP_AT
    spy.check()
