"""Helpers shared by the test-server tests: models, clients, inputs, closed-loop load."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
import onnx
import tritonclient.http as th
import tritonclient.http.aio as tha
from onnx import TensorProto, helper

from falcon_operator.metrics import Snapshot, scrape
from falcon_trial.testserver import RunningServer

RESNET = Path(__file__).parents[3] / "operator/falcon_operator/data/models/resnet-mini.onnx"


def write_mlp(path: Path, *, batch: int | str = "N") -> Path:
    """A tiny MLP: ``y = relu(x @ W + b)`` with x [batch, 4], y [batch, 3]; fixed weights."""
    rng = np.random.default_rng(0)
    w = helper.make_tensor("W", TensorProto.FLOAT, [4, 3], rng.normal(size=12).astype(np.float32))
    b = helper.make_tensor("B", TensorProto.FLOAT, [3], rng.normal(size=3).astype(np.float32))
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "W"], ["h"]),
            helper.make_node("Add", ["h", "B"], ["z"]),
            helper.make_node("Relu", ["z"], ["y"]),
        ],
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 3])],
        [w, b],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def client(srv: RunningServer) -> th.InferenceServerClient:
    return th.InferenceServerClient(srv.url.removeprefix("http://"), network_timeout=10.0)


def resnet_input(batch: int, *, binary: bool = True, seed: int = 0) -> th.InferInput:
    x = np.random.default_rng(seed).random((batch, 3, 64, 64), dtype=np.float32)
    tensor = th.InferInput("input", list(x.shape), "FP32")
    tensor.set_data_from_numpy(x, binary_data=binary)
    return tensor


def snapshot(srv: RunningServer) -> Snapshot:
    return scrape(srv.metrics_url)


def drive(
    url: str,
    model: str,
    *,
    workers: int,
    seconds: float,
    name: str = "input",
    shape: tuple[int, ...] = (1, 3, 64, 64),
) -> int:
    """Closed-loop load: ``workers`` clients send zeros of ``shape`` for ``seconds``; successes."""

    async def run() -> int:
        c = tha.InferenceServerClient(url.removeprefix("http://"), conn_limit=workers)
        x = np.zeros(shape, np.float32)
        stop_at, done = time.monotonic() + seconds, 0

        async def worker() -> None:
            nonlocal done
            tensor = tha.InferInput(name, list(shape), "FP32")
            tensor.set_data_from_numpy(x)
            while time.monotonic() < stop_at:
                await c.infer(model, [tensor])
                done += 1

        try:
            await asyncio.gather(*(worker() for _ in range(workers)))
        finally:
            await c.close()
        return done

    return asyncio.run(run())
