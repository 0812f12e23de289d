"""Drive a trial's load from the operator's process with the trial runner's library.

Used for real trials that reuse a running pod (its runner container has already exited, the
model was reloaded with the new batch size through Triton's repository API). Triton's metrics
are scraped right before and after the run, so the window covers exactly the runner's requests.
Blocking: call it in a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from falcon_operator.core.errors import MetricsError
from falcon_operator.metrics import WindowMeasurement, measure_window, metrics_url, scrape
from falcon_operator.spec.model import BudgetSpec
from falcon_trial.errors import TrialError
from falcon_trial.report import build_report, error_report
from falcon_trial.runner import run
from falcon_trial.schema import RunnerReport
from falcon_trial.settings import (
    InputSettings,
    LoadSettings,
    MeasureSettings,
    ReportSettings,
    ServerSettings,
    Settings,
)


@dataclass(frozen=True)
class LoadPlan:
    """How hard and how long to load one trial (wall-clock units of the server at hand)."""

    concurrency: int
    warmup_s: float
    window_s: float
    windows: int
    ready_timeout_s: float
    slo_p99_ms: float | None = None

    @staticmethod
    def from_budget(
        budget: BudgetSpec, batch: int, *, concurrency_per_batch: int, max_concurrency: int
    ) -> LoadPlan:
        return LoadPlan(
            concurrency=max(2, min(concurrency_per_batch * batch, max_concurrency)),
            warmup_s=budget.warmup_s,
            window_s=budget.measurement_s,
            windows=budget.windows,
            ready_timeout_s=float(min(budget.ready_timeout_s, 60)),
        )


@dataclass(frozen=True)
class LoadResult:
    """The runner's report (schema falcon-trial/v1) and Triton's window around it."""

    report: RunnerReport
    window: WindowMeasurement | None
    metrics_error: str = ""


def settings_for(url: str, model: str, plan: LoadPlan) -> Settings:
    return Settings(
        server=ServerSettings(
            url=url, model=model, ready_timeout_s=plan.ready_timeout_s, request_timeout_s=30.0
        ),
        inputs=InputSettings(batch_size=1),
        measure=MeasureSettings(
            warmup_s=plan.warmup_s,
            window_s=plan.window_s,
            max_windows=plan.windows + 4,
            stable_windows=plan.windows,
        ),
        load=LoadSettings(concurrency=plan.concurrency, slo_p99_ms=plan.slo_p99_ms),
        report=ReportSettings(termination_log="", quiet=True),
    )


def run_load(
    host: str, model: str, plan: LoadPlan, *, port: int = 8000, metrics_port: int = 8002
) -> LoadResult:
    """Run the trial runner against ``host`` and measure Triton's counters around it."""
    settings = settings_for(f"http://{host}:{port}", model, plan)
    url = metrics_url(host, port=metrics_port)
    before = None
    error = ""
    try:
        before = scrape(url)
    except MetricsError as exc:
        error = str(exc)
    try:
        report = build_report(settings, run(settings))
    except TrialError as exc:
        report = error_report(settings, exc)
    window = None
    if before is not None:
        try:
            window = measure_window(before, scrape(url), model=model)
        except MetricsError as exc:
            error = str(exc)
    return LoadResult(report, window, error)
