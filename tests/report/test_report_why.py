"""Why the search skipped what it did not try, and the one-line why of the winner."""

from __future__ import annotations

import pytest

from falcon_operator.core.records import FailureKind, Outcome, TrialRecord
from falcon_operator.report.why import skipped, why_line
from falcon_operator.search.falcon import FalconStrategy


def test_every_untried_value_gets_the_searchs_estimate_or_the_sources_verdict(
    small: tuple[FalconStrategy, list[TrialRecord]],
) -> None:
    strategy, history = small
    skips = {(s.knob, s.value): s for s in skipped(strategy, history)}
    assert set(skips) == {("batchsize", 4), ("gputype", "B"), ("gputype", "C")}
    b4, gpu_b, gpu_c = skips["batchsize", 4], skips["gputype", "B"], skips["gputype", "C"]
    # the trials agree with the sources, so the estimates are the sources' ratios to A b2
    assert b4.ratio == pytest.approx(0.8, abs=0.02) and not b4.infeasible
    assert gpu_b.ratio == pytest.approx(0.4, abs=0.02)
    assert gpu_b.reason == "estimated at most 0.4× of the best measured"
    assert gpu_c.infeasible and gpu_c.ratio is None
    assert gpu_c.reason.startswith("infeasible according to the sources: none of")
    # and the search agrees: its next pick is the value estimated best (A b4), not B or C
    assert strategy.suggest(history, 1) == [{"batchsize": 4, "gputype": "A"}]


def test_the_why_line_names_the_winner_and_the_untried_gpu_types(
    small: tuple[FalconStrategy, list[TrialRecord]],
) -> None:
    strategy, history = small
    line = why_line(history, skipped(strategy, history))
    assert line == (
        "A b2: best measured of 2 ok trials; B estimated 0.4× of it by the knowledge base, "
        "not tried; C infeasible according to the sources"
    )


def test_the_why_line_compares_with_the_next_gpu_type_measured(
    small: tuple[FalconStrategy, list[TrialRecord]],
) -> None:
    strategy, history = small
    b = TrialRecord({"batchsize": 2, "gputype": "B"}, Outcome.OK, 30.0)
    line = why_line([*history, b], skipped(strategy, [*history, b]))
    assert "next best GPU type B measured 0.3× of it" in line
    assert "B estimated" not in line


def test_no_why_without_a_success(small: tuple[FalconStrategy, list[TrialRecord]]) -> None:
    strategy, _ = small
    bad = [TrialRecord.failed({"batchsize": 1, "gputype": "A"}, FailureKind.CRASH, "crash")]
    assert why_line(bad, skipped(strategy, bad)) == ""
    # without a best there is no ratio, but still the estimate in objective units
    reasons = {s.value: s.reason for s in skipped(strategy, bad) if s.knob == "gputype"}
    assert reasons["B"].startswith("not tried; estimated at most")
