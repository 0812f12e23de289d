"""``falcon search``'s trial lines (100 columns at most) and the progress of long commands."""

from __future__ import annotations

import io
from collections.abc import Mapping

import pytest
from rich.console import Console

from falcon_operator.cli.progress import Steps
from falcon_operator.cli.trials import WIDTH, TrialLines, run_trials
from falcon_operator.core.catalog import load_catalog
from falcon_operator.core.records import FailureKind, Outcome, TrialRecord
from falcon_operator.core.space import Space, Value
from falcon_operator.fleet.backend import fleet_space
from falcon_operator.search.baselines import RandomStrategy

SPACE = fleet_space(load_catalog(None))


def _widest(space: Space) -> dict[str, Value]:
    return {k.name: max(k.values, key=lambda v: len(str(v))) for k in space.knobs}


def _ok(config: Mapping[str, Value]) -> TrialRecord:
    metrics = {"rps": 123456.7, "p99_ms": 12345.6, "cost_per_hour": 98.765}
    return TrialRecord(dict(config), Outcome.OK, objective=99999.9, metrics=metrics)


def test_trial_lines_fit_100_columns_and_keep_the_columns() -> None:
    lines = TrialLines(SPACE, 100)
    header, line = lines.header(), lines.line(100, _widest(SPACE), _ok(_widest(SPACE)))
    assert len(header) <= WIDTH and len(line) <= WIDTH
    assert header.index("gputype") == line.index(str(_widest(SPACE)["gputype"]))  # left-aligned
    assert header.index("rps ") + 3 == line.index("123456.7") + 8
    values = [f"{v:g}" if isinstance(v, float) else str(v) for v in _widest(SPACE).values()]
    assert line.split() == ["100/100", *values, "123456.7", "12345.6", "98.765", "99999.9"]


def test_a_long_failure_wraps_under_its_column() -> None:
    lines = TrialLines(SPACE, 12)
    short = TrialRecord.failed(
        _widest(SPACE), FailureKind.SLO, "measured p99 51.08 ms breaks the 50 ms SLO"
    )
    assert "\n" not in lines.line(3, _widest(SPACE), short)  # today's message fits one line
    reason = "measured p99 52.345 ms breaks the 50 ms SLO; the lowest p99 so far is 41.2 ms on L4"
    record = TrialRecord.failed(_widest(SPACE), FailureKind.SLO, reason)
    text = lines.line(3, _widest(SPACE), record)
    rows = text.splitlines()
    assert len(rows) == 2 and all(len(r) <= WIDTH for r in rows)
    start = rows[0].index("failed:")
    assert rows[1][:start].strip() == "" and rows[1][start] != " "
    assert " ".join(" ".join(r[start:] for r in rows).split()) == f"failed: {reason}"


def test_run_trials_prints_a_header_and_one_line_per_trial() -> None:
    out = io.StringIO()
    console = Console(file=out, width=60)
    history = run_trials(RandomStrategy(SPACE, seed=1), _ok, SPACE, 5, console)
    assert len(history) == 5
    rows = out.getvalue().splitlines()
    assert rows[0].split()[:6] == ["trial", "batch", "cpus", "gpumem", "power", "gputype"]
    assert [r.split()[0] for r in rows[1:]] == ["1/5", "2/5", "3/5", "4/5", "5/5"]
    assert max(len(r) for r in rows) > 60  # rich did not wrap them at the console width


def test_plain_progress_lines_say_how_long_is_left() -> None:
    out = io.StringIO()
    with Steps(Console(file=out), "runs", 40, unit="runs", plain_every=0.25) as steps:
        for _ in range(40):
            steps.advance()
    rows = out.getvalue().splitlines()
    assert [r.split(" ", 1)[0] for r in rows] == ["10/40", "20/40", "30/40", "40/40"]
    assert "s left)" in rows[0] and rows[-1].startswith("40/40 runs done (")
    assert "left" not in rows[-1]


@pytest.mark.parametrize("plain_every", [None, 0.5])
def test_a_terminal_gets_a_bar_with_eta_and_no_plain_lines(plain_every: float | None) -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    with Steps(console, "runs", 4, unit="runs", plain_every=plain_every) as steps:
        steps.print("a line above the bar")
        for _ in range(4):
            steps.advance(description="method / target")
        assert steps._bar is not None
        columns = [type(c).__name__ for c in steps._bar.columns]
    assert "TimeRemainingColumn" in columns and "BarColumn" in columns
    assert "a line above the bar" in out.getvalue()
    assert "runs done" not in out.getvalue()
    assert not Steps(Console(file=io.StringIO()), "x", 1)._bar  # no bar before it starts
