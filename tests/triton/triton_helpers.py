"""Helpers of the real-Triton tests: shipped models, a server fixture's start, inference calls.

A missing server root is a test *failure* that says "run make triton", never a skip.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
import tritonclient.http as http

from falcon_operator.metrics import Snapshot, scrape_settled
from falcon_operator.triton.server import TritonError, TritonServer

MODELS = Path(__file__).resolve().parents[2] / "operator" / "falcon_operator" / "data" / "models"
RESNET = MODELS / "resnet-mini.onnx"
VGG = MODELS / "vgg-plain.onnx"
T4 = {"gputype": "T4", "cpus": 4, "batchsize": 8, "gpupower": 100, "gpumem": 0.0}


def trial_env(config: Mapping[str, Any], **extra: str) -> dict[str, str]:
    """The simulated-GPU variables of a Triton container in ``config``."""
    return {"FALCON_TRIAL_CONFIG": json.dumps(dict(config), sort_keys=True), **extra}


def started(repository: Path, *, env: Mapping[str, str] | None = None) -> TritonServer:
    """A running server on loopback; pytest.fail (not skip) when Triton is not installed."""
    try:
        log = repository.with_name(f"{repository.name}-tritonserver.log")  # in pytest's tmp
        return TritonServer(repository, env=env, log_path=log).start()
    except TritonError as exc:
        message = str(exc)
    pytest.fail(message, pytrace=False)


def client(server: TritonServer) -> http.InferenceServerClient:
    return http.InferenceServerClient(server.url.removeprefix("http://"), network_timeout=120.0)


def sample(onnx_path: Path, batch: int, *, seed: int = 0) -> tuple[str, np.ndarray[Any, Any]]:
    """(input name, a random FP32 batch) for the model's single input."""
    (inp,) = ort.InferenceSession(str(onnx_path)).get_inputs()
    shape = [batch, *(int(d) for d in inp.shape[1:])]
    return inp.name, np.random.default_rng(seed).random(shape, dtype=np.float32)


def infer(
    c: http.InferenceServerClient, model: str, name: str, x: np.ndarray[Any, Any]
) -> dict[str, np.ndarray[Any, Any]]:
    """One request; every output of the model as numpy."""
    item = http.InferInput(name, list(x.shape), "FP32")
    item.set_data_from_numpy(x)
    result = c.infer(model, [item])
    outputs = result.get_response()["outputs"]
    return {o["name"]: result.as_numpy(o["name"]) for o in outputs}


def reference(onnx_path: Path, name: str, x: np.ndarray[Any, Any]) -> dict[str, Any]:
    """onnxruntime run directly on the same input."""
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, {name: x}), strict=True))


def settled(server: TritonServer, model: str) -> Snapshot:
    """A scrape once the model's counters stopped moving (the operator's own
    :func:`~falcon_operator.metrics.scrape_settled`)."""
    return scrape_settled(server.metrics_url, model=model)
