"""A Triton-compatible test server: KServe v2 HTTP API, Triton's metrics, a real dynamic batcher.

It stands in for Triton Inference Server in tests and on clusters without GPUs. Backends:
:class:`SimulatedBackend` (service times from the simulated GPU fleet) and
:class:`OnnxRuntimeBackend` (runs the ONNX model on the CPU). See docs/testserver.md.

Modules: ``server`` / ``threaded`` (start and stop), ``app`` (endpoints), ``model`` (the served
model), ``batcher`` (dynamic batching), ``codec`` (request and response bodies), ``config``
(model config), ``exposition`` / ``stats`` (metrics), ``simulated`` / ``onnxrt`` (backends),
``faults`` (fault injection), ``cli`` (``falcon-triton-sim``).
"""

from falcon_trial.testserver.backend import Backend, Executed, GpuGauges
from falcon_trial.testserver.config import ModelConfig
from falcon_trial.testserver.errors import ConfigError, RequestError, TestServerError
from falcon_trial.testserver.faults import Faults
from falcon_trial.testserver.onnxrt import OnnxRuntimeBackend
from falcon_trial.testserver.server import TestServer
from falcon_trial.testserver.simulated import SimulatedBackend
from falcon_trial.testserver.threaded import RunningServer, running_server

__all__ = [
    "Backend",
    "ConfigError",
    "Executed",
    "Faults",
    "GpuGauges",
    "ModelConfig",
    "OnnxRuntimeBackend",
    "RequestError",
    "RunningServer",
    "SimulatedBackend",
    "TestServer",
    "TestServerError",
    "running_server",
]
