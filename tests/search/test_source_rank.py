"""``source-rank``: the sources' mean ranking (normalised, infeasible = 0) as a fixed list that
skips configurations differing from a listed one only in the MPS limit or the power cap."""

from __future__ import annotations

import numpy as np

from falcon_operator.core.records import Outcome, TrialRecord
from falcon_operator.core.space import Knob, Space
from falcon_operator.knowledge.base import build_knowledge
from falcon_operator.knowledge.tables import Table
from falcon_operator.search.registry import make_strategy
from falcon_operator.search.source_rank import mean_ranking, skip_twins

SPACE = Space(
    (
        Knob("batchsize", (1, 8)),
        Knob("gpumem", (0.0, 4.0)),
        Knob("gpupower", (50, 100)),
        Knob("gputype", ("T4", "A100"), "categorical"),
    )
)


def _values(f: object) -> np.ndarray:  # type: ignore[type-arg]
    return np.array([f(SPACE.config_at(i)) for i in range(SPACE.size)], dtype=float)  # type: ignore[operator]


def _strategy():  # type: ignore[no-untyped-def]
    # source a prefers batch 8 on A100; source b (10x larger values) prefers batch 8 on T4 and
    # cannot run batch 8 with a 4 GB limit (missing cells)
    a = _values(
        lambda c: (c["batchsize"] == 8) * 2 + (c["gputype"] == "A100") + c["gpupower"] / 1e3
    )
    b = _values(lambda c: np.nan if c["batchsize"] == 8 and c["gpumem"] == 4.0 else
                10 * ((c["batchsize"] == 8) * 2 + (c["gputype"] == "T4") * 1.5))  # fmt: skip
    kb = build_knowledge(curves=[], sources=[Table("a", SPACE, a), Table("b", SPACE, b)])
    return make_strategy("source-rank", SPACE, kb, seed=5), a, b


def test_order_is_the_normalised_mean_with_missing_cells_zero() -> None:
    strategy, a, b = _strategy()
    mean = (a / np.nanmax(a) + np.nan_to_num(b / np.nanmax(b))) / 2
    ranked = mean_ranking(np.vstack([a, b]), SPACE.all_indices())
    assert np.all(np.diff(mean[ranked]) <= 1e-12)
    first = SPACE.config_at(int(strategy.order[0]))
    assert first["batchsize"] == 8 and first["gpumem"] == 0.0


def test_twins_in_gpumem_or_gpupower_follow_every_first_of_its_kind() -> None:
    strategy, _, _ = _strategy()
    lead = [SPACE.config_at(int(i)) for i in strategy.order[:4]]
    kinds = {(c["batchsize"], c["gputype"]) for c in lead}
    assert len(kinds) == 4  # the four (batch, GPU) kinds before any twin
    twins = skip_twins(SPACE, strategy.order)
    assert sorted(twins.tolist()) == sorted(strategy.order.tolist())


def test_fixed_list_ignores_results_and_seed() -> None:
    strategy, a, b = _strategy()
    picks = strategy.suggest([], 3)
    bad = [TrialRecord(dict(picks[0]), Outcome.OK, -1.0)]
    again = make_strategy("source-rank", SPACE, build_knowledge(
        curves=[], sources=[Table("a", SPACE, a), Table("b", SPACE, b)]), seed=99)  # fmt: skip
    assert again.suggest(bad, 2) == picks[1:]
    assert strategy.suggest([], 2, pending=[picks[0]]) == picks[1:]
