"""bench.stats: the bootstrap interval, paired win/tie/loss and the censored median trials."""

from __future__ import annotations

import numpy as np
import pytest

from falcon_operator.bench.stats import (
    RESAMPLES,
    bootstrap_mean,
    median_trials,
    win_tie_loss,
)


def test_bootstrap_matches_the_normal_interval_on_known_data() -> None:
    values = np.random.default_rng(1).normal(0.0, 1.0, 400)
    ci = bootstrap_mean([list(values)])
    half = 1.96 * values.std(ddof=1) / np.sqrt(values.size)  # the textbook 95 % half-width
    assert ci.mean == pytest.approx(values.mean())
    assert ci.low < ci.mean < ci.high
    assert (ci.high - ci.low) / 2 == pytest.approx(half, rel=0.1)
    assert (ci.low + ci.high) / 2 == pytest.approx(values.mean(), abs=0.2 * half)


def test_bootstrap_is_seeded_and_deterministic() -> None:
    groups = [[0.1, 0.5, 0.9, 0.3], [0.7, 0.2, 0.6]]
    assert bootstrap_mean(groups) == bootstrap_mean(groups)
    assert bootstrap_mean(groups, seed=1) != bootstrap_mean(groups)
    assert RESAMPLES == 2000


def test_bootstrap_resamples_targets_not_only_seeds() -> None:
    # a deterministic method: every seed equal within a target, targets far apart. Resampling
    # seeds alone would give a zero-width interval; resampling the two targets gives means
    # 0, 0.5 or 1 (probabilities 1/4, 1/2, 1/4), so the 95 % interval is [0, 1].
    ci = bootstrap_mean([[0.0] * 5, [1.0] * 5])
    assert (ci.mean, ci.low, ci.high) == (0.5, 0.0, 1.0)
    constant = bootstrap_mean([[0.8, 0.8], [0.8]])
    assert constant.low == pytest.approx(0.8) and constant.high == pytest.approx(0.8)


def test_bootstrap_rejects_nothing_to_resample() -> None:
    with pytest.raises(ValueError):
        bootstrap_mean([])
    with pytest.raises(ValueError):
        bootstrap_mean([[]])
    with pytest.raises(ValueError):
        bootstrap_mean([[1.0]], level=1.0)


def test_win_tie_loss_counts_pairs_from_the_reference_side() -> None:
    groups = [[(1.0, 0.9), (0.9, 0.9), (0.8, 1.0)], [(1.0, 0.5)]]
    result = win_tie_loss(groups)
    assert (result.wins, result.ties, result.losses) == (2, 1, 1)
    assert result.diff.mean == pytest.approx((0.1 + 0.0 - 0.2 + 0.5) / 4)
    assert result.diff.low <= result.diff.mean <= result.diff.high


def test_win_tie_loss_significance_follows_the_interval() -> None:
    rng = np.random.default_rng(3)
    better = [[(0.95 + 0.01 * rng.random(), 0.8 + 0.01 * rng.random()) for _ in range(20)]
              for _ in range(5)]  # fmt: skip
    result = win_tie_loss(better)
    assert (result.wins, result.ties, result.losses) == (100, 0, 0)
    assert result.diff.low > 0.1  # significantly better
    same = win_tie_loss([[(0.9, 0.9)] * 10])
    assert (same.wins, same.ties, same.losses) == (0, 10, 0)
    assert same.diff.low == same.diff.high == 0.0
    with pytest.raises(ValueError):
        win_tie_loss([[]])


def test_median_trials_counts_the_runs_that_never_get_there() -> None:
    assert median_trials([1, 2, 3, 4]).median == 2  # the lower median
    assert median_trials([5, 1, 3]).median == 3
    # dropping the failures would say 1; two of four never got there: still 'at least half'
    assert median_trials([1, None, None, 2]).median == 2
    # three of four never got there: not reached, honestly
    unreached = median_trials([1, None, None, None])
    assert unreached.median is None and unreached.reached == 0.25
    assert median_trials([None]).median is None
    assert median_trials([7]).reached == 1.0
    with pytest.raises(ValueError):
        median_trials([])
