"""Pieces of the test server on their own: body codec, config overrides, simulated time."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from falcon_trial.testserver import ConfigError, ModelConfig, RequestError, SimulatedBackend
from falcon_trial.testserver.codec import decode_request, encode_response
from falcon_trial.testserver.config import apply_override
from falcon_trial.testserver.exposition import render
from falcon_trial.testserver.stats import ModelStats
from falcon_trial.testserver.tensors import ModelSignature, TensorSpec
from falcon_trial.testserver.timeline import BusyMeter, Lanes

SIG = ModelSignature(
    (TensorSpec("a", "FP32", (-1, 2)), TensorSpec("b", "INT64", (-1, 1))),
    (TensorSpec("y", "FP16", (-1, 2)),),
    batching=True,
)


def _body(inputs: list[dict[str, object]], raw: bytes = b"", **extra: object) -> tuple[bytes, str]:
    head = json.dumps({"inputs": inputs, **extra}).encode()
    return head + raw, str(len(head))


def test_decode_mixes_binary_and_json_inputs() -> None:
    a = np.array([[1, 2], [3, 4], [5, 6]], np.float32)
    body, length = _body(
        [
            {"name": "a", "datatype": "FP32", "shape": [3, 2],
             "parameters": {"binary_data_size": a.nbytes}},
            {"name": "b", "datatype": "INT64", "shape": [3, 1], "data": [[7], [8], [9]]},
        ],
        a.tobytes(),
        id="q1",
        outputs=[{"name": "y", "parameters": {"binary_data": True}}],
    )  # fmt: skip
    request = decode_request(body, length, SIG, 4)
    np.testing.assert_array_equal(request.inputs["a"], a)
    assert request.inputs["b"].dtype == np.int64 and request.inputs["b"].ravel().tolist() == [
        7,
        8,
        9,
    ]
    assert (request.id, request.batch, request.outputs[0].binary) == ("q1", 3, True)


def _a(shape: list[int], **fields: object) -> dict[str, object]:
    return {"name": "a", "datatype": "FP32", "shape": shape, **fields}


B1 = {"name": "b", "datatype": "INT64", "shape": [1, 1], "data": [1]}


@pytest.mark.parametrize(
    ("inputs", "raw", "message"),
    [
        ([_a([1, 2], data=[1, 2])], b"", "expected 2 inputs"),
        ([_a([1, 2], parameters={"binary_data_size": 4}), B1], b"1234", "binary_data_size 4"),
        ([_a([1, 2], data=[1, 2, 3]), B1], b"", "3 values for shape"),
        ([_a([2, 2], data=[1, 2, 3, 4]), B1], b"", "equal for every input"),
        ([_a([1, 2], data=[1, 2]), _a([1, 2], data=[1, 2])], b"", "repeated"),
        ([_a([1, -2], data=[])], b"", "non-negative"),
        ([_a([1, 2], data=[1, 2], parameters={"shared_memory_region": "r"}), B1], b"", "shared"),
        ([_a([1, 2], data="x"), B1], b"", "no usable .data."),
    ],
)
def test_decode_rejects_bad_requests(
    inputs: list[dict[str, object]], raw: bytes, message: str
) -> None:
    body, length = _body(inputs, raw)
    with pytest.raises(RequestError, match=message) as info:
        decode_request(body, length, SIG, 4)
    assert info.value.status == 400


def test_decode_rejects_a_bad_header_length() -> None:
    with pytest.raises(RequestError, match="does not fit"):
        decode_request(b"{}", "99", SIG, 4)
    with pytest.raises(RequestError, match="not an integer"):
        decode_request(b"{}", "x", SIG, 4)


def test_encode_json_and_binary_outputs() -> None:
    body, length = _body(
        [{"name": "a", "datatype": "FP32", "shape": [1, 2], "data": [1, 2]},
         {"name": "b", "datatype": "INT64", "shape": [1, 1], "data": [1]}],
    )  # fmt: skip
    y = np.array([[0.5, 1.5]], np.float16)
    as_json, headers = encode_response("m", decode_request(body, length, SIG, 4), {"y": y}, SIG)
    assert headers == {"Content-Type": "application/json"}
    assert json.loads(as_json)["outputs"][0] == {
        "name": "y",
        "datatype": "FP16",
        "shape": [1, 2],
        "data": [0.5, 1.5],
    }
    body, length = _body(
        json.loads(body[: int(length)])["inputs"], parameters={"binary_data_output": True}
    )
    raw, headers = encode_response("m", decode_request(body, length, SIG, 4), {"y": y}, SIG)
    split = int(headers["Inference-Header-Content-Length"])
    assert np.frombuffer(raw[split:], np.float16).tolist() == [0.5, 1.5]


def test_config_override() -> None:
    base = ModelConfig(8, (8,))
    new = apply_override(
        base,
        '{"max_batch_size": "16", "dynamic_batching": {"preferred_batch_size": [4, 16],'
        ' "max_queue_delay_microseconds": 250}, "instance_group": [{"count": 2}]}',
        batching=True,
    )
    assert new == ModelConfig(16, (4, 16), 250, 2) and new.batch_target == 16
    assert apply_override(base, '{"max_batch_size": 4}', batching=True).batch_target == 4
    for text, message in [
        ("[1]", "JSON object"),
        ("{", "not JSON"),
        ('{"max_batch_size": 2.5}', "must be an integer"),
        ('{"dynamic_batching": {"preferred_batch_size": [32]}}', "must lie in"),
        ('{"max_batch_size": 4}', "no dynamic batch dimension"),
    ]:
        with pytest.raises(ConfigError, match=message):
            apply_override(base, text, batching=message != "no dynamic batch dimension")


def test_lanes_keep_a_schedule_and_the_meter_measures_busy_time() -> None:
    lanes = Lanes(2)
    assert lanes.reserve(0.0, 1.0) == (0.0, 1.0)
    assert lanes.reserve(0.0, 1.0) == (0.0, 1.0)
    assert lanes.reserve(0.5, 1.0) == (1.0, 2.0)  # both busy until 1.0
    assert lanes.reserve(5.0, 1.0) == (5.0, 6.0)
    meter = BusyMeter(window=1.0)
    meter.add(0.0, 0.25)
    meter.add(0.5, 1.5)
    assert meter.utilization(1.0) == pytest.approx(0.75)
    assert meter.utilization(3.0) == 0.0


def test_exposition_escapes_label_values() -> None:
    text = render('we"ird\\name', ModelStats(success=3), 0, [])
    assert 'nv_inference_request_success{model="we\\"ird\\\\name",version="1"} 3' in text
    assert render("m", None, 0, []) == "\n"


def test_simulated_backend_rejects_bad_configurations(resnet: Path) -> None:
    with pytest.raises(ConfigError, match="unknown GPU 'X1'"):
        SimulatedBackend.from_onnx(resnet, gpu="X1")
    with pytest.raises(ConfigError, match="no MIG profile"):
        SimulatedBackend.from_onnx(resnet, gpu="T4/1g.5gb")
    with pytest.raises(ConfigError, match="percentage of TDP"):
        SimulatedBackend.from_onnx(resnet, power=0.5)
    with pytest.raises(ConfigError, match="out of memory"):
        SimulatedBackend.from_onnx(resnet, gpu_memory_gb=0.2)
    with pytest.raises(ConfigError, match="cpus > 0"):
        SimulatedBackend.from_onnx(resnet, cpus=0)
    mig = SimulatedBackend.from_onnx(resnet, gpu="A100/1g.5gb")
    assert mig.capacity_rps < SimulatedBackend.from_onnx(resnet, gpu="A100").capacity_rps
