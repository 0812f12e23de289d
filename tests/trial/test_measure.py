"""Load generator and measurement loop with in-process fake workers (no network)."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from falcon_trial.errors import AllRequestsFailedError, ServerLostError
from falcon_trial.load import LoadGenerator
from falcon_trial.measure import measure
from falcon_trial.settings import MeasureSettings

FAST = MeasureSettings(warmup_s=0.1, window_s=0.2, max_windows=6, stable_windows=3)


class SleepyWorker:
    """Serves in ``service_s``; fails every call once the shared counter passes ``fail_after``."""

    counter = itertools.count()

    def __init__(self, service_s: float = 0.002, fail_after: int | None = None) -> None:
        self.service_s = service_s
        self.fail_after = fail_after
        self.closed = False

    def infer(self) -> None:
        n = next(self.counter)
        time.sleep(self.service_s)
        if self.fail_after is not None and n >= self.fail_after:
            raise ConnectionRefusedError("[Errno 111] Connection refused")

    def close(self) -> None:
        self.closed = True


def test_every_request_sent_is_recorded_and_workers_close() -> None:
    workers: list[SleepyWorker] = []
    lock = threading.Lock()

    def open_worker() -> SleepyWorker:
        w = SleepyWorker()
        with lock:
            workers.append(w)
        return w

    gen = LoadGenerator(open_worker)
    gen.scale_to(3)
    gen.scale_to(2)  # never shrinks
    time.sleep(0.1)
    assert gen.stop(2.0) == 0
    ok, failed = gen.totals()
    assert gen.concurrency == 3 and len(workers) == 3 and all(w.closed for w in workers)
    assert failed == 0 and ok == gen.cursor() > 10
    assert gen.alive == 0


def test_measure_reports_a_stable_measurement() -> None:
    gen = LoadGenerator(lambda: SleepyWorker(0.005))
    loose = MeasureSettings(warmup_s=0.1, window_s=0.3, max_windows=6, tolerance=1.0)
    try:
        m = measure(gen, 2, loose, request_timeout_s=1.0)
    finally:
        gen.stop(2.0)
    assert m.stable and m.concurrency == 2
    assert 3 <= len(m.windows) <= FAST.max_windows
    assert m.summary.requests == sum(w.requests for w in m.windows[-3:])
    assert m.summary.throughput_rps == pytest.approx(2 / 0.005, rel=0.5)
    assert m.summary.p50_ms >= 5.0


def test_all_requests_failing_is_detected_after_warm_up() -> None:
    gen = LoadGenerator(lambda: SleepyWorker(0.001, fail_after=-1))
    try:
        with pytest.raises(AllRequestsFailedError, match="Connection refused"):
            measure(gen, 2, FAST, request_timeout_s=1.0)
    finally:
        gen.stop(2.0)


def test_workers_that_cannot_connect_end_the_measurement() -> None:
    def open_worker() -> SleepyWorker:
        raise OSError("no route to host")

    gen = LoadGenerator(open_worker)
    with pytest.raises(AllRequestsFailedError, match="no route to host"):
        measure(gen, 2, FAST, request_timeout_s=5.0)
    gen.stop(1.0)


def test_requests_failing_mid_measurement_is_a_lost_server() -> None:
    SleepyWorker.counter = itertools.count()
    gen = LoadGenerator(lambda: SleepyWorker(0.002, fail_after=150))
    try:
        with pytest.raises(ServerLostError, match="requests failed in window"):
            measure(gen, 1, MeasureSettings(0.1, 0.2, max_windows=20), request_timeout_s=1.0)
    finally:
        gen.stop(2.0)
