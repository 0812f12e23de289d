"""Triton model configurations of a trial: the JSON form and its config.pbtxt rendering.

The JSON form is what Triton's repository API takes (``parameters.config`` of a load request,
used to reuse a running pod for another batch size); config.pbtxt is what the trial pod's
model repository holds. ``spec.model.modelConfig`` is merged under the search's own fields.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

PLATFORM = "onnxruntime_onnx"
QUEUE_DELAY_US = 2000


def model_config(
    model: str, batch: int, *, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The model config of one trial: dynamic batching towards ``batch``."""
    config: dict[str, Any] = {"platform": PLATFORM, **dict(extra or {})}
    batching = dict(config.get("dynamic_batching") or {})
    batching["preferred_batch_size"] = [batch]
    batching.setdefault("max_queue_delay_microseconds", QUEUE_DELAY_US)
    config.update(name=model, max_batch_size=batch, dynamic_batching=batching)
    return config


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
        if isinstance(value, Mapping):
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
