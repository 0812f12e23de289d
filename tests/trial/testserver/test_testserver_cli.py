"""``falcon-triton-sim``: one-line errors with exit 2, a run that dies on request, faults."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from falcon_trial.testserver.cli import main


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--gpu", "X9"], "unknown GPU 'X9'"),
        (["--power", "150"], "percentage of TDP"),
        (["--batch-size", "0"], "batch size ≥ 1"),
        (["--gpu-memory-gb", "0.1"], "out of memory"),
        (["--instances", "0"], "instance count ≥ 1"),
        (["--port", "70000"], "--port must be in 0..65535"),
        (["--fail-inference", ""], "the injected inference error needs a message"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    resnet: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--model", str(resnet), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("falcon-triton-sim: error: ") and message in err
    assert err.count("\n") == 1


def test_a_missing_model_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--model", str(tmp_path / "none.onnx")]) == 2
    assert "no such model file" in capsys.readouterr().err


def test_the_console_script_serves_and_dies_on_request(resnet: Path) -> None:
    cmd = [sys.executable, "-m", "falcon_trial.testserver.cli", "--model", str(resnet),
           "--host", "127.0.0.1", "--port", "0", "--metrics-port", "0", "--die-after", "0.5",
           "--model-name", "resnet"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 3
    assert "serving 'resnet' at http://127.0.0.1:" in done.stderr
    assert "capacity 6105 req/s" in done.stderr and "killed after 0.5 s" in done.stderr


def _status(url: str, body: bytes | None = None) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, body, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_the_console_script_injects_faults(resnet: Path) -> None:
    cmd = [sys.executable, "-m", "falcon_trial.testserver.cli", "--model", str(resnet),
           "--host", "127.0.0.1", "--port", "0", "--metrics-port", "0", "--time-scale", "0.01",
           "--never-ready", "--fail-inference", "model exploded"]  # fmt: skip
    with subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stderr is not None
            found = re.search(r"at (http://127\.0\.0\.1:\d+),", proc.stderr.readline())
            assert found, "no 'serving ... at URL' line"
            url = found.group(1)
            assert _status(url + "/v2/health/live")[0] == 200
            assert _status(url + "/v2/health/ready")[0] == 503
            body = {"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 3, 64, 64],
                                "data": [0.0] * (3 * 64 * 64)}]}  # fmt: skip
            status, answer = _status(
                url + "/v2/models/resnet-mini/infer", json.dumps(body).encode()
            )
            assert (status, json.loads(answer)) == (500, {"error": "model exploded"})
        finally:
            proc.terminate()
        assert proc.wait(30) == 0  # SIGTERM: a clean stop
