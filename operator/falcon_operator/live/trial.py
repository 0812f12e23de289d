"""One live trial: a real Triton in the trial's configuration, loaded by ``falcon-trial``.

:class:`LiveBackend` ``.run(config)`` writes the model into a fresh repository with the model
config the knob registry renders (instances, batch size, queue delay, onnxruntime threads),
starts ``tritonserver`` pinned to the trial's cores, scrapes Triton's metrics, runs the trial
runner (``python -m falcon_trial``, the same program the trial pods run) at the trial's
concurrency, scrapes again, stops the server and judges (:mod:`.judge`). Nothing is shared
between trials: every trial is a fresh server, as a trial pod is.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from falcon_operator.core.knobs import CONCURRENCY, CPUS
from falcon_operator.core.records import FailureKind, TrialRecord
from falcon_operator.core.space import Value
from falcon_operator.live.judge import LiveObjective, judge
from falcon_operator.live.space import pinned_cores
from falcon_operator.metrics import (
    MetricsError,
    ScrapeError,
    Snapshot,
    TritonMetrics,
    measure_window,
)
from falcon_operator.trials.outcome import failed, read_report
from falcon_operator.triton.repository import write_trial_model
from falcon_operator.triton.server import TritonError, TritonServer

MODEL_NAME = "model"
#: how long a ready server's metrics endpoint may take to answer (it binds after the HTTP one)
METRICS_WAIT_S = 10.0


def _first_snapshot(metrics: TritonMetrics, *, within_s: float) -> Snapshot:
    """The first snapshot of a server that just became ready (retried while it refuses)."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            return metrics.snapshot()
        except ScrapeError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.2)


@dataclass(frozen=True)
class LiveTrialSettings:
    """How a live trial measures (the trial runner's flags; docs/live.md)."""

    #: load before the first window, not measured (seconds)
    warmup_s: float = 1.0
    #: one measurement window (seconds)
    window_s: float = 2.0
    #: windows that must agree within ``tolerance`` on throughput and p99
    stable_windows: int = 3
    #: windows before the runner gives up on stability (the trial still counts, marked unstable)
    max_windows: int = 6
    #: relative agreement of the last ``stable_windows`` windows
    tolerance: float = 0.10
    #: deadline for Triton to load the model and answer ready (seconds)
    ready_timeout_s: float = 120.0
    #: timeout of one inference request (seconds)
    request_timeout_s: float = 10.0
    #: value of every dynamic dimension but the batch (sequence length, image side, ...)
    dynamic_dim: int = 16
    #: seed of the runner's random inputs
    seed: int = 0

    @property
    def runner_timeout_s(self) -> float:
        """The longest a runner may take: warm-up, every window, and a request timeout each."""
        windows = self.max_windows * (self.window_s + self.request_timeout_s)
        return self.warmup_s + windows + self.ready_timeout_s + 30.0


class LiveBackend:
    """Runs live trials of one ONNX model on this host (a real Triton per trial)."""

    def __init__(
        self,
        model: Path,
        *,
        objective: LiveObjective,
        settings: LiveTrialSettings | None = None,
        work_dir: Path | None = None,
        log: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.model = model
        self.objective = objective
        self.settings = settings or LiveTrialSettings()
        self.work_dir = work_dir
        self.log = log

    def run(self, config: Mapping[str, Value]) -> TrialRecord:
        """Serve the model in ``config``, measure it, and judge the trial."""
        with tempfile.TemporaryDirectory(prefix="falcon-live-", dir=self.work_dir) as tmp:
            folder = Path(tmp)
            write_trial_model(folder / "repository", MODEL_NAME, self.model, config)
            try:
                server = TritonServer(
                    folder / "repository",
                    models=[MODEL_NAME],
                    cores=pinned_cores(int(config[CPUS])),
                    log_path=folder / "tritonserver.log",
                )
                server.start(ready_timeout_s=self.settings.ready_timeout_s)
            except TritonError as exc:
                return failed(config, FailureKind.MODEL_LOAD, f"Triton did not serve it: {exc}")
            try:
                return self._measure(config, server, folder)
            finally:
                server.stop()

    def _measure(
        self, config: Mapping[str, Value], server: TritonServer, folder: Path
    ) -> TrialRecord:
        metrics = TritonMetrics(server.metrics_url)
        try:
            before = metrics.snapshot()
        except MetricsError as exc:
            return failed(config, FailureKind.MEASUREMENT, f"Triton's metrics: {exc}")
        report_path = folder / "report.json"
        done = self._runner(config, server, report_path)
        if isinstance(done, TrialRecord):
            return done
        if server.process is not None and (code := server.process.poll()) is not None:
            why = f"tritonserver exited ({code}) during the trial: {server.tail()}"
            return failed(config, FailureKind.CRASH, why)
        report = read_report(config, report_path.read_text() if report_path.is_file() else "")
        if isinstance(report, TrialRecord):
            return failed(config, FailureKind.RUNNER, f"{report.reason}; runner said: {done}")
        try:
            window = measure_window(before, metrics.settled(model=MODEL_NAME), model=MODEL_NAME)
        except MetricsError as exc:
            return failed(config, FailureKind.MEASUREMENT, f"Triton's metrics: {exc}")
        return judge(config, report, window, objective=self.objective)

    def _runner(
        self, config: Mapping[str, Value], server: TritonServer, report: Path
    ) -> str | TrialRecord:
        """Run the trial runner; its stderr's last line, or the record of a runner that hung."""
        s = self.settings
        argv = [
            sys.executable, "-m", "falcon_trial", "--url", server.url, "--model", MODEL_NAME,
            "--concurrency", str(int(config[CONCURRENCY])), "--warmup-s", f"{s.warmup_s:g}",
            "--window-s", f"{s.window_s:g}", "--max-windows", str(s.max_windows),
            "--stable-windows", str(s.stable_windows), "--tolerance", f"{s.tolerance:g}",
            "--request-timeout-s", f"{s.request_timeout_s:g}", "--dynamic-dim",
            str(s.dynamic_dim), "--seed", str(s.seed), "--termination-log", str(report), "--quiet",
        ]  # fmt: skip
        try:
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=s.runner_timeout_s, check=False
            )
        except subprocess.TimeoutExpired:
            return failed(
                config, FailureKind.TIMEOUT, f"the trial runner took over {s.runner_timeout_s:g} s"
            )
        lines = done.stderr.strip().splitlines()
        return lines[-1] if lines else f"exit code {done.returncode}"
