"""The KServe v2 inference body, with Triton's binary tensor extension, in and out.

A request is a JSON header, optionally followed by raw tensor bytes: the header's length is in
the ``Inference-Header-Content-Length`` HTTP header, and each binary input says its size in
``parameters.binary_data_size`` (inputs appear in the body in header order). An output is sent
binary when its request entry has ``parameters.binary_data`` true, or, for outputs not listed,
when the request has ``parameters.binary_data_output`` true; otherwise as a JSON ``data`` list.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from falcon_trial.testserver.errors import RequestError
from falcon_trial.testserver.tensors import ModelSignature, TensorSpec

HEADER_LENGTH = "Inference-Header-Content-Length"
Array = NDArray[Any]


@dataclass(frozen=True)
class OutputRequest:
    name: str
    binary: bool


@dataclass(frozen=True)
class InferRequest:
    """A decoded request: its inputs, its batch (samples; 1 when the model does not batch)."""

    id: str | None
    inputs: dict[str, Array]
    batch: int
    outputs: tuple[OutputRequest, ...]


def _header(body: bytes, header_length: str | None) -> tuple[dict[str, Any], bytes]:
    split = len(body)
    if header_length is not None:
        try:
            split = int(header_length)
        except ValueError:
            raise RequestError(f"{HEADER_LENGTH} is not an integer: {header_length!r}") from None
        if not 0 < split <= len(body):
            raise RequestError(f"{HEADER_LENGTH} {split} does not fit a {len(body)}-byte body")
    try:
        header = json.loads(body[:split])
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RequestError(f"failed to parse the request JSON buffer: {exc}") from None
    if not isinstance(header, dict) or not isinstance(header.get("inputs"), list):
        raise RequestError("the request JSON must be an object with an 'inputs' list")
    return header, body[split:]


def _tensor(item: Any, spec: TensorSpec, binary: bytes, offset: int) -> tuple[Array, int]:
    shape, params = item.get("shape"), item.get("parameters") or {}
    if item.get("datatype") != spec.datatype:
        raise RequestError(
            f"unexpected datatype {item.get('datatype')} for input {spec.name!r}, "
            f"expecting {spec.datatype}"
        )
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise RequestError(f"input {spec.name!r}: 'shape' must be a list of non-negative integers")
    if len(shape) != len(spec.shape) or any(
        s not in (-1, d) for s, d in zip(spec.shape, shape, strict=True)
    ):
        raise RequestError(
            f"unexpected shape for input {spec.name!r}: got {shape}, expecting {list(spec.shape)}"
        )
    if "shared_memory_region" in params:
        raise RequestError("shared-memory tensors are not supported by the test server")
    count = int(np.prod(shape, dtype=np.int64))
    if "binary_data_size" in params:
        size = params["binary_data_size"]
        if (
            not isinstance(size, int)
            or size != count * spec.dtype.itemsize
            or offset + size > len(binary)
        ):
            raise RequestError(
                f"input {spec.name!r}: binary_data_size {size} does not match "
                f"shape {shape} or the body"
            )
        return np.frombuffer(binary, spec.dtype, count, offset).reshape(shape), offset + size
    try:
        array = np.asarray(item["data"], dtype=spec.dtype)
    except (KeyError, ValueError, TypeError) as exc:
        raise RequestError(
            f"input {spec.name!r}: no usable 'data' ({type(exc).__name__})"
        ) from None
    if array.size != count:
        raise RequestError(f"input {spec.name!r}: {array.size} values for shape {shape}")
    return array.reshape(shape), offset


def decode_request(
    body: bytes, header_length: str | None, sig: ModelSignature, max_batch_size: int
) -> InferRequest:
    """Validate and decode a request against the model's signature; ``RequestError`` if bad."""
    header, binary = _header(body, header_length)
    specs = {s.name: s for s in sig.inputs}
    inputs: dict[str, Array] = {}
    offset = 0
    for item in header["inputs"]:
        name = item.get("name") if isinstance(item, dict) else None
        if name not in specs or name in inputs:
            raise RequestError(
                f"unexpected or repeated inference input {name!r}; the model has {sorted(specs)}"
            )
        inputs[name], offset = _tensor(item, specs[name], binary, offset)
    if len(inputs) != len(specs) or offset != len(binary):
        raise RequestError(
            f"expected {len(specs)} inputs and {offset} binary bytes, "
            f"got {len(inputs)} and {len(binary)}"
        )
    batches = {a.shape[0] for a in inputs.values()} if sig.batching else {1}
    batch = batches.pop()
    if batches or not 1 <= batch <= max(max_batch_size, 1):
        raise RequestError(
            f"inference request batch-size must be between 1 and {max_batch_size}, "
            "equal for every input"
        )
    default_binary = bool((header.get("parameters") or {}).get("binary_data_output", False))
    wanted = header.get("outputs") or [{"name": s.name} for s in sig.outputs]
    known = {s.name for s in sig.outputs}
    outputs = []
    for out in wanted:
        params = out.get("parameters") or {} if isinstance(out, dict) else {}
        if (
            not isinstance(out, dict)
            or out.get("name") not in known
            or params.get("classification")
        ):
            raise RequestError(
                f"unknown or unsupported requested output {out!r}; the model has {sorted(known)}"
            )
        outputs.append(OutputRequest(out["name"], bool(params.get("binary_data", default_binary))))
    request_id = header.get("id")
    return InferRequest(
        None if request_id is None else str(request_id), inputs, batch, tuple(outputs)
    )


def encode_response(
    model: str, request: InferRequest, results: Mapping[str, Array], sig: ModelSignature
) -> tuple[bytes, dict[str, str]]:
    """The response body and its HTTP headers (binary outputs after the JSON header)."""
    datatypes = {s.name: s.datatype for s in sig.outputs}
    entries, chunks = [], []
    for out in request.outputs:
        array = np.ascontiguousarray(results[out.name])
        entry: dict[str, Any] = {
            "name": out.name,
            "datatype": datatypes[out.name],
            "shape": list(array.shape),
        }
        if out.binary:
            raw = array.tobytes()
            entry["parameters"] = {"binary_data_size": len(raw)}
            chunks.append(raw)
        else:
            entry["data"] = array.ravel().tolist()
        entries.append(entry)
    header: dict[str, Any] = {"model_name": model, "model_version": "1", "outputs": entries}
    if request.id is not None:
        header["id"] = request.id
    head = json.dumps(header, separators=(",", ":")).encode()
    if not chunks:
        return head, {"Content-Type": "application/json"}
    return head + b"".join(chunks), {
        "Content-Type": "application/octet-stream",
        HEADER_LENGTH: str(len(head)),
    }
