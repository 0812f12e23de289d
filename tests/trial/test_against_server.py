"""Acceptance: the runner against real Triton Inference Server 2.51 (tests/trial/conftest.py).

``capped`` holds each execution 10 ms on each of two instances, so it serves at most 200
requests/s; ResNet-mini runs for real on onnxruntime. Request counts are checked against the
server's own ``nv_inference_*`` counters, read with the operator's parser once they settled
(Triton counts a request just after answering it). Faults are real: a
server killed with SIGKILL mid-window, a restart on the same ports, a model still loading.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from triton_models import CAPPED, CAPPED_RPS, MIXED, SLOW, ServerFactory, write_repository

from falcon_operator.metrics import Snapshot, measure_window, scrape, scrape_settled
from falcon_operator.triton.server import TritonServer, command
from falcon_trial.cli import main

FAST = ["--warmup-s", "1", "--window-s", "1", "--max-windows", "8", "--quiet"]


def _count(snapshot: Snapshot, name: str, model: str = CAPPED.name) -> float:
    return sum(s.value for s in snapshot.model_samples(name, model=model))


def _run(url: str, model: str, *args: str) -> tuple[int, dict[str, Any], str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["--url", url, "--model", model, *args])
    return rc, json.loads(out.getvalue()), err.getvalue()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "falcon_trial", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _one_line_error(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("falcon-trial: error: ")
    return lines[0]


@pytest.mark.slow
def test_saturated_throughput_is_the_capacity_and_every_request_is_counted(
    triton: TritonServer,
) -> None:
    before = scrape_settled(triton.metrics_url, model=CAPPED.name)
    # 2 s windows, a 30% tolerance and a 0.6 floor: with 1 s windows, 20% and 0.75 this failed
    # once in four full runs on two cores shared with builds
    rc, report, _ = _run(triton.url, CAPPED.name, "--concurrency", "8", "--warmup-s", "1",
                         "--window-s", "2", "--max-windows", "8", "--tolerance", "0.3",
                         "--quiet")  # fmt: skip
    after = scrape_settled(triton.metrics_url, model=CAPPED.name)
    assert rc == 0 and report["result"]["stable"] is True, report["result"]["windows"]
    # the capacity is a ceiling; Triton's and the stub's own overhead per execution, on two
    # busy cores shared with the runner, keeps the server under it (one client at a time
    # gets ~85 requests/s: 0.6 of the capacity is only reached by queueing on both instances)
    assert 0.6 * CAPPED_RPS < report["result"]["throughput_rps"] <= 1.02 * CAPPED_RPS
    sent = report["totals"]["requests"]
    assert sent == report["totals"]["succeeded"] > 0
    m = measure_window(before, after, model=CAPPED.name, version="1")
    assert (m.requests, m.failures, m.inferences) == (sent, 0, sent)
    assert m.avg_compute_ms is not None and m.avg_compute_ms >= CAPPED.service_ms
    assert m.avg_queue_ms is not None and m.avg_queue_ms > CAPPED.service_ms  # 8 on 2 instances


@pytest.mark.slow
def test_a_sweep_stops_at_the_knee_and_latency_grows_past_it(triton: TritonServer) -> None:
    before = scrape_settled(triton.metrics_url, model=CAPPED.name)
    rc, report, _ = _run(triton.url, CAPPED.name, "--sweep", "64", "--tolerance", "0.3", *FAST)
    after = scrape_settled(triton.metrics_url, model=CAPPED.name)
    assert rc in (0, 6)
    sweep = report["sweep"]
    steps = {s["concurrency"]: s for s in sweep["steps"]}
    knee = sweep["knee"]
    assert sweep["reason"] == "gain" and knee < max(steps) < 64
    levels = sorted(steps)
    rps = [steps[c]["throughput_rps"] for c in levels]
    assert rps[0] < rps[1] and rps[levels.index(knee)] >= 0.9 * max(rps)
    assert max(rps) <= 1.02 * CAPPED_RPS
    past = steps[levels[levels.index(knee) + 1]]
    assert past["p50_ms"] > 1.5 * steps[knee]["p50_ms"]  # past the knee requests only queue
    assert (
        _count(after, "nv_inference_request_success")
        - _count(before, "nv_inference_request_success")
        == report["totals"]["requests"]
    )


def test_inputs_follow_the_model_metadata(triton: TritonServer) -> None:
    """``mixed`` fails any request whose tensors do not have its config's shapes (``-1`` = 5)."""
    before = scrape_settled(triton.metrics_url, model=MIXED.name)
    rc, report, _ = _run(triton.url, MIXED.name, "--dynamic-dim", "5", "--batch-size", "3",
                         "--tolerance", "1.0", *FAST)  # fmt: skip
    after = scrape_settled(triton.metrics_url, model=MIXED.name)
    assert rc == 0 and report["result"]["errors"] == 0
    m = measure_window(before, after, model=MIXED.name)
    assert m.requests == report["totals"]["requests"] > 0
    assert m.inferences == 3 * m.requests  # every request carried a batch of 3
    rc, report, err = _run(triton.url, MIXED.name, "--dynamic-dim", "6", *FAST)
    assert rc == 5 and "unexpected shape (1, 6) of ids" in _one_line_error(err)


@pytest.mark.slow
def test_resnet_on_onnxruntime_gives_a_stable_measurement(triton: TritonServer) -> None:
    # the runner in its own process, long windows and a 50% tolerance: on a 2-core machine
    # shared by the server, the runner and onnxruntime both the p99 of ~1 ms CPU inferences and
    # the throughput swing by up to a third between windows (CI once saw 384 vs 437 rps)
    done = _cli("--url", triton.url, "--model", "resnet", "--concurrency", "2", "--warmup-s",
                "1", "--window-s", "3", "--max-windows", "12", "--tolerance", "0.5",
                "--quiet")  # fmt: skip
    report = json.loads(done.stdout)
    result = report["result"]
    assert done.returncode == 0, result["windows"]
    assert result["stable"] is True and result["errors"] == 0
    assert result["throughput_rps"] > 20 and result["p99_ms"] >= result["p50_ms"] > 0
    last = result["windows"][-3:]  # the runner stopped because these agree within --tolerance
    for key in ("rps", "p99_ms"):
        values = [w[key] for w in last]
        assert max(values) <= 1.5 * min(values), (key, values)
    assert report["model"]["platform"] == "onnxruntime_onnx"


def test_the_runner_waits_for_a_server_still_loading_its_model(tmp_path: Path) -> None:
    """The server starts with ``slow`` (3 s to initialize); the runner is started at once."""
    srv = TritonServer(write_repository(tmp_path / "repository", (SLOW,)), models=(SLOW.name,))
    starter = threading.Thread(target=srv.start)
    starter.start()
    try:
        rc, report, _ = _run(srv.url, SLOW.name, "--ready-timeout-s", "60", "--tolerance", "1.0",
                             *FAST)  # fmt: skip
    finally:
        starter.join(timeout=120)
        srv.stop()
    assert rc == 0 and report["status"] == "ok"
    assert report["ready_wait_s"] >= SLOW.init_sleep_s
    assert "successfully loaded 'slow'" in srv.log()


def test_a_stopped_server_is_never_ready(fresh_server: ServerFactory) -> None:
    srv = fresh_server()
    srv.stop()
    done = _cli("--url", srv.url, "--model", CAPPED.name, "--ready-timeout-s", "1", "--quiet")
    assert done.returncode == 3
    assert "not ready after 1 s" in _one_line_error(done.stderr)


def _kill(srv: TritonServer) -> None:
    """SIGKILL the server and its Python backend stubs (one process group)."""
    assert srv.process is not None
    with contextlib.suppress(ProcessLookupError):
        os.killpg(srv.process.pid, signal.SIGKILL)
    srv.process.wait(timeout=30)


@pytest.mark.slow
def test_the_server_killed_mid_window_is_a_clean_exit(fresh_server: ServerFactory) -> None:
    srv = fresh_server()
    done_event = threading.Event()

    def kill_mid_window() -> None:  # warm-up is ~150 requests: kill inside the first window
        while not done_event.wait(0.05):
            if _count(scrape(srv.metrics_url), "nv_inference_request_success") >= 250:
                _kill(srv)
                return

    killer = threading.Thread(target=kill_mid_window, daemon=True)
    killer.start()
    try:
        done = _cli("--url", srv.url, "--model", CAPPED.name, "--concurrency", "4", *FAST)
    finally:
        done_event.set()
        killer.join()
    assert srv.process is not None and srv.process.returncode == -signal.SIGKILL
    assert done.returncode == 7, done.stderr
    line = _one_line_error(done.stderr)
    assert "after" in line and "successful requests" in line
    report = json.loads(done.stdout)
    assert report["status"] == "error" and report["error"]["kind"] == "server-lost"


@pytest.mark.slow
def test_a_restarted_server_resets_its_counters_and_serves_the_runner_again(
    fresh_server: ServerFactory,
) -> None:
    srv = fresh_server()
    rc, first, _ = _run(srv.url, CAPPED.name, "--tolerance", "1.0", *FAST)
    before = scrape_settled(srv.metrics_url, model=CAPPED.name)
    assert rc == 0 and _count(before, "nv_inference_request_success") == first["totals"]["requests"]
    _kill(srv)
    again = TritonServer(srv.repository, models=(CAPPED.name,))
    again.ports = srv.ports  # the same address, as a restarted container keeps its pod IP
    again.argv = command(again.root, srv.repository, srv.ports, models=(CAPPED.name,))
    with again:
        restarted = scrape(srv.metrics_url)  # what a scrape right after the restart reads
        rc, second, _ = _run(srv.url, CAPPED.name, "--tolerance", "1.0", *FAST)
        after = scrape_settled(srv.metrics_url, model=CAPPED.name)
    m = measure_window(before, restarted, model=CAPPED.name, version="1")
    assert m.counter_reset and "nv_inference_request_success" in m.resets
    assert rc == 0 and second["totals"]["requests"] > 0
    assert _count(after, "nv_inference_request_success") == second["totals"]["requests"]
