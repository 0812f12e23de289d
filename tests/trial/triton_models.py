"""Tiny Python-backend models for real Triton: the runner's tests build their model repository here.

Every model runs the same ``model.py`` (below), steered by parameters of its ``config.pbtxt``:

- ``service_ms``: each execution (one batch) holds the instance this long, so an instance serves
  at most ``1000 / service_ms`` executions per second: a known capacity;
- ``fail_execute``: every request fails with ``model exploded`` (a ``TritonModelException``);
- ``fail_initialize``: the model cannot load (the server then answers not ready);
- ``init_sleep_s``: loading takes this long (the server is not ready meanwhile);
- ``expect_dim``: every request's ``-1`` dimensions must equal this value and the others the
  config's, else the request fails with ``unexpected shape``: the tests check that the runner
  shaped the inputs from the metadata.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from falcon_operator.triton.server import TritonServer

MODEL_PY = '''\
"""A test model for the falcon-trial tests (tests/trial/triton_models.py)."""
import json
import time

import numpy as np
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        params = {k: v["string_value"] for k, v in config.get("parameters", {}).items()}
        if params.get("fail_initialize") == "1":
            raise RuntimeError("this model cannot initialize")
        time.sleep(float(params.get("init_sleep_s", "0")))
        self.service_s = float(params.get("service_ms", "0")) / 1000.0
        self.fail = params.get("fail_execute") == "1"
        self.expect_dim = int(params.get("expect_dim", "0"))
        self.dims = {i["name"]: [int(d) for d in i["dims"]] for i in config["input"]}
        self.batched = int(config.get("max_batch_size", 0)) > 0

    def _check(self, request):
        for name, dims in self.dims.items():
            shape = pb_utils.get_input_tensor_by_name(request, name).as_numpy().shape
            want = [self.expect_dim if d < 0 else d for d in dims]
            got = list(shape[1:] if self.batched else shape)
            if self.expect_dim and got != want:
                return f"unexpected shape {shape} of {name}"
        return None

    def execute(self, requests):
        if self.service_s:
            time.sleep(self.service_s)
        if self.fail:
            raise pb_utils.TritonModelException("model exploded")
        responses = []
        for request in requests:
            problem = self._check(request)
            if problem:
                responses.append(pb_utils.InferenceResponse(error=pb_utils.TritonError(problem)))
                continue
            first = pb_utils.get_input_tensor_by_name(request, next(iter(self.dims))).as_numpy()
            count = np.full((first.shape[0], 1) if self.batched else (1,), first.size, np.int64)
            responses.append(pb_utils.InferenceResponse([pb_utils.Tensor("COUNT", count)]))
        return responses
'''


@dataclasses.dataclass(frozen=True)
class Tensor:
    """One input: name, Triton config type (``TYPE_FP32``...) and dims without the batch dim."""

    name: str
    data_type: str = "TYPE_FP32"
    dims: tuple[int, ...] = (4,)

    def entry(self) -> str:
        """Its entry in the config's ``input`` list."""
        dims = ", ".join(map(str, self.dims))
        return f'{{ name: "{self.name}" data_type: {self.data_type} dims: [ {dims} ] }}'


@dataclasses.dataclass(frozen=True)
class PyModel:
    """One model of the repository: its inputs, batching and behaviour (parameters above)."""

    name: str
    inputs: tuple[Tensor, ...] = (Tensor("INPUT0"),)
    max_batch_size: int = 8
    instances: int = 1
    service_ms: float = 0.0
    fail_execute: bool = False
    fail_initialize: bool = False
    expect_dim: int = 0
    init_sleep_s: float = 0.0

    def config(self) -> str:
        """The ``config.pbtxt`` text."""
        inputs = ", ".join(t.entry() for t in self.inputs)
        params = {
            "service_ms": f"{self.service_ms:g}",
            "fail_execute": str(int(self.fail_execute)),
            "fail_initialize": str(int(self.fail_initialize)),
            "expect_dim": str(self.expect_dim),
            "init_sleep_s": f"{self.init_sleep_s:g}",
        }
        parameters = "\n".join(
            f'parameters {{ key: "{k}" value: {{ string_value: "{v}" }} }}'
            for k, v in params.items()
        )
        return (
            f'name: "{self.name}"\nbackend: "python"\nmax_batch_size: {self.max_batch_size}\n'
            f"input [ {inputs} ]\n"
            'output [ { name: "COUNT" data_type: TYPE_INT64 dims: [ 1 ] } ]\n'
            f"instance_group [ {{ kind: KIND_CPU count: {self.instances} }} ]\n{parameters}\n"
        )

    def write(self, repository: Path) -> Path:
        """Write ``repository/<name>/config.pbtxt`` and ``1/model.py``; the model directory."""
        folder = repository / self.name
        (folder / "1").mkdir(parents=True, exist_ok=True)
        (folder / "config.pbtxt").write_text(self.config())
        (folder / "1" / "model.py").write_text(MODEL_PY)
        return folder


def write_repository(repository: Path, models: tuple[PyModel, ...]) -> Path:
    """A model repository holding ``models``; its path."""
    repository.mkdir(parents=True, exist_ok=True)
    for model in models:
        model.write(repository)
    return repository


CAPPED = PyModel("capped", instances=2, service_ms=10.0)
"""Two instances holding each execution 10 ms: at most 200 requests/s at batch 1."""
CAPPED_RPS = 2 * 1000.0 / CAPPED.service_ms
FAILING = PyModel("failing", fail_execute=True)
"""Every request fails with ``model exploded``."""
MIXED = PyModel(
    "mixed",
    inputs=(
        Tensor("ids", "TYPE_INT64", (-1,)),
        Tensor("pixels", "TYPE_FP32", (3, -1)),
        Tensor("mask", "TYPE_BOOL", (-1,)),
        Tensor("code", "TYPE_INT8", (2,)),
    ),
    max_batch_size=4,
    expect_dim=5,
)
"""Four inputs of four datatypes with dynamic dimensions, which must be 5; batches up to 4.
No BYTES input: Triton 2.51's Python backend stub dies decoding one with this venv's numpy 2
("unpack_from requires a buffer of at least 269488148 bytes"), whatever the client sends."""
UNBATCHED = PyModel("unbatched", inputs=(Tensor("x", "TYPE_FP16", (2, -1)),), max_batch_size=0)
"""A model without a batch dimension."""
UNLOADED = PyModel("unloaded")
"""In the repository, never loaded."""
BROKEN = PyModel("broken", fail_initialize=True)
"""Fails to load (its ``initialize`` raises)."""
SLOW = PyModel("slow", init_sleep_s=3.0)
"""Takes 3 s to load."""
SHARED_MODELS = (CAPPED, FAILING, MIXED, UNBATCHED, UNLOADED, BROKEN, SLOW)
LOADED = (CAPPED, FAILING, MIXED, UNBATCHED)
"""The models the shared server loads at start."""

ServerFactory = Callable[..., TritonServer]
"""The ``fresh_server`` fixture: ``start(*models)`` starts a server of one's own (conftest.py)."""
