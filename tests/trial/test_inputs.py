"""Model parsing and random input generation: every datatype, batch and dynamic dimensions."""

from __future__ import annotations

import numpy as np
import pytest

from falcon_trial.errors import ModelNotFoundError, ModelUnsupportedError
from falcon_trial.inputs import DATATYPES, build_inputs, concrete_shape, random_tensor
from falcon_trial.model import ModelInfo, TensorSpec, parse_model
from falcon_trial.settings import InputSettings

EXPECTED_DTYPES = {
    "FP32": np.float32,
    "FP16": np.float16,
    "FP64": np.float64,
    "INT64": np.int64,
    "INT32": np.int32,
    "INT16": np.int16,
    "INT8": np.int8,
    "UINT8": np.uint8,
    "UINT16": np.uint16,
    "UINT32": np.uint32,
    "UINT64": np.uint64,
    "BOOL": np.bool_,
    "BYTES": np.object_,
}


def _model(*inputs: TensorSpec, max_batch: int = 8) -> ModelInfo:
    return ModelInfo("m", "1", "onnxruntime_onnx", max_batch, inputs, ())


def test_every_supported_datatype_has_an_expected_dtype() -> None:
    assert set(DATATYPES) == set(EXPECTED_DTYPES)


@pytest.mark.parametrize("datatype", sorted(EXPECTED_DTYPES))
def test_random_tensor_has_the_declared_dtype_and_shape(datatype: str) -> None:
    settings = InputSettings(int_high=2, bytes_length=5)
    array = random_tensor(datatype, (2, 3), np.random.default_rng(0), settings)
    assert array.shape == (2, 3)
    assert array.dtype == EXPECTED_DTYPES[datatype]
    if datatype.startswith("FP"):
        values = np.asarray(array, dtype=np.float64)
        assert np.all((values >= 0) & (values < 1))
    elif datatype in ("INT8", "UINT8"):
        info = np.iinfo(EXPECTED_DTYPES[datatype])
        assert info.min <= array.min() and array.max() <= info.max
    elif datatype.startswith(("INT", "UINT")):
        assert set(np.unique(array).tolist()) <= {0, 1}
    elif datatype == "BYTES":
        assert all(isinstance(v, bytes) and len(v) == 5 for v in array.ravel())


def test_int8_and_uint8_cover_their_range() -> None:
    rng = np.random.default_rng(0)
    settings = InputSettings()
    assert random_tensor("INT8", (4096,), rng, settings).min() < 0
    assert random_tensor("UINT8", (4096,), rng, settings).max() > 200


def test_unsupported_datatype_is_a_model_unsupported_error() -> None:
    with pytest.raises(ModelUnsupportedError, match="BF16"):
        random_tensor("BF16", (1,), np.random.default_rng(0), InputSettings())


def test_batch_dimension_gets_the_batch_size_and_other_dynamic_dims_the_default() -> None:
    spec = TensorSpec("ids", "INT64", (-1, 7))
    settings = InputSettings(batch_size=4, dynamic_dim=32)
    assert concrete_shape(spec, _model(spec), settings) == (4, 32, 7)
    assert concrete_shape(spec, _model(spec, max_batch=0), InputSettings(dynamic_dim=3)) == (3, 7)


def test_build_inputs_defaults_to_one_inference_per_request() -> None:
    model = _model(TensorSpec("image", "FP32", (3, 8, 8)), TensorSpec("mask", "BOOL", (-1,)))
    arrays = build_inputs(model, InputSettings())
    assert list(arrays) == ["image", "mask"]
    assert arrays["image"].shape == (1, 3, 8, 8)
    assert arrays["mask"].shape == (1, 16)


def test_inputs_are_reproducible_from_the_seed() -> None:
    model = _model(TensorSpec("x", "FP32", (4,)))
    a = build_inputs(model, InputSettings(seed=3))["x"]
    b = build_inputs(model, InputSettings(seed=3))["x"]
    assert np.array_equal(a, b)


def test_batch_size_above_max_batch_size_is_refused() -> None:
    model = _model(TensorSpec("x", "FP32", (4,)), max_batch=4)
    with pytest.raises(ModelUnsupportedError, match="max_batch_size 4"):
        build_inputs(model, InputSettings(batch_size=8))


def test_a_non_batching_model_takes_batch_size_one_only() -> None:
    model = _model(TensorSpec("x", "FP32", (4,)), max_batch=0)
    assert build_inputs(model, InputSettings())["x"].shape == (4,)
    with pytest.raises(ModelUnsupportedError, match="does not batch"):
        build_inputs(model, InputSettings(batch_size=2))


def test_parse_model_http_form_strips_the_batch_dimension() -> None:
    metadata = {
        "name": "resnet",
        "versions": ["1", "2"],
        "platform": "onnxruntime_onnx",
        "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 3, 224, 224]}],
        "outputs": [{"name": "y", "datatype": "FP32", "shape": [-1, 1000]}],
    }
    config = {"max_batch_size": 8, "input": [{"name": "x", "dims": [3, 224, 224]}]}
    model = parse_model(metadata, config)
    assert model.batched and model.version == "2"
    assert model.inputs == (TensorSpec("x", "FP32", (3, 224, 224)),)
    assert model.outputs == (TensorSpec("y", "FP32", (1000,)),)


def test_parse_model_grpc_form_with_string_dims_and_wrapped_config() -> None:
    metadata = {
        "name": "bert",
        "inputs": [{"name": "ids", "datatype": "INT64", "shape": ["-1", "-1"]}],
        "outputs": [],
    }
    model = parse_model(metadata, {"config": {"max_batch_size": 4}})
    assert model.max_batch_size == 4
    assert model.inputs == (TensorSpec("ids", "INT64", (-1,)),)


def test_parse_model_keeps_shape_when_metadata_omits_the_batch_dimension() -> None:
    metadata = {"name": "m", "inputs": [{"name": "x", "datatype": "FP32", "shape": [3, 4]}]}
    config = {"max_batch_size": 2, "input": [{"name": "x", "dims": [3, 4]}]}
    assert parse_model(metadata, config).inputs[0].shape == (3, 4)


def test_parse_model_non_batching_keeps_every_dimension() -> None:
    metadata = {"name": "m", "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 4]}]}
    model = parse_model(metadata, {"max_batch_size": 0})
    assert not model.batched and model.inputs[0].shape == (-1, 4)


@pytest.mark.parametrize(
    "metadata",
    [{"name": "m"}, {"name": "m", "inputs": [{"name": "x"}]}, {"inputs": [{"name": "x",
     "datatype": "FP32", "shape": ["a"]}]}],
)  # fmt: skip
def test_malformed_metadata_is_a_model_error(metadata: dict[str, object]) -> None:
    with pytest.raises(ModelNotFoundError):
        parse_model(metadata, {})
