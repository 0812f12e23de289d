"""Shutting down with requests in flight: nothing left pending, nothing waited for in vain.

The requests are sent while the simulated host work takes seconds (``time_scale`` 5000: 2.6 s a
request on 4 cores), so every one is still in flight when the server stops or is killed.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from falcon_trial.testserver import SimulatedBackend, TestServer, running_server

KILL_SCRIPT = """
import json, sys, threading, time, urllib.request
from falcon_trial.testserver import SimulatedBackend, running_server

backend = SimulatedBackend.from_onnx(sys.argv[1], batch_size=1, time_scale=5000.0)
with running_server(backend, model_name="m") as srv:
    body = json.dumps({"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 3, 64, 64],
                                   "data": [0.0] * (3 * 64 * 64)}]}).encode()

    def send():
        try:
            urllib.request.urlopen(f"{srv.url}/v2/models/m/infer", body, timeout=30).read()
        except OSError:
            pass

    for _ in range(16):
        threading.Thread(target=send, daemon=True).start()
    time.sleep(0.5)
    started = time.monotonic()
    srv.stop_now()
    print(f"killed in {time.monotonic() - started:.3f} s", flush=True)
"""


def _body() -> bytes:
    return (
        b'{"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 3, 64, 64], "data": ['
        + b",".join([b"0"] * (3 * 64 * 64))
        + b"]}]}"
    )


def test_stop_now_leaves_no_task_pending_at_exit(resnet: Path, tmp_path: Path) -> None:
    script = tmp_path / "kill.py"
    script.write_text(KILL_SCRIPT)
    done = subprocess.run([sys.executable, str(script), str(resnet)], capture_output=True,
                          text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    for symptom in ("Task was destroyed but it is pending", "Traceback", "Exception ignored",
                    "never retrieved"):  # fmt: skip
        assert symptom not in done.stderr, done.stderr
    # killed connections are not waited for (aiohttp's shutdown timeout is 2 s)
    assert float(done.stdout.split()[2]) < 1.0, done.stdout


@pytest.mark.parametrize("requests", [1, 8])
def test_stop_fails_requests_in_host_work_with_503_at_once(resnet: Path, requests: int) -> None:
    backend = SimulatedBackend.from_onnx(resnet, batch_size=1, time_scale=5000.0)
    statuses: list[int] = []
    with running_server(backend, model_name="m") as srv:
        url = f"{srv.url}/v2/models/m/infer"

        def send() -> None:
            try:
                urllib.request.urlopen(url, _body(), timeout=30).read()
                statuses.append(200)
            except urllib.error.HTTPError as exc:
                statuses.append(exc.code)
            except OSError:
                statuses.append(0)

        senders = [threading.Thread(target=send) for _ in range(requests)]
        for sender in senders:
            sender.start()
        time.sleep(0.5)
        started = time.monotonic()
    took = time.monotonic() - started
    for sender in senders:
        sender.join(10)
    assert statuses == [503] * requests
    assert took < 1.0


def test_stops_that_overlap_stop_once(resnet: Path) -> None:
    """``die_after_s`` firing while the caller stops: the second stop waits for the first."""

    async def run() -> TestServer:
        server = TestServer(SimulatedBackend.from_onnx(resnet, time_scale=0.01), model_name="m")
        await server.start()
        await asyncio.gather(server.stop(), server.kill(), server.stop())
        await server.stop()
        return server

    server = asyncio.run(run())
    assert server.stopped.is_set() and server.killed
