"""Triton's Python-based backend ``onnxruntime``: ONNX models on CPU, timed like a simulated GPU.

Installed as ``<server root>/backends/onnxruntime/model.py``. Triton maps
``platform: "onnxruntime_onnx"`` to backend ``onnxruntime``; finding no
``libtriton_onnxruntime.so`` but this ``model.py``, it runs the model through its Python backend
with this class, so every config.pbtxt the project writes loads unchanged. Per model instance:

- ``auto_complete_config`` fills a config without inputs/outputs from the ONNX graph;
- ``initialize`` opens ``<repository>/<model>/<version>/model.onnx`` with onnxruntime (CPU;
  intra-op threads from the model config's ``intra_op_thread_count`` parameter, as Triton's own
  onnxruntime backend reads them, else ``FALCON_ORT_THREADS``, default 1) and, when
  ``FALCON_TRIAL_CONFIG`` is set, the simulated GPU (a model that does not fit in its memory
  fails to load: "out of memory");
- ``execute`` gets the batch Triton's dynamic batcher formed, runs it as one onnxruntime call
  and answers with the real outputs, after holding the batch until the simulated GPU would have
  finished it (the part of that time onnxruntime did not already take).

The stub runs Python isolated (``PYTHONPATH`` is ignored): falcon_operator comes from the
stub's site-packages, or from the folders listed in ``FALCON_PYTHONPATH``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import triton_python_backend_utils as pb_utils  # type: ignore[import-not-found]

for _entry in reversed(os.environ.get("FALCON_PYTHONPATH", "").split(os.pathsep)):
    if _entry and _entry not in sys.path:
        sys.path.insert(0, _entry)

from falcon_operator.triton.onnxio import Feeds, OnnxRunner, batch_size, io_entries  # noqa: E402

if TYPE_CHECKING:
    from falcon_operator.triton.simgpu import SimulatedGpu

THREADS_ENV = "FALCON_ORT_THREADS"
#: as core.knobs.ORT_THREADS_PARAMETER (not imported: this module runs in the backend stub)
THREADS_PARAMETER = "intra_op_thread_count"


def _model_file_of_this_stub() -> Path | None:
    """The model file Triton passed to this stub process (its first argument)."""
    try:
        args = Path("/proc/self/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    path = Path(args[1].decode()) if len(args) > 1 else None
    return path if path is not None and path.is_file() else None


def _threads(config: dict[str, Any]) -> int:
    """Intra-op threads: the config's ``intra_op_thread_count``, else the environment, else 1."""
    entry = (config.get("parameters") or {}).get(THREADS_PARAMETER) or {}
    text = str(entry.get("string_value", "")).strip() if isinstance(entry, dict) else ""
    return int(text) if text.isdigit() and int(text) > 0 else int(os.environ.get(THREADS_ENV) or 1)


class TritonPythonModel:
    """One instance of an ``onnxruntime_onnx`` model."""

    @staticmethod
    def auto_complete_config(auto_complete_model_config: Any) -> Any:
        config = auto_complete_model_config.as_dict()
        if config.get("input") and config.get("output"):
            return auto_complete_model_config
        path = _model_file_of_this_stub()
        if path is None:
            return auto_complete_model_config
        inputs, outputs = io_entries(path, max_batch_size=int(config.get("max_batch_size", 0)))
        if not config.get("input"):
            for entry in inputs:
                auto_complete_model_config.add_input(entry)
        if not config.get("output"):
            for entry in outputs:
                auto_complete_model_config.add_output(entry)
        return auto_complete_model_config

    def initialize(self, args: dict[str, str]) -> None:
        config = json.loads(args["model_config"])
        filename = config.get("default_model_filename") or "model.onnx"
        path = Path(args["model_repository"]) / args["model_version"] / filename
        self.name = args["model_instance_name"]
        self.batching = int(config.get("max_batch_size", 0)) > 0
        self.inputs = [i["name"] for i in config.get("input", [])]
        self.outputs = [o["name"] for o in config.get("output", [])]
        self.runner = OnnxRunner(path, threads=_threads(config))
        if not self.outputs:
            self.outputs = [o.name for o in self.runner.session.get_outputs()]
        self.gpu: SimulatedGpu | None = None
        if os.environ.get("FALCON_TRIAL_CONFIG", "").strip():
            # the simulated GPU's imports (onnx analysis, the fleet model) only when it plays one:
            # a plain onnxruntime instance (a live trial) starts without them
            from falcon_operator.fleet.workload import workload_from_onnx
            from falcon_operator.triton.simgpu import SimulatedGpu

            workload, _ = workload_from_onnx(path)
            self.gpu = SimulatedGpu.from_env(workload, os.environ)
        if self.gpu is not None:
            self.gpu.check_memory(int(config.get("max_batch_size", 0)))
            pb_utils.Logger.log_info(f"{self.name}: {self.gpu.describe()}")
        else:
            threads = self.runner.session.get_session_options().intra_op_num_threads
            pb_utils.Logger.log_info(
                f"{self.name}: onnxruntime on CPU, {threads} intra-op threads, no simulated GPU"
            )

    def _feeds(self, request: Any) -> Feeds:
        feeds = {}
        for name in self.inputs:
            tensor = pb_utils.get_input_tensor_by_name(request, name)
            if tensor is not None:
                feeds[name] = tensor.as_numpy()
        return feeds

    def execute(self, requests: list[Any]) -> list[Any]:
        arrival = time.monotonic()
        try:
            feeds = [self._feeds(r) for r in requests]
            end = None
            if self.gpu is not None:
                _, end = self.gpu.reserve(
                    batch_size(feeds, batching=self.batching), arrival=arrival
                )
            results = self.runner.run(feeds, self.outputs, batching=self.batching)
        except Exception as exc:  # onnxruntime's own exceptions: answer, do not crash
            error = pb_utils.TritonError(f"onnxruntime failed: {exc}")
            return [pb_utils.InferenceResponse(output_tensors=[], error=error) for _ in requests]
        if end is not None:
            from falcon_operator.triton.simgpu import wait_until

            wait_until(end)
        return [
            pb_utils.InferenceResponse(
                output_tensors=[pb_utils.Tensor(name, out[name]) for name in self.outputs]
            )
            for out in results
        ]

    def finalize(self) -> None:
        self.gpu = None
