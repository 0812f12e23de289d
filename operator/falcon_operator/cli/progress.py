"""Progress of long ``falcon`` commands: a rich bar with ETA on a terminal, plain lines elsewhere.

``search``, ``bench`` and ``kb build`` count their steps through :class:`Steps`. On a terminal
it draws a transient bar (description, bar, done/total, elapsed, time left) under the lines the
command prints; in a pipe or a log it draws nothing and, when ``plain_every`` is set, prints a
line such as ``120/480 runs done (35 s, about 105 s left)`` every that share of the work.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Column

#: the bar's label column: fixed, so that the bar does not jump as the label changes
LABEL_WIDTH = 28


class Steps:
    """A context manager counting ``total`` steps of work on ``console``."""

    def __init__(
        self,
        console: Console,
        description: str,
        total: int,
        *,
        unit: str = "steps",
        plain_every: float | None = None,
    ) -> None:
        self.console = console
        self.description = description
        self.total = total
        self.unit = unit
        self.plain_every = plain_every
        self.done = 0
        self._started = time.perf_counter()
        self._next_plain = 0
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> Steps:
        self._started = time.perf_counter()
        if self.console.is_terminal:
            self._bar = Progress(
                TextColumn(
                    "{task.description}",
                    table_column=Column(width=LABEL_WIDTH, no_wrap=True, overflow="ellipsis"),
                ),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(self.description, total=self.total)
        elif self.plain_every:
            self._next_plain = max(round(self.total * self.plain_every), 1)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def print(self, *objects: Any, **kwargs: Any) -> None:
        """Print above the bar (or plainly without one)."""
        self.console.print(*objects, **kwargs)

    def advance(self, steps: int = 1, *, description: str | None = None) -> None:
        """Count ``steps`` more steps done; ``description`` replaces the bar's label."""
        self.done += steps
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, advance=steps, description=description or self.description)
        elif self._next_plain and (self.done >= self._next_plain or self.done == self.total):
            self._next_plain = self.done + max(round(self.total * (self.plain_every or 1)), 1)
            self.console.print(self.plain_line(), highlight=False)

    def plain_line(self) -> str:
        """``done/total unit done (elapsed, about left)``, as printed without a terminal."""
        elapsed = time.perf_counter() - self._started
        line = f"{self.done}/{self.total} {self.unit} done ({elapsed:.0f} s"
        if 0 < self.done < self.total:
            left = elapsed / self.done * (self.total - self.done)
            line += f", about {left:.0f} s left"
        return line + ")"
