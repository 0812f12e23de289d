"""The ask/tell contract, checked for every registered strategy on the real and a synthetic space.

(a) the real 1,440-configuration Falcon space with the shipped knowledge base, target bert-large
answered by the table oracle; (b) a small synthetic space with a hand-built knowledge base.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pytest

from falcon_operator.backends.table import TableOracle
from falcon_operator.core.errors import StrategyError
from falcon_operator.core.records import FailureKind, Outcome, TrialRecord
from falcon_operator.core.space import Config, Knob, Space, Value
from falcon_operator.knowledge.base import Knowledge, build_knowledge
from falcon_operator.knowledge.curves import Curve
from falcon_operator.knowledge.dataset import FalconDataset, default_data_dir
from falcon_operator.knowledge.tables import Table
from falcon_operator.search.registry import METHODS, make_strategy
from falcon_operator.search.strategy import Strategy

N_TRIALS = 8
SETTINGS = ("real", "synthetic")


@dataclass(frozen=True)
class Setting:
    space: Space
    knowledge: Knowledge
    profile: Mapping[str, float]
    oracle: TableOracle

    def strategy(self, method: str, seed: int = 0) -> Strategy:
        return make_strategy(method, self.space, self.knowledge, profile=self.profile, seed=seed)


def _grid_curve(
    op: str,
    pair: str,
    knobs: tuple[str, str],
    levels: tuple[Sequence[float], Sequence[float | str]],
    f: Callable[[int, int], float],
) -> Curve:
    """A curve over the full grid of two knobs' levels, valued ``f(rank1, rank2)``."""
    l1, l2 = levels
    points = tuple((a, b, f(i, j)) for i, a in enumerate(l1) for j, b in enumerate(l2))
    return Curve(op, pair, knobs[0], knobs[1], points)


SYN_SPACE = Space(
    (
        Knob("batchsize", (4, 8, 16, 32, 64, 128)),
        Knob("cpus", (1, 2, 3, 4)),
        Knob("gputype", ("T4", "V100"), "categorical"),
    )
)


def _synthetic() -> Setting:
    bs, cpus, gpus = (4, 8, 16, 32, 64, 128), (1, 2, 3, 4), ("T4", "V100")
    curves = [
        _grid_curve(
            "transpose",
            "CPU-GPU",
            ("cpus", "gputype"),
            (cpus, gpus),
            lambda i, j: (i / 3) * (0.5 + 0.5 * j),
        ),
        _grid_curve(
            "transpose",
            "batchsize-GPU",
            ("batchsize", "gputype"),
            (bs, gpus),
            lambda i, j: ((i - 3) ** 2) / 9 * (0.6 + 0.4 * j),
        ),
        _grid_curve(
            "dense",
            "CPU-batchsize",
            ("cpus", "batchsize"),
            (cpus, bs),
            lambda i, j: 0.2 + 0.1 * i + 0.1 * j,
        ),
    ]
    idx = SYN_SPACE.all_indices()
    base = SYN_SPACE.encode(idx) @ np.array([0.6, 0.3, 0.1, 0.4]) + 0.2
    rng = np.random.default_rng(0)
    sources = [
        Table(f"src{k}", SYN_SPACE, base * (1 + 0.3 * k) + 0.05 * rng.standard_normal(idx.size))
        for k in range(3)
    ]
    kb = build_knowledge(curves=curves, sources=sources)
    target = Table("target", SYN_SPACE, 2.0 * base + 0.1 * rng.standard_normal(idx.size))
    return Setting(SYN_SPACE, kb, {"transpose": 0.7, "dense": 0.3}, TableOracle(target))


Run = tuple[Strategy, list[TrialRecord]]


@dataclass
class World:
    """Both settings, and each strategy's N_TRIALS-trial history, computed once per module."""

    settings: dict[str, Setting]
    runs: dict[tuple[str, str], Run] = field(default_factory=dict)

    def __getitem__(self, where: str) -> Setting:
        return self.settings[where]

    def run(self, method: str, where: str) -> Run:
        """A strategy (seed 0) and the history it made against the setting's oracle."""
        if (method, where) not in self.runs:
            s = self.settings[where]
            strategy = s.strategy(method)
            history: list[TrialRecord] = []
            for _ in range(N_TRIALS):
                (cfg,) = strategy.suggest(history)
                history.append(s.oracle.run(cfg))
            self.runs[method, where] = (strategy, history)
        return self.runs[method, where]


@pytest.fixture(scope="module")
def world() -> World:
    ds = FalconDataset(default_data_dir())
    kb = ds.knowledge()
    (target,) = ds.tables("targets", ["bert-large"])
    assert target.space == kb.space and target.space.size == 1440
    real = Setting(target.space, kb, ds.profile("bert-large"), TableOracle(target))
    return World({"real": real, "synthetic": _synthetic()})


def _keys(space: Space, configs: Sequence[Mapping[str, Value]]) -> list[tuple[Value, ...]]:
    return [space.key(c) for c in configs]


CASES = [pytest.param(m, w, id=f"{m}-{w}") for m in METHODS for w in SETTINGS]


# -- the history itself ------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "where"), CASES)
def test_history_has_no_repeats(world: World, method: str, where: str) -> None:
    space = world[where].space
    _, history = world.run(method, where)
    assert len(history) == N_TRIALS
    keys = _keys(space, [t.config for t in history])
    assert len(set(keys)) == N_TRIALS
    assert all(t.outcome is Outcome.OK for t in history)


@pytest.mark.parametrize(("method", "where"), CASES)
def test_suggestions_are_distinct_and_new(world: World, method: str, where: str) -> None:
    s = world[where]
    _, history = world.run(method, where)
    tried = set(_keys(s.space, [t.config for t in history]))
    untried = [c for c in s.space.configs() if s.space.key(c) not in tried]
    pending: list[Config] = [untried[0], untried[-1]]
    out = s.strategy(method).suggest(history, n=4, pending=pending)
    assert len(out) == 4
    keys = _keys(s.space, out)  # also validates every suggestion against the space
    assert len(set(keys)) == 4
    assert not set(keys) & tried
    assert not set(keys) & set(_keys(s.space, pending))


@pytest.mark.parametrize(("method", "where"), CASES)
def test_deterministic_per_seed(world: World, method: str, where: str) -> None:
    s = world[where]
    _, history = world.run(method, where)
    a, b = s.strategy(method, seed=7), s.strategy(method, seed=7)
    assert a.suggest(history) == b.suggest(history)
    assert a.suggest([], n=3) == b.suggest([], n=3)


def test_random_depends_on_the_seed(world: World) -> None:
    s = world["real"]
    assert s.strategy("random", seed=0).suggest([], n=4) != s.strategy("random", seed=1).suggest(
        [], n=4
    )


@pytest.mark.parametrize(("method", "where"), CASES)
def test_budget_is_exact(world: World, method: str, where: str) -> None:
    s = world[where]
    _, history = world.run(method, where)
    assert len(s.strategy(method).suggest(history[:2], n=1)) == 1
    assert len(s.strategy(method).suggest(history[:2], n=3)) == 3


@pytest.mark.parametrize("method", METHODS)
def test_budget_stops_when_the_space_runs_out(world: World, method: str) -> None:
    tiny = Space((Knob("batchsize", (4, 8, 16)), Knob("gputype", ("T4", "V100"), "categorical")))
    kb = world["synthetic"].knowledge
    strategy = make_strategy(method, tiny, kb, profile={"transpose": 1.0}, seed=0)
    history = [TrialRecord(tiny.config_at(i), Outcome.OK, float(i + 1)) for i in range(5)]
    assert strategy.suggest(history, n=3) == [tiny.config_at(5)]
    assert strategy.suggest(history[:4], n=3, pending=[tiny.config_at(4)]) == [tiny.config_at(5)]
    full = [*history, TrialRecord.failed(tiny.config_at(5), FailureKind.CRASH, "crash")]
    assert strategy.suggest(full, n=2) == []


def _cut_a_plus_b(config: Mapping[str, Value]) -> bool:
    return int(config["a"]) + int(config["b"]) <= 5


@pytest.mark.parametrize(
    "method",
    [m for m in METHODS],
)
def test_constrained_space_running_out_returns_fewer(world: World, method: str) -> None:
    space = Space((Knob("a", (1, 2, 3)), Knob("b", (1, 2, 3))), constraints=(_cut_a_plus_b,))
    feasible = [int(i) for i in space.all_indices()]
    assert len(feasible) == 8  # (3, 3) is cut
    history = [TrialRecord(space.config_at(i), Outcome.OK, float(i + 1)) for i in feasible[:5]]
    strategy = make_strategy(method, space, world["synthetic"].knowledge, seed=0)
    out = strategy.suggest(history, n=4)
    assert sorted(space.index_of(c) for c in out) == feasible[5:]


# -- statelessness and replay ----------------------------------------------------------------------


def _through_json(history: Sequence[TrialRecord]) -> list[TrialRecord]:
    text = json.dumps([t.to_dict() for t in history])
    return [TrialRecord.from_dict(d) for d in json.loads(text)]


@pytest.mark.parametrize(("method", "where"), CASES)
def test_history_round_trip_gives_same_suggestions(world: World, method: str, where: str) -> None:
    s = world[where]
    _, history = world.run(method, where)
    mixed = [
        *history[:-2],
        TrialRecord.failed(history[-2].config, FailureKind.UNSCHEDULABLE, "no node"),
        TrialRecord.failed(history[-1].config, FailureKind.TIMEOUT, "timeout"),
    ]
    replayed = _through_json(mixed)
    assert replayed == mixed
    assert s.strategy(method).suggest(replayed, n=2) == s.strategy(method).suggest(mixed, n=2)


@pytest.mark.parametrize(("method", "where"), CASES)
def test_a_new_strategy_continues_like_the_old_one(world: World, method: str, where: str) -> None:
    s = world[where]
    original, history = world.run(method, where)
    before = original.suggest(history)
    assert s.strategy(method).suggest(history) == before
    assert original.suggest(history) == before  # asking again changes nothing


# -- unsuccessful trials -----------------------------------------------------------------------


@pytest.mark.parametrize(("method", "where"), CASES)
def test_infeasible_and_failed_trials_are_not_suggested_again(
    world: World, method: str, where: str
) -> None:
    s = world[where]
    _, history = world.run(method, where)
    strategy = s.strategy(method)
    wanted = strategy.suggest(history, n=2)  # what it would try next
    bad = [
        TrialRecord.failed(wanted[0], FailureKind.OOM, "out of memory"),
        TrialRecord.failed(wanted[1], FailureKind.CRASH, "crash"),
    ]
    out = strategy.suggest([*history, *bad], n=3)
    assert len(out) == 3
    keys = set(_keys(s.space, out))
    assert len(keys) == 3
    assert not keys & set(_keys(s.space, wanted))
    assert not keys & set(_keys(s.space, [t.config for t in history]))
    # only unsuccessful trials so far: still works, still skips them
    first = strategy.suggest([], n=2)
    only_bad = [
        TrialRecord.failed(first[0], FailureKind.UNSCHEDULABLE, "no node"),
        TrialRecord.failed(first[1], FailureKind.CRASH, "crash"),
    ]
    again = strategy.suggest(only_bad, n=2)
    assert len(again) == 2
    assert not set(_keys(s.space, again)) & set(_keys(s.space, first))


# -- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "where"), CASES)
@pytest.mark.parametrize("n", [0, -1])
def test_n_below_one_raises(world: World, method: str, where: str, n: int) -> None:
    with pytest.raises(StrategyError):
        world[where].strategy(method).suggest([], n=n)


@pytest.mark.parametrize("name", ["nope", "Falcon", ""])
def test_unknown_method_raises(world: World, name: str) -> None:
    s = world["synthetic"]
    with pytest.raises(StrategyError, match="choose from"):
        make_strategy(name, s.space, s.knowledge)
