"""Behaviour of the cold baselines (optuna-tpe, optuna-random, triton-quick, gp-ei) beyond the
conformance suite: seeded determinism, no repeats, the sources' feasibility, and one behaviour
each method is defined by."""

from __future__ import annotations

import numpy as np
import pytest
from optuna.trial import TrialState

from falcon_operator.backends.table import TableOracle
from falcon_operator.core.records import FailureKind, Outcome, TrialRecord
from falcon_operator.core.space import Config, Knob, Space
from falcon_operator.knowledge.base import Knowledge, build_knowledge
from falcon_operator.knowledge.tables import Table
from falcon_operator.search.gp_ei import LENGTH_BOUNDS, NOISE_FLOOR, textbook_gp
from falcon_operator.search.optuna_search import CONSTRAINT, OptunaTPEStrategy
from falcon_operator.search.quick_search import TritonQuickStrategy
from falcon_operator.search.registry import make_strategy
from falcon_operator.search.strategy import search_state
from falcon_operator.search.surrogate import fit_quietly

COLD = ("optuna-tpe", "optuna-random", "triton-quick", "gp-ei")
SPACE = Space(
    (
        Knob("batchsize", (4, 8, 16, 32, 64, 128)),
        Knob("cpus", (1, 2, 3, 4)),
        Knob("gputype", ("T4", "V100"), "categorical"),
    )
)
IDX = SPACE.all_indices()
X = SPACE.encode(IDX)
#: a smooth target with its optimum at batch 32, 4 cpus, V100
TARGET = 1.0 + X[:, 1] + 0.5 * X[:, 3] - 2.0 * (X[:, 0] - 0.6) ** 2


def _kb(*, veto_batch: int | None = None) -> Knowledge:
    """Two source models; with ``veto_batch`` neither ran at that batch size."""
    values = TARGET.copy()
    if veto_batch is not None:
        values[SPACE.values_of(IDX, "batchsize") == veto_batch] = np.nan
    return build_knowledge(sources=[Table("a", SPACE, values), Table("b", SPACE, values * 1.5)])


def _run(
    method: str, *, seed: int = 0, trials: int = 8, kb: Knowledge | None = None
) -> list[Config]:
    strategy = make_strategy(method, SPACE, kb or _kb(), seed=seed)
    oracle, history = TableOracle(Table("t", SPACE, TARGET)), []
    for _ in range(trials):
        (cfg,) = strategy.suggest(history)
        history.append(oracle.run(cfg))
    return [t.config for t in history]


@pytest.mark.parametrize("method", COLD)
def test_same_seed_same_search(method: str) -> None:
    assert _run(method, seed=3) == _run(method, seed=3)


@pytest.mark.parametrize("method", ["optuna-tpe", "optuna-random", "gp-ei"])
def test_other_seed_other_search(method: str) -> None:
    assert _run(method, seed=0) != _run(method, seed=1)


@pytest.mark.parametrize("method", COLD)
def test_never_suggests_a_tried_configuration_again(method: str) -> None:
    configs = _run(method, trials=30)
    assert len({SPACE.key(c) for c in configs}) == 30


@pytest.mark.parametrize("method", COLD)
def test_skips_what_the_sources_could_not_run(method: str) -> None:
    configs = _run(method, trials=20, kb=_kb(veto_batch=128))  # 40 configurations not vetoed
    assert all(c["batchsize"] != 128 for c in configs)


def test_optuna_replays_failures_as_violated_constraints_and_pending_as_running() -> None:
    strategy = OptunaTPEStrategy(SPACE, _kb(), seed=0)
    history = [
        TrialRecord(SPACE.config_at(0), Outcome.OK, 2.0),
        TrialRecord.failed(SPACE.config_at(5), FailureKind.OOM, "out of memory"),
        TrialRecord(SPACE.config_at(9), Outcome.OK, 3.0),
    ]
    study = strategy.study(search_state(SPACE, history, [SPACE.config_at(20)]))
    trials = study.get_trials(deepcopy=False)
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 3 + [TrialState.RUNNING]
    failed = trials[1]
    assert failed.constraints == {CONSTRAINT: 1.0}
    assert failed.value == 2.0  # the penalty: the worst objective seen
    assert trials[0].constraints == {} and trials[2].value == 3.0
    assert SPACE.index_of(trials[3].params) == 20


def test_triton_quick_starts_smallest_and_climbs_to_a_better_neighbour() -> None:
    strategy = TritonQuickStrategy(SPACE, _kb(), seed=0)
    start = strategy.suggest([])[0]
    assert start == {"batchsize": 4, "cpus": 1, "gputype": "T4"}
    history = [TrialRecord(start, Outcome.OK, 1.0)]
    neighbours = strategy.suggest(history, n=3)  # all one coordinate step from the start
    assert sorted(strategy.steps(np.array([SPACE.index_of(c) for c in neighbours]),
                                 SPACE.index_of(start)).tolist()) == [1, 1, 1]  # fmt: skip
    better = {"batchsize": 4, "cpus": 2, "gputype": "T4"}
    history.append(TrialRecord(better, Outcome.OK, 2.0))
    nxt = strategy.suggest(history, n=3)
    steps = strategy.steps(np.array([SPACE.index_of(c) for c in nxt]), SPACE.index_of(better))
    assert steps.tolist() == [1, 1, 1]  # it moved: the better neighbour is the new centre
    assert not strategy.should_stop(history)


def test_triton_quick_stops_at_a_local_optimum() -> None:
    strategy = TritonQuickStrategy(SPACE, _kb(), seed=0)
    top = {"batchsize": 4, "cpus": 1, "gputype": "T4"}
    neighbours = [
        {"batchsize": 8, "cpus": 1, "gputype": "T4"},
        {"batchsize": 4, "cpus": 2, "gputype": "T4"},
        {"batchsize": 4, "cpus": 1, "gputype": "V100"},
    ]
    history = [TrialRecord(top, Outcome.OK, 5.0)]
    history += [TrialRecord(c, Outcome.OK, 1.0) for c in neighbours[:2]]
    assert not strategy.should_stop(history)
    history.append(TrialRecord.failed(neighbours[2], FailureKind.OOM, "oom"))
    assert strategy.should_stop(history)


def test_gp_ei_fit_on_three_points_does_not_degenerate() -> None:
    pick = np.array([0, 17, 40])
    gp = fit_quietly(textbook_gp(0, X.shape[1]), X[pick], TARGET[pick])
    params = gp.kernel_.get_params()
    scales = np.atleast_1d(params["k1__k2__length_scale"])
    assert np.all(scales >= LENGTH_BOUNDS[0] * 0.999) and np.all(scales <= LENGTH_BOUNDS[1] * 1.001)
    assert params["k2__noise_level"] >= NOISE_FLOOR * 0.999
    mu, sd = gp.predict(X, return_std=True)
    rest = np.setdiff1d(np.arange(IDX.size), pick)
    assert sd[rest].min() > 0.01 * TARGET.std()  # uncertain away from the data
    assert np.ptp(mu[rest]) > 0.01 * TARGET.std()  # and not a flat line


def test_gp_ei_avoids_the_neighbourhood_of_a_failure() -> None:
    strategy = make_strategy("gp-ei", SPACE, _kb(), seed=0)
    ok = [SPACE.config_at(int(i)) for i in (0, 17, 30)]
    history = [TrialRecord(c, Outcome.OK, float(TARGET[SPACE.index_of(c)])) for c in ok]
    (wanted,) = strategy.suggest(history)
    failed = [*history, TrialRecord.failed(wanted, FailureKind.OOM, "oom")]
    (after,) = strategy.suggest(failed)
    w, a = SPACE.encode(np.array([SPACE.index_of(wanted), SPACE.index_of(after)]))
    assert float(np.abs(w - a).sum()) > 0.5  # it moved away, not next door
