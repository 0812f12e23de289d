"""What the runner knows about the served model: tensor specs parsed from Triton metadata/config.

Triton's model metadata (``GET /v2/models/{m}``) lists every input's name, datatype and shape;
for a batching model (config ``max_batch_size > 0``) the shape starts with the batch dimension,
reported as ``-1``. The gRPC API returns the same documents with 64-bit integers as strings, and
the config wrapped in ``{"config": ...}``; both forms are accepted here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from falcon_trial.errors import ModelNotFoundError


@dataclasses.dataclass(frozen=True)
class TensorSpec:
    """One input or output: ``shape`` excludes the batch dimension; ``-1`` marks a dynamic dim."""

    name: str
    datatype: str
    shape: tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    """The model as served: its tensors and whether requests carry a batch dimension."""

    name: str
    version: str
    platform: str
    max_batch_size: int
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]

    @property
    def batched(self) -> bool:
        """True when every request tensor starts with a batch dimension."""
        return self.max_batch_size > 0


def _ints(values: Any, what: str) -> tuple[int, ...]:
    if not isinstance(values, Sequence) or isinstance(values, str | bytes):
        raise ModelNotFoundError(f"{what}: expected a list of dimensions, got {values!r}")
    try:
        return tuple(int(v) for v in values)
    except (TypeError, ValueError) as exc:
        raise ModelNotFoundError(f"{what}: bad dimension in {values!r}") from exc


def _config_dims(config: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    dims: dict[str, tuple[int, ...]] = {}
    for entry in config.get("input") or ():
        if isinstance(entry, Mapping) and "name" in entry and "dims" in entry:
            dims[str(entry["name"])] = _ints(entry["dims"], f"config input {entry['name']}")
    return dims


def _specs(
    entries: Any, what: str, batched: bool, config_dims: Mapping[str, tuple[int, ...]]
) -> tuple[TensorSpec, ...]:
    if not isinstance(entries, Sequence) or isinstance(entries, str | bytes):
        raise ModelNotFoundError(f"model metadata has no {what} list")
    specs = []
    for entry in entries:
        if not isinstance(entry, Mapping) or not {"name", "datatype", "shape"} <= entry.keys():
            raise ModelNotFoundError(f"model metadata: malformed {what[:-1]} {entry!r}")
        name = str(entry["name"])
        shape = _ints(entry["shape"], f"{what[:-1]} {name}")
        # a batching model's metadata shape starts with the batch dim, unless the server
        # (not Triton) left it out: then it has exactly the config's dims
        if batched and shape and len(shape) != len(config_dims.get(name, ())):
            shape = shape[1:]
        specs.append(TensorSpec(name, str(entry["datatype"]).upper(), shape))
    return tuple(specs)


def parse_model(metadata: Mapping[str, Any], config: Mapping[str, Any]) -> ModelInfo:
    """The model from its metadata and config documents (HTTP or gRPC JSON form)."""
    inner = config.get("config")
    if isinstance(inner, Mapping):
        config = inner
    try:
        max_batch = int(config.get("max_batch_size", 0) or 0)
    except (TypeError, ValueError) as exc:
        raise ModelNotFoundError(f"model config: bad max_batch_size {config!r}") from exc
    dims = _config_dims(config)
    versions = metadata.get("versions") or []
    return ModelInfo(
        name=str(metadata.get("name", "")),
        version=str(versions[-1]) if isinstance(versions, Sequence) and versions else "",
        platform=str(metadata.get("platform", "")),
        max_batch_size=max_batch,
        inputs=_specs(metadata.get("inputs"), "inputs", max_batch > 0, dims),
        outputs=_specs(metadata.get("outputs", []), "outputs", max_batch > 0, {}),
    )
