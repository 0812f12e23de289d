"""``GET /metrics``: Triton's metric names, types, HELP texts and labels, in text format 0.0.4.

Per-model series have ``model`` and ``version`` labels (failures also ``reason``); GPU gauges
have ``gpu_uuid``. An unloaded model has no series, as in Triton.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from falcon_trial.testserver.backend import GpuGauges
from falcon_trial.testserver.stats import FAILURE_REASONS, ModelStats

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_MODEL_COUNTERS: tuple[tuple[str, str, Callable[[ModelStats], int]], ...] = (
    ("nv_inference_count", "Number of inferences performed (does not include cached requests)",
     lambda s: s.inferences),
    ("nv_inference_exec_count",
     "Number of model executions performed (does not include cached requests)",
     lambda s: s.executions),
    ("nv_inference_request_duration_us",
     "Cumulative inference request duration in microseconds (includes cached requests)",
     lambda s: s.request_us),
    ("nv_inference_queue_duration_us",
     "Cumulative inference queuing duration in microseconds (includes cached requests)",
     lambda s: s.queue_us),
    ("nv_inference_compute_input_duration_us",
     "Cumulative compute input duration in microseconds (does not include cached requests)",
     lambda s: s.compute_input_us),
    ("nv_inference_compute_infer_duration_us",
     "Cumulative compute inference duration in microseconds (does not include cached requests)",
     lambda s: s.compute_infer_us),
    ("nv_inference_compute_output_duration_us",
     "Cumulative inference compute output duration in microseconds "
     "(does not include cached requests)",
     lambda s: s.compute_output_us),
)  # fmt: skip

_GPU_GAUGES: tuple[tuple[str, str, Callable[[GpuGauges], float]], ...] = (
    ("nv_gpu_utilization", "GPU utilization rate [0.0 - 1.0)", lambda g: g.utilization),
    ("nv_gpu_memory_total_bytes", "GPU total memory, in bytes", lambda g: g.memory_total_bytes),
    ("nv_gpu_memory_used_bytes", "GPU used memory, in bytes", lambda g: g.memory_used_bytes),
    ("nv_gpu_power_usage", "GPU power usage in watts", lambda g: g.power_w),
    ("nv_gpu_power_limit", "GPU power management limit in watts", lambda g: g.power_limit_w),
)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _family(lines: list[str], name: str, kind: str, text: str) -> None:
    lines.append(f"# HELP {name} {text}")
    lines.append(f"# TYPE {name} {kind}")


def render(
    model: str,
    stats: ModelStats | None,
    pending: int,
    gpus: Sequence[GpuGauges],
    *,
    version: str = "1",
) -> str:
    """The whole metrics page for one model (``stats`` None: the model is not loaded)."""
    lines: list[str] = []
    model = _escape(model)
    labels = f'model="{model}",version="{version}"'
    if stats is not None:
        _family(lines, "nv_inference_request_success", "counter",
                "Number of successful inference requests, all batch sizes")  # fmt: skip
        lines.append(f"nv_inference_request_success{{{labels}}} {stats.success}")
        _family(lines, "nv_inference_request_failure", "counter",
                "Number of failed inference requests, all batch sizes")  # fmt: skip
        for reason in FAILURE_REASONS:
            lines.append(
                f'nv_inference_request_failure{{model="{model}",reason="{reason}",'
                f'version="{version}"}} {stats.failure[reason]}'
            )
        for name, text, value in _MODEL_COUNTERS:
            _family(lines, name, "counter", text)
            lines.append(f"{name}{{{labels}}} {value(stats)}")
        pending_help = "Instantaneous number of pending requests awaiting execution per-model."
        _family(lines, "nv_inference_pending_request_count", "gauge", pending_help)
        lines.append(f"nv_inference_pending_request_count{{{labels}}} {pending}")
    for name, text, gauge in _GPU_GAUGES if gpus else ():
        _family(lines, name, "gauge", text)
        lines.extend(f'{name}{{gpu_uuid="{g.uuid}"}} {gauge(g):.6f}' for g in gpus)
    return "\n".join(lines) + "\n"
