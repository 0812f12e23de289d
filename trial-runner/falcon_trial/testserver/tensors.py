"""Tensor specifications: Triton datatypes, numpy dtypes, and reading them from an ONNX graph.

Shapes follow Triton's model *metadata*: ``-1`` marks a dynamic dimension, and for a model that
batches the first dimension is the batch (``-1``). The model *config* lists dims without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx

from falcon_trial.testserver.errors import ConfigError

#: Triton datatype → numpy dtype (BYTES and BF16 are not supported by the test server)
DTYPES: dict[str, np.dtype[np.generic]] = {
    "BOOL": np.dtype(np.bool_),
    "UINT8": np.dtype(np.uint8),
    "UINT16": np.dtype(np.uint16),
    "UINT32": np.dtype(np.uint32),
    "UINT64": np.dtype(np.uint64),
    "INT8": np.dtype(np.int8),
    "INT16": np.dtype(np.int16),
    "INT32": np.dtype(np.int32),
    "INT64": np.dtype(np.int64),
    "FP16": np.dtype(np.float16),
    "FP32": np.dtype(np.float32),
    "FP64": np.dtype(np.float64),
}

_ONNX_TYPES: dict[int, str] = {
    onnx.TensorProto.BOOL: "BOOL",
    onnx.TensorProto.UINT8: "UINT8",
    onnx.TensorProto.UINT16: "UINT16",
    onnx.TensorProto.UINT32: "UINT32",
    onnx.TensorProto.UINT64: "UINT64",
    onnx.TensorProto.INT8: "INT8",
    onnx.TensorProto.INT16: "INT16",
    onnx.TensorProto.INT32: "INT32",
    onnx.TensorProto.INT64: "INT64",
    onnx.TensorProto.FLOAT16: "FP16",
    onnx.TensorProto.FLOAT: "FP32",
    onnx.TensorProto.DOUBLE: "FP64",
}


@dataclass(frozen=True)
class TensorSpec:
    """One input or output: name, Triton datatype and metadata shape (``-1`` = dynamic)."""

    name: str
    datatype: str
    shape: tuple[int, ...]

    @property
    def dtype(self) -> np.dtype[np.generic]:
        return DTYPES[self.datatype]

    def config_dims(self, batching: bool) -> list[int]:
        """Dims as the model config lists them (without the batch dimension when batching)."""
        return list(self.shape[1:] if batching else self.shape)


@dataclass(frozen=True)
class ModelSignature:
    """A model's inputs and outputs, and whether its first dimension is a batch dimension."""

    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    batching: bool


def _spec(value: onnx.ValueInfoProto, where: str) -> TensorSpec:
    t = value.type.tensor_type
    if not value.type.HasField("tensor_type") or t.elem_type not in _ONNX_TYPES:
        kind = onnx.TensorProto.DataType.Name(t.elem_type) if t.elem_type else "non-tensor"
        raise ConfigError(
            f"{where} {value.name!r} has type {kind}, which the test server cannot serve"
        )
    shape = tuple(
        d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else -1 for d in t.shape.dim
    )
    return TensorSpec(value.name, _ONNX_TYPES[t.elem_type], shape)


def signature_from_onnx(path: Path | str) -> ModelSignature:
    """Inputs/outputs of the ONNX model at ``path``; it batches when every first dim is dynamic."""
    try:
        model = onnx.load(str(path), load_external_data=False)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such model file") from exc
    except Exception as exc:  # onnx raises DecodeError and friends for non-ONNX files
        raise ConfigError(f"{path}: not an ONNX model ({type(exc).__name__})") from exc
    weights = {i.name for i in model.graph.initializer}
    inputs = tuple(_spec(v, "input") for v in model.graph.input if v.name not in weights)
    outputs = tuple(_spec(v, "output") for v in model.graph.output)
    if not inputs or not outputs:
        raise ConfigError(f"{path}: the model needs at least one input and one output")
    batching = all(s.shape and s.shape[0] == -1 for s in inputs + outputs)
    return ModelSignature(inputs, outputs, batching)
