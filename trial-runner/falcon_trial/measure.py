"""One measurement at one concurrency: warm-up, then windows until stable (or the bound).

A window stays open ``window_s`` and then until at least one request has completed, at most
``window_s + request_timeout_s`` (a request that hangs longer has timed out and failed by
then). A window where more than ``max_error_fraction`` of the requests failed, or where nothing
completed, aborts: ``AllRequestsFailedError`` when no request has ever succeeded, else
``ServerLostError``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from falcon_trial.errors import AllRequestsFailedError, ServerLostError, TrialError
from falcon_trial.load import LoadGenerator, Record
from falcon_trial.settings import MeasureSettings
from falcon_trial.windows import WindowStats, is_stable, pooled, window_stats

POLL_S = 0.05


@dataclasses.dataclass(frozen=True)
class Measurement:
    """The outcome at one concurrency: every window, and the last stable-count pooled."""

    concurrency: int
    stable: bool
    windows: tuple[WindowStats, ...]
    summary: WindowStats


def _failure(gen: LoadGenerator, what: str) -> TrialError:
    ok, failed = gen.totals()
    last = gen.last_error or "no error message"
    if ok == 0 and failed == 0:
        return AllRequestsFailedError(f"no request completed ({what}); last error: {last}")
    if ok == 0:
        return AllRequestsFailedError(f"all {failed} requests failed ({what}); last error: {last}")
    return ServerLostError(
        f"requests started failing: {what} after {ok} successful requests; last error: {last}"
    )


def _split(records: list[Record]) -> tuple[list[float], int]:
    latencies = [r[1] for r in records if r[2]]
    return latencies, len(records) - len(latencies)


def measure(
    gen: LoadGenerator,
    concurrency: int,
    settings: MeasureSettings,
    *,
    request_timeout_s: float,
    clock: Callable[[], float] = time.perf_counter,
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] = lambda _: None,
) -> Measurement:
    """Drive ``concurrency`` workers and measure until stable or ``max_windows`` windows."""
    gen.scale_to(concurrency)
    cursor = gen.cursor()
    sleep(settings.warmup_s)
    warm, cursor = gen.records_since(cursor)
    ok_warm, failed_warm = _split(warm)
    if failed_warm and not ok_warm:
        raise _failure(gen, f"warm-up at concurrency {concurrency}")

    windows: list[WindowStats] = []
    latencies: list[list[float]] = []
    while len(windows) < settings.max_windows:
        start = clock()
        sleep(settings.window_s)
        limit = start + settings.window_s + request_timeout_s
        while gen.cursor() == cursor and clock() < limit and gen.alive:
            sleep(POLL_S)
        records, cursor = gen.records_since(cursor)
        duration = clock() - start
        if not records:
            raise _failure(gen, f"no request completed for {duration:.1f} s")
        ok, failed = _split(records)
        stats = window_stats(ok, failed, duration)
        windows.append(stats)
        latencies.append(ok)
        log(
            f"concurrency {concurrency} window {len(windows)}: {stats.throughput_rps:.1f} req/s, "
            f"p99 {stats.p99_ms:.2f} ms, {stats.errors} errors"
        )
        if stats.error_fraction > settings.max_error_fraction:
            raise _failure(
                gen, f"{failed} of {failed + len(ok)} requests failed in window {len(windows)}"
            )
        if is_stable(windows, count=settings.stable_windows, tolerance=settings.tolerance):
            break
    k = settings.stable_windows
    stable = is_stable(windows, count=k, tolerance=settings.tolerance)
    return Measurement(concurrency, stable, tuple(windows), pooled(latencies[-k:], windows[-k:]))
