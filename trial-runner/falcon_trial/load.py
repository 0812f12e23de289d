"""Closed-loop load: N worker threads, each with its own connection and one request in flight.

Every completed request is recorded as ``(completion time, latency, ok)`` in one list (appends
and slices are atomic under the GIL); readers take what was appended since a cursor. The pool
only grows (``scale_to``), which is what a concurrency sweep needs: connections stay warm from
one step to the next. ``stop`` lets every in-flight request finish, so the records account for
every request sent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

from falcon_trial.client import describe

Record = tuple[float, float, bool]
"""(completion time, latency in seconds, succeeded) of one request."""


class Worker(Protocol):
    """One connection able to repeat a prepared request."""

    def infer(self) -> None: ...

    def close(self) -> None: ...


class LoadGenerator:
    """A growing pool of closed-loop workers; ``open_worker`` is called in each worker thread."""

    def __init__(
        self,
        open_worker: Callable[[], Worker],
        *,
        error_backoff_s: float = 0.01,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._open = open_worker
        self._backoff = error_backoff_s
        self._clock = clock
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._records: list[Record] = []
        self._alive = 0
        self._lock = threading.Lock()
        self.last_error = ""
        """The most recent failure, one line."""

    @property
    def concurrency(self) -> int:
        """Workers started so far."""
        return len(self._threads)

    @property
    def alive(self) -> int:
        """Workers currently running (a worker whose connection could not open has exited)."""
        with self._lock:
            return self._alive

    def scale_to(self, workers: int) -> None:
        """Start workers until there are ``workers`` of them (never stops any)."""
        while len(self._threads) < workers:
            thread = threading.Thread(
                target=self._run, name=f"falcon-trial-{len(self._threads)}", daemon=True
            )
            with self._lock:
                self._alive += 1
            self._threads.append(thread)
            thread.start()

    def cursor(self) -> int:
        """Position after the last record so far."""
        return len(self._records)

    def records_since(self, cursor: int) -> tuple[list[Record], int]:
        """Records appended since ``cursor`` and the new cursor."""
        new = self._records[cursor:]
        return new, cursor + len(new)

    def totals(self) -> tuple[int, int]:
        """(succeeded, failed) over every request completed so far, warm-up included."""
        records = self._records[:]
        ok = sum(1 for r in records if r[2])
        return ok, len(records) - ok

    def stop(self, timeout_s: float) -> int:
        """Stop the workers after their in-flight request; how many did not finish in time."""
        self._stop.set()
        deadline = self._clock() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - self._clock()))
        return sum(1 for t in self._threads if t.is_alive())

    def _run(self) -> None:
        try:
            worker = self._open()
        except Exception as exc:
            self.last_error = f"cannot connect: {describe(exc)}"
            with self._lock:
                self._alive -= 1
            return
        clock, records, stop = self._clock, self._records, self._stop
        try:
            while not stop.is_set():
                start = clock()
                try:
                    worker.infer()
                    ok = True
                except Exception as exc:
                    ok = False
                    self.last_error = describe(exc)
                end = clock()
                records.append((end, end - start, ok))
                if not ok and self._backoff:
                    stop.wait(self._backoff)
        finally:
            worker.close()
            with self._lock:
                self._alive -= 1
