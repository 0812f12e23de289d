"""The inputs of one Triton Model Analyzer run: the model's base config and the profile YAML.

MA 1.58 in remote launch mode does not serve its generated variants from the output repository:
it loads the *original* model by name with each variant's config as a load override (the
output repository only receives each variant's config.pbtxt). So our Triton serves the input
repository, which holds the model with :func:`base_config`:

- static input dims (``max_batch_size`` > 0): perf_analyzer then needs no ``--shape``; with
  the ONNX file's ``[N, 3, H, W]`` as dims it refuses the model ("contains dynamic shape");
- an explicit ``instance_group`` (KIND_CPU) and the smallest batch size, so MA's
  ``<model>_config_default`` variant is a configuration of our space (without it Triton 2.51
  serves a CPU model with 2 instances while MA's report says 1).

What MA searches with the bounds of :func:`profile_config` (``run_config_search_*``): instance
counts every integer from min to max, ``max_batch_size`` and concurrency the *powers of two*
from min to max. Lists that are not such ranges are therefore not what MA sweeps: only their
min and max reach it. Brute mode measures all of it (per config MA may stop the concurrency
sweep early once throughput stops growing); quick mode climbs from the minimum. Every
generated variant has dynamic batching on (MA's default in automatic search) and
``KIND_CPU`` instances (``cpu_only: true``; without it MA writes ``KIND_GPU`` and the loads
fail); with ``cpu_only`` MA does not collect GPU metrics, so it does not log "No GPU metric".
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from falcon_operator.triton.onnxio import io_entries

MODES = ("quick", "brute")
#: perf_analyzer flags MA passes on, so that one measurement is comparable to ours: 2 s windows,
#: 10 % stability, and zero-filled inputs (random integers would be out-of-range ids for an
#: embedding's Gather; falcon-trial draws integers from {0, 1} for the same reason)
PERF_ANALYZER_FLAGS = {
    "measurement-interval": 2000,
    "stability-percentage": 10,
    "input-data": "zero",
}
#: the columns of results/metrics-model-inference.csv that analyzer_results reads
INFERENCE_FIELDS = [
    "model_name", "batch_size", "concurrency", "model_config_path", "instance_group",
    "max_batch_size", "satisfies_constraints", "perf_throughput", "perf_latency_p99",
]  # fmt: skip


def base_config(name: str, onnx: Path, *, max_batch_size: int, instances: int) -> dict[str, Any]:
    """The model's config in MA's input repository (JSON form for ``write_model``)."""
    inputs, outputs = io_entries(onnx, max_batch_size=max_batch_size)
    return {
        "name": name,
        "platform": "onnxruntime_onnx",
        "max_batch_size": max_batch_size,
        "input": inputs,
        "output": outputs,
        "instance_group": [{"kind": "KIND_CPU", "count": instances}],
    }


def _bounds(name: str, values: Sequence[int]) -> tuple[int, int]:
    if not values or min(values) < 1:
        raise ValueError(f"{name} must be positive integers, got {list(values)}")
    return min(values), max(values)


def profile_config(
    model: str,
    *,
    mode: str,
    slo_p99_ms: float,
    instances: Sequence[int],
    batch_sizes: Sequence[int],
    concurrencies: Sequence[int],
    paths: dict[str, Path],
    endpoints: dict[str, str],
) -> dict[str, Any]:
    """MA's profile config. ``paths``: repository, output, export, checkpoints, perf_analyzer;
    ``endpoints``: http and grpc (host:port) and metrics (URL) of the running Triton."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    lo_i, hi_i = _bounds("instances", instances)
    lo_b, hi_b = _bounds("batch_sizes", batch_sizes)
    lo_c, hi_c = _bounds("concurrencies", concurrencies)
    return {
        "model_repository": str(paths["repository"]),
        "output_model_repository_path": str(paths["output"]),
        "override_output_model_repository": True,
        "export_path": str(paths["export"]),
        "checkpoint_directory": str(paths["checkpoints"]),
        "perf_analyzer_path": str(paths["perf_analyzer"]),
        "triton_launch_mode": "remote",
        # perf_analyzer over HTTP, the protocol falcon-trial uses by default
        "client_protocol": "http",
        "triton_http_endpoint": endpoints["http"],
        "triton_grpc_endpoint": endpoints["grpc"],
        "triton_metrics_url": endpoints["metrics"],
        "run_config_search_mode": mode,
        "run_config_search_min_instance_count": lo_i,
        "run_config_search_max_instance_count": hi_i,
        "run_config_search_min_model_batch_size": lo_b,
        "run_config_search_max_model_batch_size": hi_b,
        "run_config_search_min_concurrency": lo_c,
        "run_config_search_max_concurrency": hi_c,
        "perf_analyzer_flags": dict(PERF_ANALYZER_FLAGS),
        "inference_output_fields": list(INFERENCE_FIELDS),
        "profile_models": {
            model: {
                "cpu_only": True,
                "objectives": {"perf_throughput": 10},
                "constraints": {"perf_latency_p99": {"max": slo_p99_ms}},
            }
        },
    }


def profile_yaml(config: dict[str, Any]) -> str:
    """The config as the YAML file ``model-analyzer profile -f`` reads."""
    return yaml.safe_dump(config, sort_keys=False)
