"""The trial loop of ``falcon search``: one line per trial, 100 columns at most, and a bar.

A header names the knobs once; each trial line then shows the knob values in columns (names
left-aligned, numbers right-aligned) and the measurement (throughput, p99, price, objective)
or why the trial failed, wrapped under its column when longer. On a terminal a progress bar
with the time left runs below the lines.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from falcon_operator.cli.progress import Steps
from falcon_operator.core.knobs import BATCH, POWER

if TYPE_CHECKING:
    from rich.console import Console

    from falcon_operator.core.objective import Objective
    from falcon_operator.core.records import TrialRecord
    from falcon_operator.core.space import Space, Value
    from falcon_operator.search.strategy import Strategy

#: the widest trial line (the issue's limit; a terminal of 100 columns never wraps one)
WIDTH = 100
MEASURED_HEAD = f"{'rps':>8} {'p99 ms':>8} {'$/h':>6}"
MEASURED = f"{MEASURED_HEAD} {'rps/$':>8}"
#: shorter column titles for the fleet's knobs, leaving a failure's reason room on one line
TITLES = {BATCH: "batch", POWER: "power"}


class TrialLines:
    """Formats trial lines for ``space`` and a budget of ``trials``."""

    def __init__(
        self,
        space: Space,
        trials: int,
        *,
        objective: Objective | None = None,
        unit: str | None = None,
    ) -> None:
        #: the score's column: requests/s per $/h, or the target fleet's $/h (core/objective.py)
        self.objective = objective
        #: a score per core (live search): the price column shows the pinned cores instead
        self.per_core = unit == "rps/core"
        self.names = [k.name for k in space.knobs]
        self.titles = [TITLES.get(k.name, k.name) for k in space.knobs]
        self.widths = [
            max(len(t), *(len(_value(v)) for v in k.values))
            for t, k in zip(self.titles, space.knobs, strict=True)
        ]
        self.align = [
            ">" if all(isinstance(v, int | float) for v in k.values) else "<" for k in space.knobs
        ]
        self.count = len(f"{trials}/{trials}")
        self.trials = trials

    def header(self, measured: str | None = None) -> str:
        """The knob names over their columns, then the measurement's columns."""
        if measured is None and self.per_core:
            measured = f"{'rps':>8} {'p99 ms':>8} {'cores':>6} {'rps/core':>8}"
        if measured is None:
            unit = self.objective.unit if self.objective is not None else "rps/$"
            measured = f"{MEASURED_HEAD} {unit:>8}"
        cols = " ".join(
            f"{t:{a}{w}}" for t, w, a in zip(self.titles, self.widths, self.align, strict=True)
        )
        return f"{'trial':>{self.count}} {cols}  {measured}"

    def head(self, n: int, config: Mapping[str, Value]) -> str:
        """Trial ``n`` and its knob values, in the header's columns."""
        values = " ".join(
            f"{_value(config[k]):{a}{w}}"
            for k, w, a in zip(self.names, self.widths, self.align, strict=True)
        )
        return f"{f'{n}/{self.trials}':>{self.count}} {values}  "

    def line(self, n: int, config: Mapping[str, Value], record: TrialRecord) -> str:
        """Trial ``n``: its values, then its measurement or outcome (wrapped past WIDTH)."""
        head = self.head(n, config)
        if record.ok and record.objective is not None:
            m = record.metrics
            o = self.objective
            shown = record.objective if o is None else o.shown(record.objective)
            if self.per_core:
                return head + (
                    f"{m['rps']:8.1f} {m['p99_ms']:8.1f} {m['cores']:6g} {record.objective:8.1f}"
                )
            return head + (
                f"{m['rps']:8.1f} {m['p99_ms']:8.1f} {m['cost_per_hour']:6.3f} "
                + (f"{shown:8.1f}" if o is None or o.unit == "rps/$" else f"{shown:8.3f}")
            )
        text = f"{record.outcome.value}: {record.reason}"
        width = max(WIDTH - len(head), 30)
        parts = textwrap.wrap(text, width=width) or [text]
        return "\n".join([head + parts[0], *(" " * len(head) + p for p in parts[1:])])


def _value(v: Value) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def run_trials(
    strategy: Strategy,
    measure: Callable[[Mapping[str, Value]], TrialRecord],
    space: Space,
    trials: int,
    console: Console,
    *,
    objective: Objective | None = None,
    unit: str | None = None,
) -> list[TrialRecord]:
    """Drive ``strategy`` for up to ``trials`` trials, measure each, print its line."""
    from falcon_operator.search.driver import Budget, Driver

    lines = TrialLines(space, trials, objective=objective, unit=unit)
    console.print(lines.header(), highlight=False, style="bold", soft_wrap=True)
    with Steps(console, "trials", trials, unit="trials") as steps:

        def told(n: int, config: Mapping[str, Value], record: TrialRecord) -> None:
            steps.print(lines.line(n, config, record), highlight=False, soft_wrap=True)
            steps.advance()

        run = Driver(strategy, Budget(trials)).run(measure, on_trial=told)
    return run.history
