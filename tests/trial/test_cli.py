"""The CLI: exit codes and one-line messages (never a traceback), against a closed port and the
Triton-compatible test server (fast simulated backend, faults injected); the report on stdout
and in the termination log."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from falcon_operator.metrics import scrape
from falcon_trial.cli import main
from falcon_trial.testserver import Faults, RunningServer, SimulatedBackend, running_server

MODEL_PATH = (
    Path(__file__).resolve().parents[2] / "operator/falcon_operator/data/models/resnet-mini.onnx"
)
CAPACITY_RPS = 200.0  # batch 1: ~4.8 ms host work on one of 4 cores, then 5 ms on the GPU
FAST = ["--warmup-s", "0.2", "--window-s", "0.3", "--max-windows", "6", "--quiet"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "falcon_trial", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _one_line_error(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("falcon-trial: error: ")
    return lines[0]


def test_server_never_ready_exits_3_with_one_line(tmp_path: Path) -> None:
    log = tmp_path / "termination-log"
    url = f"http://127.0.0.1:{_closed_port()}"
    done = _cli("--url", url, "--model", "m", "--ready-timeout-s", "1", "--quiet",
                "--termination-log", str(log))  # fmt: skip
    assert done.returncode == 3
    assert "not ready after 1 s" in _one_line_error(done.stderr)
    report = json.loads(log.read_text())
    assert report["status"] == "error" and report["error"]["kind"] == "server-not-ready"
    assert json.loads(done.stdout) == report


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ([], "--model"),
        (["--model", "m", "--concurrency", "x"], "invalid int value"),
        (["--model", "m", "--concurrency", "2", "--sweep", "8"], "not allowed with"),
        (["--model", "m", "--concurrency", "0"], "concurrency must be at least 1"),
        (["--model", "m", "--window-s", "-1"], "window length"),
        (["--model", "m", "--url", "ftp://x:1"], "unsupported server URL"),
        (["--model", "m", "--protocol", "udp"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args: list[str], needle: str) -> None:
    done = _cli(*args)
    assert done.returncode == 2
    assert needle in _one_line_error(done.stderr)
    assert done.stdout == ""


def test_unwritable_explicit_termination_log_exits_9_before_any_load(tmp_path: Path) -> None:
    done = _cli("--model", "m", "--termination-log", str(tmp_path / "no" / "such" / "log"),
                "--url", f"http://127.0.0.1:{_closed_port()}")  # fmt: skip
    assert done.returncode == 9
    assert "cannot write termination log" in _one_line_error(done.stderr)


def test_grpc_when_not_installed_is_a_bad_argument() -> None:
    try:
        import tritonclient.grpc  # noqa: F401
    except (ImportError, RuntimeError):
        pass
    else:
        pytest.skip("tritonclient[grpc] is installed")
    done = _cli("--model", "m", "--protocol", "grpc", "--ready-timeout-s", "1")
    assert done.returncode == 2
    assert "pip install 'tritonclient[grpc]'" in _one_line_error(done.stderr)


def test_version_and_help_work_as_a_module() -> None:
    assert _cli("--version").stdout.startswith("falcon-trial ")
    assert "--termination-log" in _cli("--help").stdout


@contextmanager
def _server(
    *, model_name: str = "model", batch_size: int = 1, faults: Faults | None = None
) -> Iterator[RunningServer]:
    """resnet-mini on a simulated T4, slowed down to ``CAPACITY_RPS`` at batch 1."""
    unscaled = SimulatedBackend.from_onnx(MODEL_PATH, gpu="T4", cpus=4, batch_size=1)
    backend = SimulatedBackend.from_onnx(
        MODEL_PATH, gpu="T4", cpus=4, batch_size=batch_size,
        time_scale=unscaled.capacity_rps / CAPACITY_RPS,
    )  # fmt: skip
    with running_server(backend, model_name=model_name, faults=faults or Faults()) as srv:
        yield srv


def _served(srv: RunningServer) -> int:
    """Requests the server answered (successes and failures), from its own metrics."""
    snapshot = scrape(srv.metrics_url)
    return round(
        sum(
            s.value
            for name in ("nv_inference_request_success", "nv_inference_request_failure")
            for s in snapshot.model_samples(name, model="model")
        )
    )


def _run(url: str, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    rc = main(["--url", url, "--model", "model", *FAST, *args])
    out, err = capsys.readouterr()
    return rc, json.loads(out), err


def test_a_stable_run_exits_0_and_counts_every_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "log"
    with _server() as srv:
        rc, report, err = _run(srv.url, "--concurrency", "2", "--tolerance", "1.0",
                               "--termination-log", str(log), capsys=capsys)  # fmt: skip
        served = _served(srv)
    assert rc == 0 and err == ""
    assert report["status"] == "ok" and report["result"]["stable"] is True
    assert report["totals"]["requests"] == served
    assert report["totals"]["failed"] == 0
    assert json.loads(log.read_text()) == report
    assert 100 < report["result"]["throughput_rps"] <= 260


def test_an_unstable_run_writes_its_report_and_exits_6(capsys: pytest.CaptureFixture[str]) -> None:
    with _server() as srv:  # no two windows of real requests agree within 0.01 %
        rc, report, err = _run(srv.url, "--tolerance", "0.0001", "--max-windows", "3",
                               capsys=capsys)  # fmt: skip
    assert rc == 6 and report["status"] == "unstable" and report["exit_code"] == 6
    assert "warning: measurement not stable after 3 windows" in err
    assert "Traceback" not in err


def test_an_unknown_model_exits_4(capsys: pytest.CaptureFixture[str]) -> None:
    with _server(model_name="other") as srv:
        rc, report, err = _run(srv.url, capsys=capsys)
    assert rc == 4 and report["error"]["kind"] == "model-not-found"
    assert "model 'model' not found" in _one_line_error(err)


def test_all_requests_failing_exits_5(capsys: pytest.CaptureFixture[str]) -> None:
    with _server(faults=Faults(fail_inference="model exploded")) as srv:
        rc, report, err = _run(srv.url, capsys=capsys)
    assert rc == 5 and report["error"]["kind"] == "all-requests-failed"
    assert "model exploded" in _one_line_error(err)


def test_a_server_that_answers_not_ready_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    with _server(faults=Faults(never_ready=True)) as srv:
        rc, _, err = _run(srv.url, "--ready-timeout-s", "0.5", capsys=capsys)
    assert rc == 3 and "answered not ready" in _one_line_error(err)


def test_a_batch_larger_than_the_model_takes_exits_8(capsys: pytest.CaptureFixture[str]) -> None:
    with _server(batch_size=4) as srv:
        rc, _, err = _run(srv.url, "--batch-size", "16", capsys=capsys)
    assert rc == 8 and "max_batch_size 4" in _one_line_error(err)


def test_a_sweep_reports_each_step_and_the_knee(capsys: pytest.CaptureFixture[str]) -> None:
    with _server() as srv:  # saturates at concurrency 2-4
        rc, report, _ = _run(srv.url, "--sweep", "64", "--tolerance", "1.0", capsys=capsys)
        served = _served(srv)
    assert rc == 0
    steps = report["sweep"]["steps"]
    assert [s["concurrency"] for s in steps] == [1, 2, 4, 8, 16, 32, 64][: len(steps)]
    assert report["sweep"]["reason"] == "gain" and len(steps) < 7
    assert report["result"]["concurrency"] == report["sweep"]["knee"]
    assert report["totals"]["requests"] == served
