"""One load protocol for every trial: a reused pod gets the runner arguments its fresh trial pod's
runner container gets (only the URL differs), the arguments are valid for falcon_trial's own
parser, and the operator runs them through the falcon-trial runner as a subprocess -- here
against a real Triton -- reading its JSON report from stdout."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import falcon_operator
from falcon_operator.core.catalog import load_catalog
from falcon_operator.core.records import FailureKind, TrialRecord
from falcon_operator.core.space import Value
from falcon_operator.reconcile.measure import reused_runner_args
from falcon_operator.spec import ResolvedSearch, parse_spec, resolve
from falcon_operator.trials.load import LOCAL_ARGS, report_text, run_load, runner_command
from falcon_operator.trials.manifest import (
    RUNNER_CONTAINER,
    SearchRef,
    TrialPodSettings,
    runner_args,
    trial_pod,
)
from falcon_operator.trials.outcome import judge, read_report
from falcon_operator.trials.readback import read_pod
from falcon_operator.triton.repository import write_model
from falcon_operator.triton.server import TritonServer
from falcon_trial.cli import build_parser, settings_from_args

MODEL = Path(falcon_operator.__file__).parent / "data/models/resnet-mini.onnx"
REF = SearchRef("s", "team-a", "uid-s")
PODS = TrialPodSettings(sweep_per_batch=3)


def _resolved(
    *, model: str = "resnet-mini", slo: float | None = 40.0, **budget: Any
) -> ResolvedSearch:
    spec: dict[str, Any] = {
        "model": {"name": model, "configMapRef": {"name": "m", "key": "model.onnx"}},
        "searchSpace": {"gpus": [{"type": "T4"}], "cpus": [2], "batchSizes": [1, 2, 8, 64]},
        "budget": {"warmupSeconds": 2, "measurementSeconds": 4, "windows": 3, **budget},
    }
    if slo is not None:
        spec["objective"] = {"sloP99Ms": slo}
    return resolve(parse_spec(spec), load_catalog())


def _config(batch: int) -> dict[str, Value]:
    return {"batchsize": batch, "cpus": 2, "gpumem": 0.0, "gpupower": 100, "gputype": "T4"}


def _fresh_pod_args(rs: ResolvedSearch, batch: int) -> list[str]:
    pod = trial_pod(rs, REF, 0, _config(batch), settings=PODS)
    (runner,) = (c for c in pod["spec"]["containers"] if c["name"] == RUNNER_CONTAINER)
    return list(runner["args"])


def _reused_pod_view() -> Any:
    pod = trial_pod(_resolved(), REF, 0, _config(1), settings=PODS)
    pod["status"] = {"phase": "Running", "podIP": "10.1.2.3"}
    return read_pod(pod)


@pytest.mark.parametrize("slo", [40.0, None])
@pytest.mark.parametrize("batch", [1, 8, 64])
def test_a_reused_pod_gets_the_fresh_pods_runner_arguments_but_the_url(
    batch: int, slo: float | None
) -> None:
    rs = _resolved(slo=slo)
    fresh = _fresh_pod_args(rs, batch)
    reused = reused_runner_args(rs, _config(batch), _reused_pod_view(), PODS)
    assert len(reused) == len(fresh)
    differs = [(f, r) for f, r in zip(fresh, reused, strict=True) if f != r]
    assert differs == [("--url=http://127.0.0.1:8000", "--url=http://10.1.2.3:8000")]
    assert f"--sweep={max(2, 3 * batch)}" in reused  # a sweep, never a fixed concurrency
    assert not any(a.startswith("--concurrency") for a in reused)
    command = runner_command(reused)
    assert command == [sys.executable, "-m", "falcon_trial", *reused, *LOCAL_ARGS]


def test_the_trial_pods_runner_arguments_parse_with_falcon_trials_own_parser() -> None:
    rs = _resolved(windows=4)
    fresh = settings_from_args(build_parser().parse_args(_fresh_pod_args(rs, 8)))
    assert fresh.server.model == "resnet-mini" and fresh.server.url == "http://127.0.0.1:8000"
    assert fresh.load.sweep_max == 24 and fresh.load.slo_p99_ms == 40.0
    assert (fresh.measure.warmup_s, fresh.measure.window_s) == (2.0, 4.0)
    assert (fresh.measure.stable_windows, fresh.measure.max_windows) == (4, 8)
    assert fresh.server.ready_timeout_s == rs.spec.budget.ready_timeout_s
    # the operator's run of a reused pod: every setting of the load protocol the same
    argv = runner_command(reused_runner_args(rs, _config(8), _reused_pod_view(), PODS))[3:]
    reused = settings_from_args(build_parser().parse_args(argv))
    assert reused.server.url == "http://10.1.2.3:8000"
    assert (reused.load, reused.measure, reused.inputs) == (fresh.load, fresh.measure, fresh.inputs)
    assert reused.report.quiet and reused.report.termination_log != fresh.report.termination_log


def test_the_report_is_the_last_json_object_line_of_stdout() -> None:
    line = '{"schema": "falcon-trial/v1", "status": "ok"}'
    assert report_text(f"noise\n{line}\n".encode()) == line
    assert report_text(b"Traceback (most recent call last):\n") is None
    assert report_text(b"[1, 2]\n") is None


def test_a_runner_that_does_not_finish_in_time_is_killed_and_says_so() -> None:
    rs = _resolved(readyTimeoutSeconds=60)
    args = runner_args(rs, 1, PODS, url="http://127.0.0.1:9")  # nothing listens: it waits
    t0 = time.monotonic()
    result = asyncio.run(run_load(args, host="127.0.0.1", model="m", timeout_s=1.5, metrics_port=9))
    assert time.monotonic() - t0 < 10.0
    assert result.report is None and "did not finish in 1.5 s" in result.runner_error
    assert result.metrics_error  # no metrics endpoint either


def test_the_runner_subprocess_sweeps_a_real_triton_and_its_report_is_judged(
    tmp_path: Path,
) -> None:
    config = 'name: "resnet"\nplatform: "onnxruntime_onnx"\nmax_batch_size: 8\n'
    write_model(tmp_path, "resnet", MODEL, config)
    rs = _resolved(model="resnet", slo=None, warmupSeconds=0.5, measurementSeconds=1, windows=2)
    with TritonServer(tmp_path, models=["resnet"]) as server:
        args = runner_args(rs, 1, TrialPodSettings(sweep_per_batch=2), url=server.url)
        load = run_load(
            args, host="127.0.0.1", model="resnet", timeout_s=300, metrics_port=server.ports.metrics
        )
        result = asyncio.run(load)
    assert result.report is not None, result.runner_error
    report = read_report(_config(1), result.report)  # falcon_trial.schema's typed report
    assert not isinstance(report, TrialRecord), report.reason
    assert report.load is not None and report.load.mode == "sweep" and report.load.concurrency == 2
    assert report.sweep is not None and report.sweep.steps is not None
    assert report.sweep.steps[0].concurrency == 1
    assert result.window is not None and result.window.requests > 0, result.metrics_error
    record = judge(_config(1), report, result.window, objective=rs.objective)
    assert record.failure not in (FailureKind.RUNNER, FailureKind.MEASUREMENT), record.reason
