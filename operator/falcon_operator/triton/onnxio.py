"""An ONNX model as the Triton backend sees it: config entries from its graph, one run per batch.

:func:`io_entries` turns the graph's inputs and outputs into Triton model-config entries
(``{"name", "data_type": "TYPE_FP32", "dims"}``; the batch dimension left out when the model
batches; dynamic dimensions are -1), which the backend's ``auto_complete_config`` adds to a
config that declares none. :class:`OnnxRunner` runs a batch that Triton's dynamic batcher formed
from several requests as one onnxruntime call (inputs concatenated along the batch dimension,
outputs split back per request), on CPU with a fixed number of intra-op threads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort

from falcon_operator.core.errors import FalconError

Array = np.ndarray[Any, np.dtype[Any]]
Feeds = Mapping[str, Array]

_TRITON_TYPES = {
    np.dtype(np.bool_): "TYPE_BOOL",
    np.dtype(np.uint8): "TYPE_UINT8",
    np.dtype(np.uint16): "TYPE_UINT16",
    np.dtype(np.uint32): "TYPE_UINT32",
    np.dtype(np.uint64): "TYPE_UINT64",
    np.dtype(np.int8): "TYPE_INT8",
    np.dtype(np.int16): "TYPE_INT16",
    np.dtype(np.int32): "TYPE_INT32",
    np.dtype(np.int64): "TYPE_INT64",
    np.dtype(np.float16): "TYPE_FP16",
    np.dtype(np.float32): "TYPE_FP32",
    np.dtype(np.float64): "TYPE_FP64",
    np.dtype(np.object_): "TYPE_STRING",
}


class OnnxIoError(FalconError):
    """The ONNX model cannot be described to Triton or run as asked."""


def _entry(value: onnx.ValueInfoProto, batching: bool) -> dict[str, Any]:
    t = value.type.tensor_type
    try:
        dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(t.elem_type))
        data_type = _TRITON_TYPES[dtype]
    except (KeyError, TypeError, ValueError):
        message = f"{value.name}: ONNX element type {t.elem_type} has no Triton type"
        raise OnnxIoError(message) from None
    dims = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else -1 for d in t.shape.dim]
    if batching:
        if not dims or dims[0] != -1:
            raise OnnxIoError(
                f"{value.name} has no dynamic first dimension (shape {dims}): "
                "the model cannot batch, so max_batch_size must be 0"
            )
        dims = dims[1:]
    return {"name": value.name, "data_type": data_type, "dims": dims}


def io_entries(
    path: Path | str, *, max_batch_size: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(inputs, outputs) of the model at ``path`` as Triton model-config entries."""
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # OSError, and protobuf's DecodeError for a file that is not ONNX
        raise OnnxIoError(f"{path}: not a readable ONNX model: {exc}") from None
    weights = {i.name for i in model.graph.initializer}
    batching = max_batch_size > 0
    inputs = [_entry(v, batching) for v in model.graph.input if v.name not in weights]
    outputs = [_entry(v, batching) for v in model.graph.output]
    return inputs, outputs


class OnnxRunner:
    """onnxruntime on CPU for one model instance."""

    def __init__(self, path: Path | str, *, threads: int = 1) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own untyped exceptions
            raise OnnxIoError(f"{path}: onnxruntime cannot load it: {exc}") from None

    def run(
        self, feeds: Sequence[Feeds], outputs: Sequence[str], *, batching: bool
    ) -> list[dict[str, Array]]:
        """Outputs of each request; one onnxruntime call when the requests can be batched."""
        names = list(outputs)
        if batching and len(feeds) > 1 and _stackable(feeds):
            sizes = [len(next(iter(f.values()))) for f in feeds]
            joined = {k: np.concatenate([f[k] for f in feeds]) for k in feeds[0]}
            results = self.session.run(names, joined)
            cuts = np.cumsum(sizes)[:-1]
            parts = [np.split(np.asarray(r), cuts) for r in results]
            return [{n: p[i] for n, p in zip(names, parts, strict=True)} for i in range(len(feeds))]
        return [
            dict(zip(names, map(np.asarray, self.session.run(names, dict(f))), strict=True))
            for f in feeds
        ]


def _stackable(feeds: Sequence[Feeds]) -> bool:
    first = feeds[0]
    return all(
        f.keys() == first.keys() and all(f[k].shape[1:] == first[k].shape[1:] for k in first)
        for f in feeds
    )


def batch_size(feeds: Sequence[Feeds], *, batching: bool) -> int:
    """Samples in a batch of requests (each request counts 1 when the model does not batch)."""
    if not batching:
        return len(feeds)
    return sum(len(next(iter(f.values()))) if f else 1 for f in feeds)
