"""The onnxruntime backend returns what onnxruntime computes, through the server and batcher."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import tritonclient.http as th
import tritonclient.http.aio as tha
from testserver_helpers import client, drive, snapshot, write_mlp

from falcon_operator.metrics import measure_window, scrape
from falcon_operator.metrics import names as n
from falcon_trial.testserver import ConfigError, OnnxRuntimeBackend, TestServer, running_server


def _direct(path: Path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {session.get_inputs()[0].name: x})[0])


def test_resnet_outputs_match_onnxruntime(resnet: Path) -> None:
    x = np.random.default_rng(1).random((2, 3, 64, 64), dtype=np.float32)
    with running_server(OnnxRuntimeBackend(resnet), model_name="resnet") as srv:
        c = client(srv)
        assert c.get_model_config("resnet")["instance_group"][0]["kind"] == "KIND_CPU"
        tensor = th.InferInput("input", [2, 3, 64, 64], "FP32")
        tensor.set_data_from_numpy(x)
        got = c.infer("resnet", [tensor]).as_numpy("logits")
    np.testing.assert_allclose(got, _direct(resnet, x), rtol=1e-4, atol=1e-5)


def test_batched_requests_each_get_their_own_rows(mlp: Path) -> None:
    xs = [np.random.default_rng(i).normal(size=(1 + i % 2, 4)).astype(np.float32) for i in range(6)]
    expected = [_direct(mlp, x) for x in xs]

    async def run() -> list[np.ndarray]:
        server = TestServer(OnnxRuntimeBackend(mlp), max_queue_delay_ms=50.0)
        await server.start()
        try:
            aio = tha.InferenceServerClient(server.url.removeprefix("http://"))

            async def one(x: np.ndarray) -> np.ndarray:
                tensor = tha.InferInput("x", list(x.shape), "FP32")
                tensor.set_data_from_numpy(x, binary_data=False)
                out = tha.InferRequestedOutput("y", binary_data=False)
                return np.asarray((await aio.infer("model", [tensor], outputs=[out])).as_numpy("y"))

            got = await asyncio.gather(*(one(x) for x in xs))
            await aio.close()
            snap = await asyncio.to_thread(scrape, server.metrics_url)
            (executions,) = snap.samples(n.EXEC_COUNT)
            assert executions.value < len(xs)  # requests shared batches
            return list(got)
        finally:
            await server.stop()

    for g, e in zip(asyncio.run(run()), expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-6)


def test_concurrent_load_is_batched_on_onnxruntime(mlp: Path) -> None:
    with running_server(OnnxRuntimeBackend(mlp, max_batch_size=16), model_name="mlp") as srv:
        meta = client(srv).get_model_metadata("mlp")
        assert meta["inputs"] == [{"name": "x", "datatype": "FP32", "shape": [-1, 4]}]
        before = snapshot(srv)
        sent = drive(srv.url, "mlp", workers=16, seconds=0.5, name="x", shape=(1, 4))
        m = measure_window(before, snapshot(srv), model="mlp")
    assert m.requests == sent > 0
    assert m.avg_batch_size is not None and m.avg_batch_size > 1.5
    assert m.gpus == ()


def test_a_model_without_a_batch_dimension_runs_each_request_alone(tmp_path: Path) -> None:
    fixed = write_mlp(tmp_path / "fixed.onnx", batch=2)
    backend = OnnxRuntimeBackend(fixed)
    with running_server(backend, model_name="fixed") as srv:
        c = client(srv)
        assert c.get_model_config("fixed")["max_batch_size"] == 0
        assert c.get_model_metadata("fixed")["inputs"][0]["shape"] == [2, 4]
        x = np.arange(8, dtype=np.float32).reshape(2, 4)
        tensor = th.InferInput("x", [2, 4], "FP32")
        tensor.set_data_from_numpy(x)
        np.testing.assert_allclose(c.infer("fixed", [tensor]).as_numpy("y"), _direct(fixed, x))


def test_unusable_files_are_config_errors(tmp_path: Path) -> None:
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    with pytest.raises(ConfigError, match="not an ONNX model"):
        OnnxRuntimeBackend(junk)
    with pytest.raises(ConfigError, match="no such model file"):
        OnnxRuntimeBackend(tmp_path / "missing.onnx")


def test_reload_with_two_instances_keeps_answering(mlp: Path) -> None:
    with running_server(OnnxRuntimeBackend(mlp), model_name="mlp") as srv:
        c = client(srv)
        c.load_model("mlp", config='{"instance_group": [{"count": 2, "kind": "KIND_CPU"}]}')
        assert c.get_model_config("mlp")["instance_group"][0]["count"] == 2
        sent = drive(srv.url, "mlp", workers=8, seconds=0.3, name="x", shape=(1, 4))
        x = np.ones((1, 4), np.float32)
        tensor = th.InferInput("x", [1, 4], "FP32")
        tensor.set_data_from_numpy(x)
        np.testing.assert_allclose(c.infer("mlp", [tensor]).as_numpy("y"), _direct(mlp, x))
        assert [s.value for s in snapshot(srv).samples(n.REQUEST_SUCCESS)] == [sent + 1]
