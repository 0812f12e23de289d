"""A real tritonclient.http client against the running test server: every endpoint it uses,
and the faults it injects."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import tritonclient.http as th
from testserver_helpers import client, resnet_input, snapshot
from tritonclient.utils import InferenceServerException

from falcon_trial.testserver import (
    ConfigError,
    Faults,
    RunningServer,
    SimulatedBackend,
    running_server,
)


def test_health_and_server_metadata(fast_server: RunningServer) -> None:
    c = client(fast_server)
    assert c.is_server_live() and c.is_server_ready()
    assert c.is_model_ready("resnet") and c.is_model_ready("resnet", "1")
    assert not c.is_model_ready("resnet", "2")
    meta = c.get_server_metadata()
    assert "binary_tensor_data" in meta["extensions"]


def test_model_metadata_has_the_dynamic_batch_dimension(fast_server: RunningServer) -> None:
    meta = client(fast_server).get_model_metadata("resnet")
    assert meta["name"] == "resnet" and meta["versions"] == ["1"]
    assert meta["platform"] == "onnxruntime_onnx"
    assert meta["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 3, 64, 64]}]
    assert meta["outputs"] == [{"name": "logits", "datatype": "FP32", "shape": [-1, 10]}]
    assert client(fast_server).get_model_metadata("resnet", "1") == meta


def test_model_config_is_triton_shaped(fast_server: RunningServer) -> None:
    cfg = client(fast_server).get_model_config("resnet")
    assert cfg["max_batch_size"] == 8
    assert cfg["dynamic_batching"]["preferred_batch_size"] == [8]
    assert cfg["dynamic_batching"]["max_queue_delay_microseconds"] == 1000
    assert cfg["input"][0]["dims"] == [3, 64, 64] and cfg["input"][0]["data_type"] == "TYPE_FP32"
    assert cfg["output"][0]["dims"] == [10]
    assert cfg["instance_group"][0]["kind"] == "KIND_GPU"


@pytest.mark.parametrize("binary_in", [True, False])
@pytest.mark.parametrize("binary_out", [True, False])
def test_infer_binary_and_json(
    fast_server: RunningServer, binary_in: bool, binary_out: bool
) -> None:
    out = th.InferRequestedOutput("logits", binary_data=binary_out)
    result = client(fast_server).infer(
        "resnet", [resnet_input(3, binary=binary_in)], outputs=[out], request_id="r-7"
    )
    logits = result.as_numpy("logits")
    assert logits.shape == (3, 10) and logits.dtype == np.float32
    response = result.get_response()
    assert response["id"] == "r-7" and response["model_name"] == "resnet"
    assert ("parameters" in response["outputs"][0]) is binary_out


def test_infer_without_requested_outputs_returns_all_binary(fast_server: RunningServer) -> None:
    result = client(fast_server).infer("resnet", [resnet_input(1)], model_version="1")
    assert result.as_numpy("logits").shape == (1, 10)
    assert result.get_response()["outputs"][0]["parameters"]["binary_data_size"] == 40


@pytest.mark.parametrize("algorithm", ["gzip", "deflate"])
def test_compressed_requests(fast_server: RunningServer, algorithm: str) -> None:
    result = client(fast_server).infer(
        "resnet", [resnet_input(2)], request_compression_algorithm=algorithm
    )
    assert result.as_numpy("logits").shape == (2, 10)


def _status(exc: pytest.ExceptionInfo[InferenceServerException]) -> str:
    return str(exc.value.status())


def test_unknown_model_or_version_is_404(fast_server: RunningServer) -> None:
    c = client(fast_server)
    with pytest.raises(InferenceServerException, match="unknown model: 'nope'") as info:
        c.get_model_metadata("nope")
    assert _status(info) == "404"
    with pytest.raises(InferenceServerException) as info:
        c.infer("nope", [resnet_input(1)])
    assert _status(info) == "404"
    with pytest.raises(InferenceServerException, match="version 3") as info:
        c.get_model_config("resnet", "3")
    assert _status(info) == "404"


@pytest.mark.parametrize(
    ("tensor", "message"),
    [
        (th.InferInput("input", [1, 3, 64, 64], "FP64"), "unexpected datatype FP64"),
        (th.InferInput("input", [1, 3, 32, 32], "FP32"), "unexpected shape"),
        (th.InferInput("input", [9, 3, 64, 64], "FP32"), "batch-size must be between 1 and 8"),
        (th.InferInput("image", [1, 3, 64, 64], "FP32"), "unexpected or repeated inference input"),
    ],
)
def test_bad_inputs_are_400(
    fast_server: RunningServer, tensor: th.InferInput, message: str
) -> None:
    dtype = np.float64 if tensor.datatype() == "FP64" else np.float32
    tensor.set_data_from_numpy(np.zeros(tensor.shape(), dtype))
    with pytest.raises(InferenceServerException, match=message) as info:
        client(fast_server).infer("resnet", [tensor])
    assert _status(info) == "400"


def test_malformed_json_and_unknown_paths(fast_server: RunningServer) -> None:
    def post(path: str, body: bytes) -> tuple[int, dict[str, str]]:
        request = urllib.request.Request(fast_server.url + path, data=body, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    status, body = post("/v2/models/resnet/infer", b"{not json")
    assert status == 400 and "failed to parse the request JSON" in body["error"]
    status, body = post("/v2/models/resnet/infer", b'{"inputs": []}')
    assert status == 400 and "expected 1 inputs" in body["error"]
    status, body = post("/v2/nothing/here", b"")
    assert status == 404 and "not found" in body["error"]


def test_a_never_ready_server_is_live_and_serves_but_never_ready(resnet: Path) -> None:
    backend = SimulatedBackend.from_onnx(resnet, batch_size=8, time_scale=0.01)
    with running_server(backend, model_name="resnet", faults=Faults(never_ready=True)) as srv:
        c = client(srv)
        assert c.is_server_live() and not c.is_server_ready()
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(srv.url + "/v2/health/ready", timeout=5)
        assert info.value.code == 503
        assert c.is_model_ready("resnet")
        assert c.infer("resnet", [resnet_input(1)]).as_numpy("logits").shape == (1, 10)


def test_failing_inference_is_500_with_the_message_and_a_backend_failure(resnet: Path) -> None:
    backend = SimulatedBackend.from_onnx(resnet, batch_size=8, time_scale=0.01)
    faults = Faults(fail_inference="model exploded")
    with running_server(backend, model_name="resnet", faults=faults) as srv:
        c = client(srv)
        assert c.is_server_ready() and c.get_model_metadata("resnet")["name"] == "resnet"
        for _ in range(3):
            with pytest.raises(InferenceServerException) as info:
                c.infer("resnet", [resnet_input(1)])
            assert (_status(info), info.value.message()) == ("500", "model exploded")
        with pytest.raises(InferenceServerException) as info:
            c.infer("resnet", [resnet_input(9)])  # a bad request is still a 400
        assert _status(info) == "400"
        after = snapshot(srv)
    failed = after.model_samples("nv_inference_request_failure", model="resnet")
    assert {s.labels["reason"]: s.value for s in failed} == {
        "OTHER": 1, "BACKEND": 3, "REJECTED": 0, "CANCELED": 0,
    }  # fmt: skip
    success = after.model_samples("nv_inference_request_success", model="resnet")
    assert [s.value for s in success] == [0]


def test_an_injected_error_needs_a_message() -> None:
    with pytest.raises(ConfigError, match="needs a message"):
        Faults(fail_inference=" ")
