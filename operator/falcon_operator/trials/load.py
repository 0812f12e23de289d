"""Drive a reused trial pod's load with the trial runner, run by the operator as a subprocess.

A reused pod's runner container has already exited (the model was reloaded with the new batch
size through Triton's repository API). The operator then runs the very same runner -- the
``falcon-trial`` console script -- with the arguments a fresh trial pod's runner container gets
(:func:`falcon_operator.trials.manifest.runner_args`: the same concurrency sweep, windows and
SLO; only the URL points at the pod), so every trial of a search follows one load protocol.
The runner prints its JSON report on stdout. Triton's metrics are scraped right before and
after the run (once the counters settled), so the window covers exactly the runner's requests.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from falcon_operator.core.errors import MetricsError
from falcon_operator.metrics import (
    Snapshot,
    WindowMeasurement,
    measure_window,
    metrics_url,
    scrape,
    scrape_settled,
)

#: the ``falcon-trial`` console script, run with the operator's interpreter (no PATH lookup)
RUNNER_COMMAND = (sys.executable, "-m", "falcon_trial")
#: arguments of the operator's runs only: the report on stdout alone (never into the
#: operator container's own termination log), no progress lines
LOCAL_ARGS = (f"--termination-log={os.devnull}", "--quiet")


@dataclass(frozen=True)
class LoadResult:
    """The runner's report (its JSON text, schema falcon-trial/v1; None when it gave none) and
    Triton's window around the run."""

    report: str | None
    window: WindowMeasurement | None
    metrics_error: str = ""
    runner_error: str = ""  #: why there is no report (exit code, last stderr line, timeout)


def runner_command(args: Sequence[str]) -> list[str]:
    """The command line of one operator-side run of the runner with ``args``."""
    return [*RUNNER_COMMAND, *args, *LOCAL_ARGS]


def report_text(stdout: bytes) -> str | None:
    """The runner's JSON report from its stdout (its last line that is a JSON object), or None;
    the operator reads it with ``falcon_trial.schema`` (trials/outcome.read_report), as it reads
    a trial pod's termination message."""
    for line in reversed(stdout.decode(errors="replace").splitlines()):
        try:
            if isinstance(json.loads(line), dict):
                return line
        except ValueError:
            continue
    return None


async def _scrape(read: Callable[[], Snapshot]) -> tuple[Snapshot | None, str]:
    """``read()`` off the event loop: its snapshot, or the error."""
    try:
        return await asyncio.to_thread(read), ""
    except MetricsError as exc:
        return None, str(exc)


async def run_load(
    args: Sequence[str], *, host: str, model: str, timeout_s: float, metrics_port: int = 8002
) -> LoadResult:
    """Run the runner with ``args`` (their URL pointing at ``host``) and measure Triton's
    counters around it; the runner is killed after ``timeout_s`` or when cancelled."""
    url = metrics_url(host, port=metrics_port)
    before, error = await _scrape(partial(scrape, url))
    proc = await asyncio.create_subprocess_exec(
        *runner_command(args),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout_s)
    except TimeoutError:
        return LoadResult(None, None, error, f"the trial runner did not finish in {timeout_s:g} s")
    finally:
        if proc.returncode is None:  # timed out or cancelled: no runner outlives its trial
            proc.kill()
            await proc.wait()
    report = report_text(out)
    window = None
    if before is not None:
        after, error = await _scrape(partial(scrape_settled, url, model=model))
        if after is not None:
            try:
                window = measure_window(before, after, model=model)
            except MetricsError as exc:
                error = str(exc)
    if report is None:
        last = (err.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
        return LoadResult(None, window, error, f"exit code {proc.returncode}: {last}")
    return LoadResult(report, window, error)
