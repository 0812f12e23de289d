"""Random request inputs that match the model's declared names, shapes and datatypes.

The batch dimension of a batching model gets ``InputSettings.batch_size`` (1 by default, so one
request is one inference), every other ``-1`` dimension ``InputSettings.dynamic_dim``. Values:
floats uniform in [0, 1); INT8/UINT8 over their whole range; other integers in
``[0, int_high)`` (0/1 by default: valid ids, masks and segment ids for any vocabulary); BOOL
fair coin flips; BYTES random ASCII letters. Inputs are generated once and reused by every request.
"""

from __future__ import annotations

import string

import numpy as np
from numpy.typing import NDArray

from falcon_trial.errors import ModelUnsupportedError
from falcon_trial.model import ModelInfo, TensorSpec
from falcon_trial.settings import InputSettings

FLOAT_TYPES: dict[str, type[np.floating]] = {
    "FP16": np.float16,
    "FP32": np.float32,
    "FP64": np.float64,
}
INT_TYPES: dict[str, type[np.integer]] = {
    "INT8": np.int8,
    "INT16": np.int16,
    "INT32": np.int32,
    "INT64": np.int64,
    "UINT8": np.uint8,
    "UINT16": np.uint16,
    "UINT32": np.uint32,
    "UINT64": np.uint64,
}
FULL_RANGE = ("INT8", "UINT8")
DATATYPES = (*FLOAT_TYPES, *INT_TYPES, "BOOL", "BYTES")
_LETTERS = np.frombuffer(string.ascii_letters.encode(), dtype=np.uint8)


def concrete_shape(spec: TensorSpec, model: ModelInfo, settings: InputSettings) -> tuple[int, ...]:
    """The shape sent for ``spec``: batch dimension first (batching models), ``-1`` resolved."""
    dims = tuple(settings.dynamic_dim if d < 0 else d for d in spec.shape)
    return (settings.batch_size, *dims) if model.batched else dims


def random_tensor(
    datatype: str, shape: tuple[int, ...], rng: np.random.Generator, settings: InputSettings
) -> NDArray[np.generic]:
    """A random array of Triton ``datatype`` and ``shape``."""
    if datatype in FLOAT_TYPES:
        return rng.random(shape, dtype=np.float64).astype(FLOAT_TYPES[datatype])
    if datatype in INT_TYPES:
        dtype = INT_TYPES[datatype]
        if datatype in FULL_RANGE:
            info = np.iinfo(dtype)
            low, high = int(info.min), int(info.max) + 1
        else:
            low, high = 0, settings.int_high
        return rng.integers(low, high, size=shape, dtype=dtype)
    if datatype == "BOOL":
        return rng.random(shape) < 0.5
    if datatype == "BYTES":
        count = int(np.prod(shape, dtype=np.int64))
        codes = rng.choice(_LETTERS, size=(count, settings.bytes_length))
        flat = np.empty(count, dtype=np.object_)
        for i in range(count):
            flat[i] = codes[i].tobytes()
        return flat.reshape(shape)
    raise ModelUnsupportedError(
        f"input datatype {datatype} is not supported (supported: {', '.join(DATATYPES)})"
    )


def build_inputs(model: ModelInfo, settings: InputSettings) -> dict[str, NDArray[np.generic]]:
    """One random array per model input, in declaration order."""
    if not model.inputs:
        raise ModelUnsupportedError(f"model {model.name!r} declares no inputs")
    if model.batched and settings.batch_size > model.max_batch_size:
        raise ModelUnsupportedError(
            f"batch size {settings.batch_size} exceeds the model's max_batch_size "
            f"{model.max_batch_size}"
        )
    if not model.batched and settings.batch_size != 1:
        raise ModelUnsupportedError(
            f"model {model.name!r} does not batch (max_batch_size 0); use --batch-size 1"
        )
    rng = np.random.default_rng(settings.seed)
    return {
        spec.name: random_tensor(
            spec.datatype, concrete_shape(spec, model, settings), rng, settings
        )
        for spec in model.inputs
    }
