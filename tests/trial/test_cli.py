"""The CLI: exit codes and one-line messages (never a traceback), against a closed port and real
Triton Inference Server (tests/trial/conftest.py: test models with known behaviour, faults
built into their model.py); the report on stdout and in the termination log."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from triton_models import (
    BROKEN,
    CAPPED,
    CAPPED_RPS,
    FAILING,
    MIXED,
    UNBATCHED,
    UNLOADED,
    ServerFactory,
)

from falcon_operator.metrics import scrape_settled
from falcon_operator.triton.server import TritonError, TritonServer
from falcon_trial.cli import main

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


def _served(srv: TritonServer, model: str) -> int:
    """Requests the server answered for ``model`` (successes and failures), from its metrics
    once they settled."""
    snapshot = scrape_settled(srv.metrics_url, model=model)
    return round(
        sum(
            s.value
            for name in ("nv_inference_request_success", "nv_inference_request_failure")
            for s in snapshot.model_samples(name, model=model)
        )
    )


def _run(
    srv: TritonServer, model: str, *args: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    rc = main(["--url", srv.url, "--model", model, *FAST, *args])
    out, err = capsys.readouterr()
    return rc, json.loads(out), err


def test_a_stable_run_exits_0_and_counts_every_request(
    triton: TritonServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "log"
    before = _served(triton, CAPPED.name)
    rc, report, err = _run(triton, CAPPED.name, "--concurrency", "2", "--tolerance", "1.0",
                           "--termination-log", str(log), capsys=capsys)  # fmt: skip
    served = _served(triton, CAPPED.name) - before
    assert rc == 0 and err == ""
    assert report["status"] == "ok" and report["result"]["stable"] is True
    assert report["model"] == {"name": "capped", "version": "1", "platform": "python",
                               "max_batch_size": 8}  # fmt: skip
    assert report["totals"]["requests"] == served
    assert report["totals"]["failed"] == 0
    assert json.loads(log.read_text()) == report
    assert 0 < report["result"]["throughput_rps"] <= CAPPED_RPS * 1.02


def test_an_unstable_run_writes_its_report_and_exits_6(
    triton: TritonServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # no two windows of real requests agree within 0.01 %
    rc, report, err = _run(triton, CAPPED.name, "--tolerance", "0.0001", "--max-windows", "3",
                           capsys=capsys)  # fmt: skip
    assert rc == 6 and report["status"] == "unstable" and report["exit_code"] == 6
    assert len(report["result"]["windows"]) == 3
    assert "warning: measurement not stable after 3 windows" in err
    assert "Traceback" not in err


def test_an_unknown_model_exits_4(triton: TritonServer, capsys: pytest.CaptureFixture[str]) -> None:
    rc, report, err = _run(triton, "no-such-model", capsys=capsys)
    assert rc == 4 and report["error"]["kind"] == "model-not-found"
    assert "model 'no-such-model' not found" in _one_line_error(err)


def test_a_model_in_the_repository_but_not_loaded_exits_4(
    triton: TritonServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert not triton.model_ready(UNLOADED.name)
    rc, report, err = _run(triton, UNLOADED.name, capsys=capsys)
    assert rc == 4 and report["error"]["kind"] == "model-not-found"
    assert "model 'unloaded' not found" in _one_line_error(err)


def test_all_requests_failing_exits_5(
    triton: TritonServer, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _served(triton, FAILING.name)
    rc, report, err = _run(triton, FAILING.name, capsys=capsys)
    assert rc == 5 and report["error"]["kind"] == "all-requests-failed"
    assert "model exploded" in _one_line_error(err)
    assert _served(triton, FAILING.name) > before  # the requests reached the model


def test_a_model_that_failed_to_load_makes_the_server_answer_not_ready(
    fresh_server: ServerFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    srv = fresh_server()
    with pytest.raises(TritonError, match="cannot initialize"):
        srv.load(BROKEN.name)
    rc, report, err = _run(srv, CAPPED.name, "--ready-timeout-s", "0.5", capsys=capsys)
    assert rc == 3 and report["error"]["kind"] == "server-not-ready"
    assert "answered not ready" in _one_line_error(err)


def test_a_model_the_server_failed_to_load_exits_10_with_tritons_reason(
    fresh_server: ServerFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    """Its own model UNAVAILABLE in the repository index: no waiting out the ready timeout."""
    srv = fresh_server()
    with pytest.raises(TritonError, match="cannot initialize"):
        srv.load(BROKEN.name)
    rc, report, err = _run(srv, BROKEN.name, "--ready-timeout-s", "60", capsys=capsys)
    assert rc == 10 and report["error"]["kind"] == "model-load-failed"
    line = _one_line_error(err)
    assert "could not load model 'broken'" in line and "cannot initialize" in line
    assert report["status"] == "error" and report["exit_code"] == 10


def test_a_batch_larger_than_the_model_takes_exits_8(
    triton: TritonServer, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, report, err = _run(triton, MIXED.name, "--batch-size", "16", capsys=capsys)
    assert rc == 8 and report["error"]["kind"] == "model-unsupported"
    assert "max_batch_size 4" in _one_line_error(err)
    rc, _, err = _run(triton, UNBATCHED.name, "--batch-size", "2", capsys=capsys)
    assert rc == 8 and "does not batch (max_batch_size 0)" in _one_line_error(err)


def test_a_sweep_reports_each_step_and_the_knee(
    triton: TritonServer, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _served(triton, CAPPED.name)
    rc, report, _ = _run(triton, CAPPED.name, "--sweep", "64", "--tolerance", "1.0",
                         capsys=capsys)  # fmt: skip
    served = _served(triton, CAPPED.name) - before
    assert rc == 0
    steps = report["sweep"]["steps"]
    assert [s["concurrency"] for s in steps] == [1, 2, 4, 8, 16, 32, 64][: len(steps)]
    assert report["sweep"]["reason"] == "gain" and len(steps) < 7  # capped: saturates early
    assert report["result"]["concurrency"] == report["sweep"]["knee"]
    assert report["totals"]["requests"] == served
