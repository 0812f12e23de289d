"""TritonServer(cores=...) pins the server and its stubs; the thread knob reaches onnxruntime."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from triton_helpers import RESNET

from falcon_operator.triton.repository import write_trial_model
from falcon_operator.triton.server import TritonError, TritonServer, pin


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


def test_cores_outside_this_process_affinity_are_refused(tmp_path: Path) -> None:
    outside = max(os.sched_getaffinity(0)) + 1
    with pytest.raises(TritonError, match=rf"cannot pin tritonserver to cores \[{outside}\]"):
        TritonServer(tmp_path, cores=[outside])
    with pytest.raises(TritonError, match="cannot pin"):
        pin([])
    assert pin([0])[-2:] == ["--cpu-list", "0"]


def test_the_server_and_its_stubs_run_on_the_given_core(tmp_path: Path) -> None:
    core = min(os.sched_getaffinity(0))
    write_trial_model(tmp_path / "repo", "pinned", RESNET, {})
    try:
        server = TritonServer(tmp_path / "repo", cores=[core], log_path=tmp_path / "log").start()
    except TritonError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        assert server.process is not None
        assert os.sched_getaffinity(server.process.pid) == {core}
        server.load("pinned")
        stubs = _children(server.process.pid)
        assert stubs, "the Python backend started no stub process"
        assert all(os.sched_getaffinity(pid) == {core} for pid in stubs)
    finally:
        server.stop()


def test_the_thread_knob_reaches_onnxruntime_through_the_model_config(tmp_path: Path) -> None:
    """``ortthreads`` renders ``intra_op_thread_count``, which the backend hands onnxruntime."""
    write_trial_model(tmp_path / "repo", "threads", RESNET, {"ortthreads": 2, "batchsize": 2})
    try:
        server = TritonServer(tmp_path / "repo", models=["threads"], log_path=tmp_path / "log")
        server.start()
    except TritonError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        assert server.model_ready("threads")
    finally:
        server.stop()
    assert "onnxruntime on CPU, 2 intra-op threads" in server.log()
