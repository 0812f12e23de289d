"""The one Triton model-config renderer: the JSON form and its config.pbtxt rendering.

Every model config the project writes comes from :func:`model_config`: the trial pod's
config.pbtxt, the JSON a reused pod is reloaded with (``parameters.config`` of a repository-API
load request), the recommended Deployment's ConfigMap and the test repositories of real Triton.
The knobs' fields (batch size → ``max_batch_size`` and the dynamic batcher's preferred size,
instances → ``instance_group``) come from the knob registry; ``spec.model.modelConfig`` is merged
under them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from falcon_operator.core.knobs import render
from falcon_operator.core.space import Value

PLATFORM = "onnxruntime_onnx"
QUEUE_DELAY_US = 2000


def model_config(
    model: str, config: Mapping[str, Value], *, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The model config serving ``model`` in the configuration ``config`` (knob → value)."""
    out: dict[str, Any] = {"platform": PLATFORM, **dict(extra or {})}
    out["name"] = model
    for key, value in render(config).model_config.items():
        current = out.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            value = {**current, **value}
        out[key] = value
    if "dynamic_batching" in out:
        out["dynamic_batching"] = dict(out["dynamic_batching"])
        out["dynamic_batching"].setdefault("max_queue_delay_microseconds", QUEUE_DELAY_US)
    return out


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    # protobuf enum values (KIND_GPU, TYPE_FP32) are bare words; everything else is a string
    return text if text.isupper() and text.replace("_", "").isalnum() else json.dumps(text)


def _render(config: Mapping[str, Any], indent: int) -> list[str]:
    pad = "  " * indent
    lines: list[str] = []
    for key, value in config.items():
        if key == "parameters" and isinstance(value, Mapping):
            # a protobuf map: one {key, value} entry per parameter (Triton's JSON form is a dict)
            for name, entry in value.items():
                entry = {"key": name, "value": entry}
                lines += [f"{pad}{key} {{", *_render(entry, indent + 1), f"{pad}}}"]
        elif isinstance(value, Mapping):
            lines += [f"{pad}{key} {{", *_render(value, indent + 1), f"{pad}}}"]
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            lines.append(f"{pad}{key} [")
            for i, item in enumerate(value):
                lines += [f"{pad}  {{", *_render(item, indent + 2), f"{pad}  }}"]
                if i < len(value) - 1:
                    lines[-1] += ","
            lines.append(f"{pad}]")
        elif isinstance(value, list):
            lines.append(f"{pad}{key}: [{', '.join(_scalar(v) for v in value)}]")
        else:
            lines.append(f"{pad}{key}: {_scalar(value)}")
    return lines


def to_pbtxt(config: Mapping[str, Any]) -> str:
    """Protobuf text format of a JSON model config (what config.pbtxt holds)."""
    return "\n".join(_render(config, 0)) + "\n"
