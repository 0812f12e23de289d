"""Names of the Triton Inference Server metrics the operator reads (port 8002, ``/metrics``).

Per-model series carry the labels ``model`` and ``version`` (``nv_inference_request_failure``
also ``reason`` in recent releases); GPU series carry ``gpu_uuid``. Counts and cumulative
durations (microseconds) are counters; GPU readings are gauges sampled every
``--metrics-interval-ms``. Source: Triton's user guide, "Metrics".
"""

from __future__ import annotations

REQUEST_SUCCESS = "nv_inference_request_success"  #: successful requests (a batch-n request is 1)
REQUEST_FAILURE = "nv_inference_request_failure"  #: failed requests
INFERENCE_COUNT = "nv_inference_count"  #: inferences (a batch-n request is n)
EXEC_COUNT = "nv_inference_exec_count"  #: batch executions
REQUEST_DURATION_US = "nv_inference_request_duration_us"  #: end-to-end handling time
QUEUE_DURATION_US = "nv_inference_queue_duration_us"  #: time waiting in the scheduler queue
COMPUTE_INPUT_DURATION_US = "nv_inference_compute_input_duration_us"
COMPUTE_INFER_DURATION_US = "nv_inference_compute_infer_duration_us"  #: time executing the model
COMPUTE_OUTPUT_DURATION_US = "nv_inference_compute_output_duration_us"
PENDING_REQUESTS = "nv_inference_pending_request_count"  #: gauge: requests waiting right now

GPU_UTILIZATION = "nv_gpu_utilization"  #: gauge, 0.0 - 1.0
GPU_MEMORY_TOTAL_BYTES = "nv_gpu_memory_total_bytes"
GPU_MEMORY_USED_BYTES = "nv_gpu_memory_used_bytes"
GPU_POWER_USAGE = "nv_gpu_power_usage"  #: gauge, watts
GPU_POWER_LIMIT = "nv_gpu_power_limit"  #: gauge, watts

MODEL_COUNTERS = (
    REQUEST_SUCCESS,
    REQUEST_FAILURE,
    INFERENCE_COUNT,
    EXEC_COUNT,
    REQUEST_DURATION_US,
    QUEUE_DURATION_US,
    COMPUTE_INFER_DURATION_US,
)
GPU_GAUGES = (GPU_UTILIZATION, GPU_MEMORY_USED_BYTES, GPU_POWER_USAGE, GPU_POWER_LIMIT)
