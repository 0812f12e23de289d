"""The served model's configuration, and its Triton JSON forms (metadata, model config).

A load request may carry ``parameters.config``: a JSON string in Triton's model-config schema.
The test server applies the fields it models — ``max_batch_size``,
``dynamic_batching.preferred_batch_size``, ``dynamic_batching.max_queue_delay_microseconds`` and
``instance_group[0].count`` — and ignores the rest (inputs and outputs come from the model file).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from falcon_trial.testserver.errors import ConfigError
from falcon_trial.testserver.tensors import ModelSignature, TensorSpec


@dataclass(frozen=True)
class ModelConfig:
    """What the scheduler needs: batch limit, preferred batches, queue delay, instances."""

    max_batch_size: int
    preferred_batch_sizes: tuple[int, ...] = ()
    max_queue_delay_us: int = 1000
    instance_count: int = 1

    def __post_init__(self) -> None:
        if self.max_batch_size < 0 or self.max_queue_delay_us < 0 or self.instance_count < 1:
            raise ConfigError(
                f"need max batch size ≥ 0, max queue delay ≥ 0 and instance count ≥ 1; got "
                f"{self.max_batch_size}, {self.max_queue_delay_us} µs, {self.instance_count}"
            )
        if any(not 1 <= p <= max(self.max_batch_size, 1) for p in self.preferred_batch_sizes):
            raise ConfigError(
                f"preferred batch sizes {list(self.preferred_batch_sizes)} must lie in "
                f"1..max_batch_size ({self.max_batch_size})"
            )

    @property
    def batch_target(self) -> int:
        """The batch the scheduler waits for: the largest preferred size, else the maximum."""
        return max(self.preferred_batch_sizes, default=max(self.max_batch_size, 1))


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ConfigError(f"config {what} must be an integer, got {value!r}")
    try:
        return int(value)  # protobuf JSON writes 64-bit integers as strings
    except ValueError:
        raise ConfigError(f"config {what} must be an integer, got {value!r}") from None


def apply_override(config: ModelConfig, text: str, *, batching: bool) -> ModelConfig:
    """``config`` with the fields of the Triton model-config JSON ``text`` applied."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"parameters.config is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError("parameters.config must be a JSON object")
    changes: dict[str, Any] = {}
    if "max_batch_size" in data:
        changes["max_batch_size"] = _int(data["max_batch_size"], "max_batch_size")
        if not batching and changes["max_batch_size"] != 0:
            raise ConfigError("the model has no dynamic batch dimension: max_batch_size must be 0")
        changes["preferred_batch_sizes"] = ()
    dynamic = data.get("dynamic_batching")
    if isinstance(dynamic, dict):
        if "preferred_batch_size" in dynamic:
            sizes = dynamic["preferred_batch_size"]
            if not isinstance(sizes, list):
                raise ConfigError("dynamic_batching.preferred_batch_size must be a list")
            changes["preferred_batch_sizes"] = tuple(_int(s, "preferred_batch_size") for s in sizes)
        if "max_queue_delay_microseconds" in dynamic:
            delay = dynamic["max_queue_delay_microseconds"]
            changes["max_queue_delay_us"] = _int(delay, "max_queue_delay_microseconds")
    groups = data.get("instance_group")
    if isinstance(groups, list) and groups and isinstance(groups[0], dict) and "count" in groups[0]:
        changes["instance_count"] = _int(groups[0]["count"], "instance_group.count")
    return dataclasses.replace(config, **changes)


def metadata_json(name: str, sig: ModelSignature, platform: str) -> dict[str, Any]:
    """``GET /v2/models/{name}``: the KServe v2 model metadata."""

    def tensor(s: TensorSpec) -> dict[str, Any]:
        return {"name": s.name, "datatype": s.datatype, "shape": list(s.shape)}

    return {
        "name": name,
        "versions": ["1"],
        "platform": platform,
        "inputs": [tensor(s) for s in sig.inputs],
        "outputs": [tensor(s) for s in sig.outputs],
    }


def config_json(
    name: str, sig: ModelSignature, config: ModelConfig, *, platform: str, kind: str
) -> dict[str, Any]:
    """``GET /v2/models/{name}/config``: the model config as Triton returns it (main fields)."""
    dims = {s.name: s.config_dims(sig.batching) for s in sig.inputs + sig.outputs}
    return {
        "name": name,
        "platform": platform,
        "backend": platform.split("_")[0],
        "version_policy": {"latest": {"num_versions": 1}},
        "max_batch_size": config.max_batch_size,
        "input": [
            {
                "name": s.name,
                "data_type": f"TYPE_{s.datatype}",
                "format": "FORMAT_NONE",
                "dims": dims[s.name],
                "is_shape_tensor": False,
                "allow_ragged_batch": False,
                "optional": False,
            }
            for s in sig.inputs
        ],
        "output": [
            {
                "name": s.name,
                "data_type": f"TYPE_{s.datatype}",
                "dims": dims[s.name],
                "label_filename": "",
                "is_shape_tensor": False,
            }
            for s in sig.outputs
        ],
        "dynamic_batching": {
            "preferred_batch_size": list(config.preferred_batch_sizes),
            "max_queue_delay_microseconds": config.max_queue_delay_us,
            "preserve_ordering": False,
        },
        "instance_group": [
            {
                "name": name,
                "kind": kind,
                "count": config.instance_count,
                "gpus": [0] if kind == "KIND_GPU" else [],
            }
        ],
        "default_model_filename": "model.onnx",
        "parameters": {},
    }
